"""The columns of an exported ledger: its declared fields, plus the columns
Food Safety Law art. 50 and 51 require that the ledger's own table does not
hold (standards.md). Those are read from the related rows — the supplier's
address and contact, the product, spec, dates and buyer of a sale — never
invented; the importer ignores them (they belong to the related record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from app.ledgers import Field, Ledger
from app.models import CommodityBatch, Customer, Delivery, IncomingInspection, Product, ProductBatch, ProductSpec, Supplier

from .sheet import Column


@dataclass(frozen=True)
class Related:
    """Columns read through a join, placed right after the field ``after``."""

    after: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Extras:
    groups: tuple[Related, ...]
    statement: Callable[[list[int]], Select]  # SELECT id, value, value, ... for some ids, in group order


def _incoming(ids: list[int]) -> Select:
    supplier = aliased(Supplier)
    t = IncomingInspection
    return (select(t.id, supplier.address, supplier.contact_person, supplier.phone)
            .outerjoin(supplier, supplier.id == t.supplier_id).where(t.id.in_(ids)))


def _delivery(ids: list[int]) -> Select:
    t = Delivery
    return (select(t.id, Product.name, ProductSpec.spec, CommodityBatch.production_date, Product.shelf_life_days,
                   CommodityBatch.expiry_date, Customer.address, Customer.contact_person, Customer.phone)
            .outerjoin(CommodityBatch, CommodityBatch.id == t.commodity_batch_id)
            .outerjoin(ProductBatch, ProductBatch.id == CommodityBatch.product_batch_id)
            .outerjoin(Product, Product.id == ProductBatch.product_id)
            .outerjoin(ProductSpec, ProductSpec.id == CommodityBatch.spec_id)
            .outerjoin(Customer, Customer.id == t.customer_id)
            .where(t.id.in_(ids)))


def _contact(who: str) -> tuple[Column, ...]:
    return (Column(f"{who}地址", 30), Column(f"{who}联系人", 10), Column(f"{who}联系电话", 14))


EXTRAS: dict[str, Extras] = {
    # Art. 50: the supplier's name is a field; its address and contact are the supplier's.
    "incoming_inspection": Extras((Related("supplier_id", _contact("供货者")),), _incoming),
    # Art. 51: name, spec, production date and shelf life of what was sold, and the buyer's address and contact.
    "delivery": Extras((
        Related("commodity_batch_id", (
            Column("产品名称", 20), Column("规格", 12), Column("生产日期", 11, "date"),
            Column("保质期（天）", 8, "int"), Column("到期日期", 11, "date"),
        )),
        Related("customer_id", _contact("购货者")),
    ), _delivery),
}


@dataclass(frozen=True)
class Layout:
    """Where each cell of an exported row comes from: ("field", index) into the
    ledger's fields or ("extra", index) into the related values."""

    columns: tuple[Column, ...]
    sources: tuple[tuple[str, int], ...]
    extras: Extras | None


def column_of(field: Field, printed: bool = True) -> Column:
    return Column(field.label, field.width, field.kind, printed)


def export_layout(ledger: Ledger, fields: Sequence[Field] | None = None) -> Layout:
    """Every field (and its related columns); those the declaration does not
    print are kept in the file but folded away on paper. Related columns
    print with the field they belong to (art. 50/51: a supplier or buyer is
    read with its address and contact)."""
    fields = list(ledger.fields if fields is None else fields)
    printed = {f.name for f in ledger.printed_fields}
    extras = EXTRAS.get(ledger.key) if fields == list(ledger.fields) else None
    after: dict[str, tuple[int, Related]] = {}
    offset = 0
    for group in extras.groups if extras else ():
        after[group.after] = (offset, group)  # the statement gives the groups' values in this order
        offset += len(group.columns)
    columns: list[Column] = []
    sources: list[tuple[str, int]] = []
    for index, field in enumerate(fields):
        shown = field.name in printed
        columns.append(column_of(field, shown))
        sources.append(("field", index))
        start, group = after.get(field.name, (0, Related("", ())))
        for position, column in enumerate(group.columns):
            columns.append(column if shown else replace(column, printed=False))
            sources.append(("extra", start + position))
    return Layout(tuple(columns), tuple(sources), extras)


def derived_labels(ledger: Ledger) -> set[str]:
    extras = EXTRAS.get(ledger.key)
    return {c.label for group in extras.groups for c in group.columns} if extras else set()
