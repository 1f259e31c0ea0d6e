"""R5: the hash-chained audit log, amendments, and settings kept in the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Recorded


class AuditEntry(Base):
    """One write, chained to the one before it by hash. Append-only: triggers
    in the database refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"
    __label__ = "审计日志"
    # An entry's id is never handed out again after a deletion (SQLite reuses
    # the highest id otherwise): a deleted tail cannot be refilled unseen.
    # The index finds a row's newest entry (the sender checks the upload
    # queue's content against it) without reading the whole log.
    __table_args__ = (Index("ix_audit_log_table_row", "table_name", "row_id"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))  # insert, update, delete
    table_name: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[int] = mapped_column(Integer)
    # Hash of the row's content after the write; empty for a delete.
    row_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON of the row (before, for a delete)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Amendment(Recorded, Base):
    """A change to a submitted record: original value, new value, who, when, why."""

    __tablename__ = "amendment"
    __label__ = "更正记录"
    table_name: Mapped[str] = mapped_column(String(60), index=True)
    row_id: Mapped[int]
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class Setting(Base):
    """Enterprise settings that belong with the data (backed up with it)."""

    __tablename__ = "setting"
    __label__ = "设置"
    key: Mapped[str] = mapped_column(String(60), unique=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
