"""R6: the outbox of records waiting for the traceability platform, and the
upload schedule. Bookkeeping of the sender, not archive content: see
``app.services.audit.UNAUDITED`` for why these tables are outside the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

# pending: waiting (first try, or again after a transient failure);
# sent: handed to the platform, receipt not yet recorded (a sender holds it
# until claimed_until); acknowledged: the platform's receipt is kept and it is
# never sent again; rejected: the platform refused it for good, with reason.
OUTBOX_STATUSES = ("pending", "sent", "acknowledged", "rejected")


class OutboxEntry(Base):
    """One message for the platform: a finalised record, as our data elements."""

    __tablename__ = "platform_outbox"
    __label__ = "平台上传队列"
    __table_args__ = (
        UniqueConstraint("source_table", "source_id", "version"),
        Index("ix_platform_outbox_due", "status", "next_attempt_at"),
    )
    kind: Mapped[str] = mapped_column(String(20))  # enterprise, purchase, sale, recall
    source_table: Mapped[str] = mapped_column(String(60))
    source_id: Mapped[int]
    # 1 for the first message about a record; +1 for each change after one was sent.
    version: Mapped[int]
    # Stable across retries: the platform recognises a message it already has.
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    label: Mapped[str] = mapped_column(String(200))  # e.g. the receipt number, for the status panel
    payload: Mapped[str] = mapped_column(Text)  # JSON of our data elements
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    receipt_id: Mapped[str | None] = mapped_column(String(100))
    receipt: Mapped[str | None] = mapped_column(Text)  # the platform's receipt for this record, JSON
    reason: Mapped[str | None] = mapped_column(Text)  # rejection reason, or the last transient failure


class UploadSchedule(Base):
    """One row: when the next scheduled upload is due and when one last succeeded.
    Kept in the database so a restart or a sleeping PC catches up."""

    __tablename__ = "platform_schedule"
    __label__ = "平台上传计划"
    next_due: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_run: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_success: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
