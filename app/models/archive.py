"""R3: archives, their catalogues, and attachments (scans, device files)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Recorded, fk


class Archive(Recorded, Base):
    """One archive (案卷): product, commodity, warning or safety-management."""

    __tablename__ = "archive"
    __label__ = "档案"
    archive_no: Mapped[str] = mapped_column(String(60), unique=True)  # 档号
    kind: Mapped[str] = mapped_column(String(20))  # product, commodity, warning, safety
    title: Mapped[str]
    product_batch_id: Mapped[int | None] = fk("product_batch.id", nullable=True)
    commodity_batch_id: Mapped[int | None] = fk("commodity_batch.id", nullable=True)
    period: Mapped[str | None] = mapped_column(String(7), unique=True)  # YYYY-MM, safety only
    # The product archive a commodity archive cites (索引, G§5, G§46).
    cites_archive_id: Mapped[int | None] = fk("archive.id", nullable=True)
    retention_code: Mapped[str] = mapped_column(String(4))  # Y, D30, D10
    retention_until: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, closed
    closed_at: Mapped[dt.datetime | None]

    entries: Mapped[list[CatalogueEntry]] = relationship(
        back_populates="archive", order_by="CatalogueEntry.seq"
    )
    cites: Mapped[Archive | None] = relationship(remote_side="Archive.id")


class CatalogueEntry(Base):
    """卷内目录: one material of an archive, in filing order."""

    __tablename__ = "catalogue_entry"
    __label__ = "卷内目录"
    __table_args__ = (UniqueConstraint("archive_id", "seq"),)
    archive_id: Mapped[int] = fk("archive.id")
    seq: Mapped[int]
    ledger: Mapped[str] = mapped_column(String(40))  # ledger key of the material
    record_ids: Mapped[str] = mapped_column(Text)  # comma-separated ids, filing order
    doc_no: Mapped[str | None] = mapped_column(String(60))  # 文号
    title: Mapped[str]
    responsible: Mapped[str] = mapped_column(String(100))  # 责任者
    date: Mapped[dt.date | None]
    pages: Mapped[int] = mapped_column(default=1)

    archive: Mapped[Archive] = relationship(back_populates="entries")


class ArchiveRecord(Base):
    """Which rows an archive holds; what the retention guard and printing read."""

    __tablename__ = "archive_record"
    __label__ = "档案收录记录"
    __table_args__ = (
        UniqueConstraint("archive_id", "table_name", "row_id"),
        Index("ix_archive_record_row", "table_name", "row_id"),
    )
    archive_id: Mapped[int] = fk("archive.id")
    table_name: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[int]


class Attachment(Recorded, Base):
    """A scan of an original voucher, a label image or a device file (R3.6),
    kept in the database (several PCs share it) and hashed with SHA-256."""

    __tablename__ = "attachment"
    __label__ = "附件"
    # Every record window, every printed volume and the retention guard look
    # attachments up by their record.
    __table_args__ = (Index("ix_attachment_record", "ledger", "record_id"),)
    filename: Mapped[str]
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    ledger: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[int | None]
    description: Mapped[str | None] = mapped_column(Text)
