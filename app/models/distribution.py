"""R2.4, R2.6–R2.8: commodity batches, finished goods, sales, recalls, destruction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Recorded, Submittable, fk
from .master import Customer, ProductSpec
from .production import ProductBatch


class CommodityBatch(Submittable, Recorded, Base):
    """商品批次 (G§4(2)): packed from one product batch in one time window."""

    __tablename__ = "commodity_batch"
    __label__ = "商品批次包装记录"
    live_columns = frozenset({"units_on_hand", "status", "released_at", "released_by", "certificate_no"})
    lot_code: Mapped[str] = mapped_column(String(40), unique=True)
    product_batch_id: Mapped[int] = fk("product_batch.id")
    spec_id: Mapped[int] = fk("product_spec.id")
    brand: Mapped[str | None]
    team: Mapped[str | None] = mapped_column(String(40))
    packed_from: Mapped[dt.datetime]
    packed_to: Mapped[dt.datetime]
    units: Mapped[int]  # packs made
    product_quantity_used: Mapped[Decimal]  # of the product batch, in its unit
    units_on_hand: Mapped[int]
    production_date: Mapped[dt.date] = mapped_column(index=True)
    expiry_date: Mapped[dt.date | None]
    label_checked: Mapped[bool] = mapped_column(default=False)
    # packed, released, recalled, destroyed
    status: Mapped[str] = mapped_column(String(20), default="packed")
    released_at: Mapped[dt.datetime | None]
    released_by: Mapped[int | None] = fk("person.id", nullable=True)
    certificate_no: Mapped[str | None] = mapped_column(String(40))  # 检验合格证号
    operator_id: Mapped[int] = fk("person.id")

    product_batch: Mapped[ProductBatch] = relationship()
    spec: Mapped[ProductSpec] = relationship()


class FinishedGoodsMovement(Recorded, Base):
    """R2.6 — 成品库出入库: one movement with running stock and the store's climate."""

    __tablename__ = "finished_goods_movement"
    __label__ = "成品出入库台账"
    commodity_batch_id: Mapped[int] = fk("commodity_batch.id")
    warehouse_id: Mapped[int] = fk("warehouse.id")
    kind: Mapped[str] = mapped_column(String(10))  # in, out
    moved_at: Mapped[dt.datetime] = mapped_column(index=True)
    units: Mapped[int]
    balance: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    temperature_c: Mapped[Decimal | None]
    humidity_pct: Mapped[Decimal | None]
    handed_over_by: Mapped[int] = fk("person.id")
    received_by: Mapped[str | None] = mapped_column(String(40))


class Delivery(Submittable, Recorded, Base):
    """R2.7 — 出厂销售记录: a commodity batch sold to one customer."""

    __tablename__ = "delivery"
    __label__ = "出厂销售记录"
    added_columns = frozenset({"confirmed_on", "confirmed_by"})  # migration 0010 (see audit.added_later)
    # The buyer confirms after the sale (its own action): not the signed sale.
    live_columns = frozenset({"confirmed", "confirmation_no", "confirmed_on", "confirmed_by"})
    delivery_no: Mapped[str] = mapped_column(String(40), unique=True)
    commodity_batch_id: Mapped[int] = fk("commodity_batch.id")
    customer_id: Mapped[int] = fk("customer.id")
    units: Mapped[int]
    sale_date: Mapped[dt.date] = mapped_column(index=True)
    certificate_no: Mapped[str] = mapped_column(String(40))
    confirmation_no: Mapped[str | None] = mapped_column(String(40))  # 交付确认单
    confirmed: Mapped[bool] = mapped_column(default=False)
    confirmed_on: Mapped[dt.date | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(40))  # the buyer's receiver
    cold_chain: Mapped[str | None] = mapped_column(String(100))
    vehicle: Mapped[str | None] = mapped_column(String(40))
    warehouse_id: Mapped[int | None] = fk("warehouse.id", nullable=True)
    clerk_id: Mapped[int] = fk("person.id")

    commodity_batch: Mapped[CommodityBatch] = relationship()
    customer: Mapped[Customer] = relationship()


class Recall(Submittable, Recorded, Base):
    """R2.8 — a recall of a product batch (and so of its commodity batches)."""

    __tablename__ = "recall"
    __label__ = "召回记录"
    live_columns = frozenset({"status"})
    # Migration 0012 (see audit.added_later): the frozen scope's start, the
    # level's deadlines as they were when the recall started, the close.
    added_columns = frozenset({"query", "notify_by", "finish_by", "unaccounted_reason", "closed_on"})
    recall_no: Mapped[str] = mapped_column(String(40), unique=True)
    product_batch_id: Mapped[int] = fk("product_batch.id")
    started_on: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(100))  # who or what raised it
    level: Mapped[str | None] = mapped_column(String(20))
    regulator_opinion: Mapped[str | None] = mapped_column(Text)
    corrective_measures: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, closed
    manager_id: Mapped[int] = fk("person.id")
    query: Mapped[str | None] = mapped_column(String(40))  # the number the scope was traced from
    notify_by: Mapped[dt.datetime | None]  # every customer told by then (24/48/72 h)
    finish_by: Mapped[dt.date | None]  # the recall done by then (10/20/30 working days)
    unaccounted_reason: Mapped[str | None] = mapped_column(Text)  # why it closed with goods unaccounted
    closed_on: Mapped[dt.date | None]

    product_batch: Mapped[ProductBatch] = relationship()
    progress: Mapped[list[RecallProgress]] = relationship(back_populates="recall")


class RecallProgress(Recorded, Base):
    """How much came back from one customer's delivery."""

    __tablename__ = "recall_progress"
    __label__ = "召回进度"
    recall_id: Mapped[int] = fk("recall.id")
    delivery_id: Mapped[int] = fk("delivery.id")
    notified_on: Mapped[dt.date]
    units_returned: Mapped[int] = mapped_column(default=0)
    returned_on: Mapped[dt.date | None]
    notes: Mapped[str | None] = mapped_column(Text)

    recall: Mapped[Recall] = relationship(back_populates="progress")


class Destruction(Submittable, Recorded, Base):
    """销毁记录 — time, place, people, method, supervising officials."""

    __tablename__ = "destruction"
    __label__ = "销毁记录"
    recall_id: Mapped[int | None] = fk("recall.id", nullable=True)
    product_batch_id: Mapped[int] = fk("product_batch.id")
    commodity_batch_id: Mapped[int | None] = fk("commodity_batch.id", nullable=True)
    destroyed_at: Mapped[dt.datetime]
    place: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(100))
    units: Mapped[int | None]
    quantity: Mapped[Decimal | None]
    people: Mapped[str] = mapped_column(String(200))
    supervisors: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
