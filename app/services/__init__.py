"""Business rules (Qt-free). Every function takes a Session and never commits:
the caller owns the transaction (``with Session.begin() as s: ...``)."""

from . import audit, column_guard, guards  # noqa: F401  (install the flush listeners)
from app.platform import outbox  # noqa: E402,F401  (finalising a record queues it for the platform, R6.1)
