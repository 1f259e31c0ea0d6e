"""R3: archives, their catalogues, their sealing, and attachments (scans, device files)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
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
    # open, sealed. "ready" is never stored: it is computed (services.sealing)
    # from records that keep changing. "closed" was the first version's
    # period-end mark, made without 立卷人 or 检查人: read as not sealed.
    status: Mapped[str] = mapped_column(String(20), default="open")
    closed_at: Mapped[dt.datetime | None]  # 封卷时间: when it was sealed

    entries: Mapped[list[CatalogueEntry]] = relationship(
        back_populates="archive", order_by="CatalogueEntry.seq"
    )
    cites: Mapped[Archive | None] = relationship(remote_side="Archive.id")
    seal: Mapped[ArchiveSeal | None] = relationship(back_populates="archive", uselist=False)


class ArchiveSeal(Base):
    """封卷: the 立卷人 and the 检查人 — two different users — and the moment.

    A table of its own, so that sealing adds a row and sets the archive's
    status instead of giving every archive row new columns (their audited
    content stays what it was)."""

    __tablename__ = "archive_seal"
    __label__ = "封卷记录"
    archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id"), unique=True)
    filer_id: Mapped[int] = fk("app_user.id")  # 立卷人
    filer_name: Mapped[str] = mapped_column(String(40))  # printed name at sealing
    checker_id: Mapped[int] = fk("app_user.id")  # 检查人
    checker_name: Mapped[str] = mapped_column(String(40))
    sealed_at: Mapped[dt.datetime]

    archive: Mapped[Archive] = relationship(back_populates="seal")


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
