"""R2.1–R2.2: incoming inspection, material lots and their stock ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Recorded, Submittable, fk
from .master import Material, Supplier


class IncomingInspection(Submittable, Recorded, Base):
    """R2.1 — 进货查验记录: one delivery of one material, checked at the gate."""

    __tablename__ = "incoming_inspection"
    __label__ = "进货查验记录"
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    material_id: Mapped[int] = fk("material.id")
    supplier_id: Mapped[int] = fk("supplier.id")
    spec: Mapped[str | None]
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(20))
    production_date: Mapped[dt.date]
    supplier_lot: Mapped[str] = mapped_column(String(40), index=True)
    shelf_life_days: Mapped[int | None]
    expiry_date: Mapped[dt.date | None]
    receipt_date: Mapped[dt.date] = mapped_column(index=True)
    # The certificate that matches this lot (G§16(7)): third-party or own report.
    certificate_kind: Mapped[str | None] = mapped_column(String(40))
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    quarantine_cert_no: Mapped[str | None] = mapped_column(String(64))
    import_cert_no: Mapped[str | None] = mapped_column(String(64))
    gmo_cert_no: Mapped[str | None] = mapped_column(String(64))
    trace_code: Mapped[str | None] = mapped_column(String(128))
    carried_over_additives: Mapped[str | None] = mapped_column(Text)
    contaminant_values: Mapped[str | None] = mapped_column(Text)
    # The factory's own inspection when no certificate exists (G§35).
    own_sample_base: Mapped[str | None] = mapped_column(String(40))
    own_sampling_method: Mapped[str | None] = mapped_column(String(100))
    own_sample_size: Mapped[str | None] = mapped_column(String(40))
    own_test_summary: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(20))  # accepted, rejected
    inspector_id: Mapped[int] = fk("person.id")
    warehouse_id: Mapped[int | None] = fk("warehouse.id", nullable=True)

    material: Mapped[Material] = relationship()
    supplier: Mapped[Supplier] = relationship()


class MaterialLot(Recorded, Base):
    """A lot of material in the factory, with the factory's own lot number."""

    __tablename__ = "material_lot"
    __label__ = "物料批次"
    # The home page's alert: lots expiring within a month, out of a hundred thousand (issue 17).
    __table_args__ = (Index("ix_material_lot_expiry", "expiry_date"),)
    lot_no: Mapped[str] = mapped_column(String(40), unique=True)
    material_id: Mapped[int] = fk("material.id")
    supplier_id: Mapped[int] = fk("supplier.id")
    receipt_id: Mapped[int] = fk("incoming_inspection.id")
    supplier_lot: Mapped[str] = mapped_column(String(40), index=True)
    quantity_received: Mapped[Decimal]
    quantity_on_hand: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(20))
    production_date: Mapped[dt.date]
    expiry_date: Mapped[dt.date | None]
    # available, rejected, closed (ledger closed at zero), written_off
    status: Mapped[str] = mapped_column(String(20), default="available")
    warehouse_id: Mapped[int | None] = fk("warehouse.id", nullable=True)

    material: Mapped[Material] = relationship()
    supplier: Mapped[Supplier] = relationship()
    receipt: Mapped[IncomingInspection] = relationship()


class StockMovement(Recorded, Base):
    """R2.2 — one line of the material stock ledger."""

    __tablename__ = "stock_movement"
    __label__ = "物料出入库台账"
    lot_id: Mapped[int] = fk("material_lot.id")
    moved_at: Mapped[dt.datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))  # receipt, issue, write_off
    # Signed: receipts positive, issues and write-offs negative.
    quantity: Mapped[Decimal]
    balance: Mapped[Decimal]
    batch_id: Mapped[int | None] = fk("product_batch.id", nullable=True)
    handed_over_by: Mapped[int | None] = fk("person.id", nullable=True)
    received_by: Mapped[int | None] = fk("person.id", nullable=True)
    note: Mapped[str | None] = mapped_column(Text)
