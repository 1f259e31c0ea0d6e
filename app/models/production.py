"""R2.3: product batches and everything recorded while making them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Recorded, Submittable, fk
from .master import CriticalControlPoint, Product
from .receiving import MaterialLot


class ProductBatch(Submittable, Recorded, Base):
    """产品批 (G§4(1)): one batch of a finished, semi-finished or intermediate product."""

    __tablename__ = "product_batch"
    __label__ = "产品批生产记录"
    live_columns = frozenset({"quantity_on_hand", "status"})
    batch_no: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[int] = fk("product.id")
    line_id: Mapped[int | None] = fk("production_line.id", nullable=True)
    team: Mapped[str | None] = mapped_column(String(40))
    production_order: Mapped[str | None] = mapped_column(String(40))
    production_date: Mapped[dt.date] = mapped_column(index=True)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    expiry_date: Mapped[dt.date | None]
    unit: Mapped[str] = mapped_column(String(20), default="kg")
    output_quantity: Mapped[Decimal | None]
    loss_quantity: Mapped[Decimal | None]
    by_products: Mapped[str | None] = mapped_column(Text)
    # Output not yet packed or fed into another batch.
    quantity_on_hand: Mapped[Decimal | None]
    # open, completed, nonconforming, recalled, destroyed
    status: Mapped[str] = mapped_column(String(20), default="open")
    operator_id: Mapped[int | None] = fk("person.id", nullable=True)

    product: Mapped[Product] = relationship()
    feedings: Mapped[list[Feeding]] = relationship(
        back_populates="batch", foreign_keys="Feeding.batch_id", order_by="Feeding.id"
    )


class Feeding(Recorded, Base):
    """投料记录 (G§22): a material lot or another product batch fed into a batch."""

    __tablename__ = "feeding"
    __label__ = "投料记录"
    __table_args__ = (
        CheckConstraint(
            "(material_lot_id IS NULL) <> (source_batch_id IS NULL)", name="one_source"
        ),
    )
    batch_id: Mapped[int] = fk("product_batch.id")
    material_lot_id: Mapped[int | None] = fk("material_lot.id", nullable=True)
    source_batch_id: Mapped[int | None] = fk("product_batch.id", nullable=True)
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(100))  # 投放方式、加注方法
    fed_at: Mapped[dt.datetime]
    operator_id: Mapped[int] = fk("person.id")

    batch: Mapped[ProductBatch] = relationship(back_populates="feedings", foreign_keys=[batch_id])
    material_lot: Mapped[MaterialLot | None] = relationship()
    source_batch: Mapped[ProductBatch | None] = relationship(foreign_keys=[source_batch_id])


class CCPReading(Recorded, Base):
    """A CCP monitoring reading against its critical limits (G§20, R1.6)."""

    __tablename__ = "ccp_reading"
    __label__ = "关键控制点监控记录"
    batch_id: Mapped[int] = fk("product_batch.id")
    ccp_id: Mapped[int] = fk("ccp.id")
    measured_at: Mapped[dt.datetime]
    value: Mapped[Decimal]
    deviation: Mapped[bool] = mapped_column(default=False)
    corrective_action: Mapped[str | None] = mapped_column(Text)
    corrected_at: Mapped[dt.datetime | None]
    corrected_by: Mapped[int | None] = fk("person.id", nullable=True)
    operator_id: Mapped[int] = fk("person.id")

    ccp: Mapped[CriticalControlPoint] = relationship()


class ProcessRecord(Recorded, Base):
    """G§23–25: pre-treatment, processing, sampling, rework, emergency, plan change,
    by-products and losses, contamination handling — one row each."""

    __tablename__ = "process_record"
    __label__ = "加工过程记录"
    batch_id: Mapped[int] = fk("product_batch.id")
    # pretreatment, processing, in_process_sampling, rework, emergency,
    # plan_change, by_product, contamination
    kind: Mapped[str] = mapped_column(String(30))
    recorded_at: Mapped[dt.datetime]
    step: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    parameters: Mapped[str | None] = mapped_column(Text)
    measures: Mapped[str | None] = mapped_column(Text)
    verification: Mapped[str | None] = mapped_column(Text)
    operator_id: Mapped[int] = fk("person.id")


class CleaningRecord(Recorded, Base):
    """换线清场 (G§29): changeover cleaning between products or batches."""

    __tablename__ = "cleaning_record"
    __label__ = "清场清洗记录"
    batch_id: Mapped[int | None] = fk("product_batch.id", nullable=True)
    line_id: Mapped[int | None] = fk("production_line.id", nullable=True)
    area: Mapped[str] = mapped_column(String(100))
    cleaned_at: Mapped[dt.datetime]
    checks: Mapped[str] = mapped_column(Text)
    agents: Mapped[str | None] = mapped_column(Text)
    validation: Mapped[str] = mapped_column(Text)
    operator_id: Mapped[int] = fk("person.id")


class SterilisationRecord(Recorded, Base):
    """G§31: the parameter that fits the method, and the time."""

    __tablename__ = "sterilisation_record"
    __label__ = "杀菌记录"
    batch_id: Mapped[int] = fk("product_batch.id")
    method: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime]
    duration_seconds: Mapped[int]
    temperature_c: Mapped[Decimal | None]
    pressure_mpa: Mapped[Decimal | None]
    wavelength_nm: Mapped[Decimal | None]
    operator_id: Mapped[int] = fk("person.id")


class IntermediateStorage(Recorded, Base):
    """G§32: a batch stored between steps, and how."""

    __tablename__ = "intermediate_storage"
    __label__ = "中继贮存记录"
    batch_id: Mapped[int] = fk("product_batch.id")
    stored_at: Mapped[dt.datetime]
    removed_at: Mapped[dt.datetime | None]
    quantity: Mapped[Decimal]
    storage_mode: Mapped[str] = mapped_column(String(20))  # ambient, chilled, sealed
    condition: Mapped[str | None] = mapped_column(String(100))
    operator_id: Mapped[int] = fk("person.id")


class PackagingRecord(Recorded, Base):
    """G§33: packaging material issued, used and wasted for a batch."""

    __tablename__ = "packaging_record"
    __label__ = "包装材料使用记录"
    batch_id: Mapped[int] = fk("product_batch.id")
    material_lot_id: Mapped[int] = fk("material_lot.id")
    issued: Mapped[Decimal]
    used: Mapped[Decimal]
    wasted: Mapped[Decimal]
    recorded_at: Mapped[dt.datetime]
    operator_id: Mapped[int] = fk("person.id")


class AdditiveUse(Recorded, Base):
    """G§26: the additive ledger, kept apart from feeding."""

    __tablename__ = "additive_use"
    __label__ = "食品添加剂使用台账"
    batch_id: Mapped[int] = fk("product_batch.id")
    material_lot_id: Mapped[int] = fk("material_lot.id")
    feeding_id: Mapped[int | None] = fk("feeding.id", nullable=True)
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str | None] = mapped_column(String(100))
    used_at: Mapped[dt.datetime]
    operator_id: Mapped[int] = fk("person.id")
