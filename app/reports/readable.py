"""What makes a printed record readable by itself (issue 16): the inspector
holds paper, not the database. Next to a lot or batch number stands what it
is (material, spec; product); next to a buyer, the address and whom to call;
a CCP reading carries its unit, critical limits and the planned corrective
action; a quantity carries its unit, and a stock movement its direction
(领用/退库…) instead of a sign.

Each referenced row adds columns right after the reference, read with one
query per reference for all the records of a material.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

if TYPE_CHECKING:
    from app.ledgers import Ledger

    from .volume_data import RecordData

Extra = dict[int, tuple[list[str], str]]  # referenced id -> (added texts, unit of the row's quantities or "")


def _lots(session, ids: list[int]) -> Extra:
    from app.models import Material, MaterialLot

    rows = session.execute(select(MaterialLot.id, Material.name, Material.spec, MaterialLot.unit)
                           .join(Material, Material.id == MaterialLot.material_id).where(MaterialLot.id.in_(ids)))
    return {i: ([name, spec or ""], unit or "") for i, name, spec, unit in rows}


def _batches(session, ids: list[int]) -> Extra:
    from app.models import Product, ProductBatch

    rows = session.execute(select(ProductBatch.id, Product.name)
                           .join(Product, Product.id == ProductBatch.product_id).where(ProductBatch.id.in_(ids)))
    return {i: ([name], "") for i, name in rows}


def _commodities(session, ids: list[int]) -> Extra:
    from app.models import CommodityBatch, Product, ProductBatch, ProductSpec

    rows = session.execute(
        select(CommodityBatch.id, Product.name, ProductSpec.spec)
        .join(ProductBatch, ProductBatch.id == CommodityBatch.product_batch_id)
        .join(Product, Product.id == ProductBatch.product_id)
        .outerjoin(ProductSpec, ProductSpec.id == CommodityBatch.spec_id).where(CommodityBatch.id.in_(ids)))
    return {i: ([" ".join(filter(None, (name, spec)))], "") for i, name, spec in rows}


def contact(person: str | None, phone: str | None) -> str:
    """Whom to call, the number on a line of its own (a narrow column never breaks it)."""
    return "\n".join(filter(None, (person, phone)))


def _customers(session, ids: list[int]) -> Extra:
    from app.models import Customer

    rows = session.execute(select(Customer.id, Customer.address, Customer.contact_person, Customer.phone)
                           .where(Customer.id.in_(ids)))
    return {i: ([address or "", contact(person, phone)], "") for i, address, person, phone in rows}


def _deliveries(session, ids: list[int]) -> Extra:
    from app.models import Customer, Delivery

    rows = session.execute(select(Delivery.id, Customer.name, Customer.address, Customer.contact_person,
                                  Customer.phone, Delivery.units)
                           .join(Customer, Customer.id == Delivery.customer_id).where(Delivery.id.in_(ids)))
    return {i: ([name, address or "", contact(person, phone), str(units)], "")
            for i, name, address, person, phone, units in rows}


def limits(low, high, unit: str) -> str:
    """A CCP's critical limits as an inspector reads them: 95～100 ℃, ≥ 95 ℃, ≤ 4 ℃."""
    def shown(value) -> str:
        return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)

    if low is not None and high is not None:
        return f"{shown(low)}～{shown(high)} {unit}".strip()
    if low is not None:
        return f"≥ {shown(low)} {unit}".strip()
    if high is not None:
        return f"≤ {shown(high)} {unit}".strip()
    return ""


def _ccps(session, ids: list[int]) -> Extra:
    from app.models import CriticalControlPoint as CCP

    rows = session.execute(select(CCP.id, CCP.parameter, CCP.lower_limit, CCP.upper_limit, CCP.unit,
                                  CCP.corrective_action).where(CCP.id.in_(ids)))
    return {i: ([parameter or "", limits(low, high, unit or ""), action or ""], unit or "")
            for i, parameter, low, high, unit, action in rows}


# referenced ledger -> (labels of the added columns, reader)
CONTEXT: dict[str, tuple[tuple[str, ...], Callable[..., Extra]]] = {
    "material_lot": (("物料名称", "规格"), _lots),
    "product_batch": (("产品名称",), _batches),
    "commodity_batch": (("产品名称及规格",), _commodities),
    "customer": (("购货者地址", "联系人及电话"), _customers),
    "delivery": (("购货者", "购货者地址", "联系人及电话", "销售数量（件）"), _deliveries),
    "ccp": (("监控参数", "关键限值", "纠偏措施（计划）"), _ccps),
}


def _direction(quantity: Decimal, kind: str, batch_id) -> str:
    """A stock movement's direction in words: a sign means nothing on paper."""
    if quantity < 0:
        return "报损" if kind == "write_off" else "领用" if batch_id is not None else "出库"
    if quantity > 0:
        return "退库" if batch_id is not None and kind != "receipt" else "入库"
    return ""


def _plain(value: Decimal) -> str:
    return format(abs(value).normalize(), "f") if isinstance(value, Decimal) else str(abs(value))


def enrich(session, declaration: Ledger, rows: list, records: list[RecordData]) -> None:
    """Add the context columns to ``records`` (read from ``rows``), in place."""
    if not records:
        return
    names = [name for name, _label, _text in records[0].values]
    units: dict[int, str] = {}  # record index -> unit of its quantities
    for f in reversed([f for f in declaration.fields if f.kind == "ref" and f.lookup.ledger in CONTEXT]):
        if f.name not in names:
            continue
        labels, reader = CONTEXT[f.lookup.ledger]
        wanted = sorted({getattr(row, f.name) for row in rows} - {None})
        found = reader(session, wanted) if wanted else {}
        at = names.index(f.name) + 1
        for index, (record, row) in enumerate(zip(records, rows)):
            texts, unit = found.get(getattr(row, f.name), ([""] * len(labels), ""))
            record.values[at:at] = [(f"{f.name}.{n}", label, text)
                                    for n, (label, text) in enumerate(zip(labels, texts))]
            if unit:
                units.setdefault(index, unit)
        names = [name for name, _label, _text in records[0].values]
    if "unit" in declaration.field_names:
        units = {}  # the ledger names the unit itself
    quantities = {f.name for f in declaration.fields if f.kind == "decimal"}
    moving = declaration.key == "stock_movement"
    for index, (record, row) in enumerate(zip(records, rows)):
        unit = units.get(index, "")
        if not unit and not moving:
            continue
        values = record.values
        for at, (name, label, text) in enumerate(values):
            if name not in quantities or not text:
                continue
            if moving and name == "quantity":
                text = " ".join(filter(None, (_direction(row.quantity, row.kind, row.batch_id), _plain(row.quantity))))
            values[at] = (name, label, f"{text} {unit}".rstrip())
