"""The shared vocabulary of the ledger declarations: kept in app/models/choices.py,
where the database's CHECK constraints (app/models/domains.py) read it too."""

from app.models.choices import *  # noqa: F401,F403
