"""R2.5: inspections with their test items, and retained samples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Recorded, Submittable, fk

# Limits are compared, not summed: six decimals hold 0.005 mg/kg and 0.000002.
Limit = Numeric(16, 6)


class Inspection(Submittable, Recorded, Base):
    """An inspection: sampling slip, test items, conclusion (G§34–40)."""

    __tablename__ = "inspection"
    __label__ = "检验记录"
    # Added by migration 0006 to reports already kept (see audit.added_later).
    added_columns = frozenset({"material_id", "spec", "sampling_place", "control_measures"})
    report_no: Mapped[str] = mapped_column(String(40), unique=True)
    # incoming, in_process, water, semi_finished, finished, release
    kind: Mapped[str] = mapped_column(String(20))
    batch_id: Mapped[int | None] = fk("product_batch.id", nullable=True)
    commodity_batch_id: Mapped[int | None] = fk("commodity_batch.id", nullable=True)
    receipt_id: Mapped[int | None] = fk("incoming_inspection.id", nullable=True)
    # What was sampled when it is no batch: the material of a receipt, production water.
    material_id: Mapped[int | None] = fk("material.id", nullable=True)
    spec: Mapped[str | None] = mapped_column(String(40))
    sampled_at: Mapped[dt.datetime] = mapped_column(index=True)
    sampling_place: Mapped[str | None] = mapped_column(String(100))  # G§37(1)
    sample_quantity: Mapped[str | None] = mapped_column(String(40))
    sampling_method: Mapped[str | None] = mapped_column(String(100))
    sample_base: Mapped[str | None] = mapped_column(String(40))
    process_step: Mapped[str | None] = mapped_column(String(100))
    control_measures: Mapped[str | None] = mapped_column(Text)  # G§36(2)
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
    added_columns = frozenset({"limit_min", "limit_max", "unit", "expected"})  # migration 0006
    inspection_id: Mapped[int] = fk("inspection.id")
    item: Mapped[str] = mapped_column(String(100))
    method: Mapped[str | None] = mapped_column(String(100))
    requirement: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[str] = mapped_column(String(100))
    verdict: Mapped[str] = mapped_column(String(20))  # pass, fail
    # The limit the result was judged against, as the standard said on the day
    # (none: the inspector judged the item).
    limit_min: Mapped[Decimal | None] = mapped_column(Limit)
    limit_max: Mapped[Decimal | None] = mapped_column(Limit)
    unit: Mapped[str | None] = mapped_column(String(20))
    expected: Mapped[str | None] = mapped_column(String(40))

    inspection: Mapped[Inspection] = relationship(back_populates="items")


class InspectionStandard(Recorded, Base):
    """检验项目标准: one test item a product or material is inspected for, per
    inspection kind, with its method, the requirement as the standard words it,
    and a limit the program can check: a numeric minimum and/or maximum in a
    unit, or an expected text (未检出, 阴性)."""

    __tablename__ = "inspection_standard"
    __label__ = "检验项目标准"
    product_id: Mapped[int | None] = fk("product.id", nullable=True)
    material_id: Mapped[int | None] = fk("material.id", nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # as Inspection.kind
    seq: Mapped[int]
    item: Mapped[str] = mapped_column(String(100))
    method: Mapped[str | None] = mapped_column(String(100))
    requirement: Mapped[str | None] = mapped_column(String(100))
    limit_min: Mapped[Decimal | None] = mapped_column(Limit)
    limit_max: Mapped[Decimal | None] = mapped_column(Limit)
    unit: Mapped[str | None] = mapped_column(String(20))
    expected: Mapped[str | None] = mapped_column(String(40))
    basis: Mapped[str | None] = mapped_column(String(100))  # the standard the item comes from


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
