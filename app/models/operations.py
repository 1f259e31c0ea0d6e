"""Keeping the archive safe (R5.3): the record of every backup made.

Bookkeeping, like the upload schedule: a row is written after the copy it
describes is made, so no backup contains its own row, and writing it on
every run would only churn the audit chain (``audit.UNAUDITED``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class BackupRun(Base):
    """One backup: where it went, whether its verification passed, and why not."""

    __tablename__ = "backup_run"
    __label__ = "备份记录"
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ok: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    path: Mapped[str] = mapped_column(Text)  # the verified copy, or where a failed one was put aside
    second_path: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)  # what failed, in Chinese
    actor: Mapped[str] = mapped_column(String(40))
