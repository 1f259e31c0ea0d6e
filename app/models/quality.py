"""R2.5: inspections with their test items, and retained samples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Recorded, Submittable, fk


class Inspection(Submittable, Recorded, Base):
    """An inspection: sampling slip, test items, conclusion (G§34–40)."""

    __tablename__ = "inspection"
    __label__ = "检验记录"
    report_no: Mapped[str] = mapped_column(String(40), unique=True)
    # incoming, in_process, water, semi_finished, finished, release
    kind: Mapped[str] = mapped_column(String(20))
    batch_id: Mapped[int | None] = fk("product_batch.id", nullable=True)
    commodity_batch_id: Mapped[int | None] = fk("commodity_batch.id", nullable=True)
    receipt_id: Mapped[int | None] = fk("incoming_inspection.id", nullable=True)
    sampled_at: Mapped[dt.datetime] = mapped_column(index=True)
    sample_quantity: Mapped[str | None] = mapped_column(String(40))
    sampling_method: Mapped[str | None] = mapped_column(String(100))
    sample_base: Mapped[str | None] = mapped_column(String(40))
    process_step: Mapped[str | None] = mapped_column(String(100))
    proficiency_evidence: Mapped[str | None] = mapped_column(Text)  # G§36(3)
    conclusion: Mapped[str] = mapped_column(String(20))  # pass, fail
    # G§40: the label compliance check done with the release inspection.
    label_check_passed: Mapped[bool | None]
    label_check_notes: Mapped[str | None] = mapped_column(Text)
    inspector_id: Mapped[int] = fk("person.id")
    reviewer_id: Mapped[int | None] = fk("person.id", nullable=True)

    items: Mapped[list[InspectionItem]] = relationship(
        back_populates="inspection", order_by="InspectionItem.id"
    )


class InspectionItem(Base):
    __tablename__ = "inspection_item"
    __label__ = "检验项目"
    inspection_id: Mapped[int] = fk("inspection.id")
    item: Mapped[str] = mapped_column(String(100))
    method: Mapped[str | None] = mapped_column(String(100))
    requirement: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[str] = mapped_column(String(100))
    verdict: Mapped[str] = mapped_column(String(20))  # pass, fail

    inspection: Mapped[Inspection] = relationship(back_populates="items")


class RetainedSample(Recorded, Base):
    """留样 (G§39(3))."""

    __tablename__ = "retained_sample"
    __label__ = "留样记录"
    batch_id: Mapped[int] = fk("product_batch.id")
    name: Mapped[str]
    spec: Mapped[str | None] = mapped_column(String(40))
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(20))
    production_date: Mapped[dt.date]
    kept_on: Mapped[dt.date]
    location: Mapped[str] = mapped_column(String(100))
    disposal_date: Mapped[dt.date]
    keeper_id: Mapped[int] = fk("person.id")
