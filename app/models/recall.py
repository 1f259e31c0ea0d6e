"""R2.8: a recall's frozen scope and its progress per customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Recorded, fk


class RecallScope(Recorded, Base):
    """One product batch or commodity lot of a recall, as it stood when the
    recall started: later movements do not change what was recalled."""

    __tablename__ = "recall_scope"
    __label__ = "召回范围"
    recall_id: Mapped[int] = fk("recall.id")
    product_batch_id: Mapped[int] = fk("product_batch.id")
    commodity_batch_id: Mapped[int | None] = fk("commodity_batch.id", nullable=True)
    number: Mapped[str] = mapped_column(String(40))  # batch no. or lot code
    product: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[Decimal | None]  # a batch's output, a lot's units
    unit: Mapped[str] = mapped_column(String(20))
    in_stock: Mapped[Decimal | None]  # what was still at the factory


class RecallCustomer(Recorded, Base):
    """One customer of a recall: its contacts frozen at the start, what it was
    shipped, when and how it was told, and what it has accounted for."""

    __tablename__ = "recall_customer"
    __label__ = "召回客户进度"
    recall_id: Mapped[int] = fk("recall.id")
    customer_id: Mapped[int] = fk("customer.id")
    name: Mapped[str] = mapped_column(String(100))
    contact_person: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(200))
    units_shipped: Mapped[int]
    notified_at: Mapped[dt.datetime | None]
    notified_how: Mapped[str | None] = mapped_column(String(40))
    notified_by: Mapped[str | None] = mapped_column(String(40))
    confirmed_on: Mapped[dt.date | None]
    units_returned: Mapped[int] = mapped_column(default=0)
    units_held: Mapped[int] = mapped_column(default=0)  # still at the customer, isolated
    units_destroyed: Mapped[int] = mapped_column(default=0)  # destroyed by the customer
    notes: Mapped[str | None] = mapped_column(Text)
