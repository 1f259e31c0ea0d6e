"""R4.1, R4.3, R4.4: forward and backward traceability with quantities and mass balance.

``trace(session, number, direction)`` starts from whatever ``number`` names —
our material lot number, a supplier's lot number (every lot that carries
it), a product batch number, a commodity lot code or a delivery number — and
walks the graph level by level: one ``IN (...)`` query per level and table
(ids chunked at 500), never one query per row, with a set of visited batches
so that even a (wrongly) cyclic batch graph ends.

Indexes this relies on (all created by ``fk(...)`` / ``unique=True`` in the
models and by migration 0001): feeding.batch_id, feeding.material_lot_id,
feeding.source_batch_id; commodity_batch.product_batch_id;
delivery.commodity_batch_id; stock_movement.lot_id; material_lot.lot_no
(unique) and material_lot.supplier_lot; the unique numbers batch_no,
lot_code and delivery_no; primary keys for everything fetched by id.

Links kept in the result are exactly the ones between two members of the
result, so the quantities shown are those that flowed along the traced paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, null, or_, select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.models import (
    CommodityBatch,
    Customer,
    Delivery,
    Feeding,
    Material,
    MaterialLot,
    PackagingRecord,
    Product,
    ProductBatch,
    ProductSpec,
    StockMovement,
    Supplier,
)

from . import settings

CHUNK = 500
DIRECTIONS = {"forward": "正向", "backward": "反向"}
ZERO = Decimal(0)
MILLI = Decimal("0.001")

FEED_COLUMNS = (Feeding.id, Feeding.batch_id, Feeding.material_lot_id, Feeding.source_batch_id,
                Feeding.quantity, Feeding.unit)
# Packaging material reaches a batch through its packaging record, not a
# feeding; a recall of a packaging lot must find those batches too. Negative
# ids keep them apart from feeding ids in the graph.
PACKING = select(
    (-PackagingRecord.id).label("id"), PackagingRecord.batch_id, PackagingRecord.material_lot_id,
    null().label("source_batch_id"), PackagingRecord.issued.label("quantity"), MaterialLot.unit,
).join(MaterialLot, MaterialLot.id == PackagingRecord.material_lot_id)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _rows_in(session: Session, stmt, column, ids: Iterable[int]) -> list:
    """``stmt`` restricted to ``column IN ids``, one query per chunk of 500 ids."""
    rows: list = []
    for chunk in _chunks(ids):
        rows.extend(session.execute(stmt.where(column.in_(chunk))).all())
    return rows


def _sums_in(session: Session, key, amount, ids: Iterable[int], *conditions) -> dict[int, Decimal]:
    """SUM(amount) GROUP BY key for key IN ids."""
    stmt = select(key, func.sum(amount)).where(*conditions).group_by(key)
    return {k: Decimal(total or 0) for k, total in _rows_in(session, stmt, key, ids)}


@dataclass
class _Graph:
    """Ids reached so far, and the feeding links walked (by feeding id)."""

    lots: set[int] = field(default_factory=set)
    batches: set[int] = field(default_factory=set)
    commodities: set[int] = field(default_factory=set)
    deliveries: set[int] = field(default_factory=set)
    feedings: dict[int, object] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.lots or self.batches or self.commodities or self.deliveries)

    def add_feedings(self, rows) -> None:
        for row in rows:
            self.feedings[row.id] = row


def _ids(session: Session, stmt) -> set[int]:
    return set(session.scalars(stmt))


def _resolve(session: Session, number: str) -> _Graph:
    """Every record the number names; a supplier's lot number may name several lots."""
    graph = _Graph(
        lots=_ids(session, select(MaterialLot.id).where(
            or_(MaterialLot.lot_no == number, MaterialLot.supplier_lot == number))),
        batches=_ids(session, select(ProductBatch.id).where(ProductBatch.batch_no == number)),
        commodities=_ids(session, select(CommodityBatch.id).where(CommodityBatch.lot_code == number)),
        deliveries=_ids(session, select(Delivery.id).where(Delivery.delivery_no == number)),
    )
    if graph.empty():
        raise UserError(f"找不到批号或单号「{number}」")
    return graph


def _walk_forward(session: Session, graph: _Graph) -> None:
    rows = _rows_in(session, select(*FEED_COLUMNS), Feeding.material_lot_id, graph.lots)
    rows += _rows_in(session, PACKING, PackagingRecord.material_lot_id, graph.lots)
    graph.add_feedings(rows)
    graph.batches |= {row.batch_id for row in rows}
    frontier = set(graph.batches)
    while frontier:  # one level of mixing per round; visited batches are never revisited
        rows = _rows_in(session, select(*FEED_COLUMNS), Feeding.source_batch_id, frontier)
        graph.add_feedings(rows)
        frontier = {row.batch_id for row in rows} - graph.batches
        graph.batches |= frontier
    graph.commodities |= {row.id for row in _rows_in(
        session, select(CommodityBatch.id), CommodityBatch.product_batch_id, graph.batches)}
    graph.deliveries |= {row.id for row in _rows_in(
        session, select(Delivery.id), Delivery.commodity_batch_id, graph.commodities)}


def _walk_backward(session: Session, graph: _Graph) -> None:
    graph.commodities |= {row.commodity_batch_id for row in _rows_in(
        session, select(Delivery.commodity_batch_id), Delivery.id, graph.deliveries)}
    graph.batches |= {row.product_batch_id for row in _rows_in(
        session, select(CommodityBatch.product_batch_id), CommodityBatch.id, graph.commodities)}
    frontier = set(graph.batches)
    while frontier:
        rows = _rows_in(session, select(*FEED_COLUMNS), Feeding.batch_id, frontier)
        rows += _rows_in(session, PACKING, PackagingRecord.batch_id, frontier)
        graph.add_feedings(rows)
        graph.lots |= {row.material_lot_id for row in rows if row.material_lot_id is not None}
        frontier = {row.source_batch_id for row in rows if row.source_batch_id is not None} - graph.batches
        graph.batches |= frontier


# ---------------------------------------------------------------- details

def _by_id(session: Session, stmt, column, ids: Iterable[int]) -> dict[int, dict]:
    return {row.id: dict(row._mapping) for row in _rows_in(session, stmt, column, ids)}


def _lots(session: Session, ids: set[int]) -> dict[int, dict]:
    stmt = select(
        MaterialLot.id, MaterialLot.lot_no, MaterialLot.supplier_lot, Material.name.label("material"),
        MaterialLot.supplier_id, MaterialLot.unit, MaterialLot.production_date, MaterialLot.expiry_date,
        MaterialLot.quantity_received, MaterialLot.quantity_on_hand, MaterialLot.status,
    ).join(Material, Material.id == MaterialLot.material_id)
    return _by_id(session, stmt, MaterialLot.id, ids)


def _batches(session: Session, ids: set[int]) -> dict[int, dict]:
    stmt = select(
        ProductBatch.id, ProductBatch.batch_no, Product.name.label("product"), Product.kind.label("product_kind"),
        ProductBatch.production_date, ProductBatch.expiry_date, ProductBatch.unit, ProductBatch.output_quantity,
        ProductBatch.loss_quantity, ProductBatch.quantity_on_hand, ProductBatch.status,
    ).join(Product, Product.id == ProductBatch.product_id)
    return _by_id(session, stmt, ProductBatch.id, ids)


def _commodities(session: Session, ids: set[int]) -> dict[int, dict]:
    stmt = select(
        CommodityBatch.id, CommodityBatch.lot_code, ProductBatch.batch_no, Product.name.label("product"),
        ProductSpec.spec, CommodityBatch.brand, CommodityBatch.units, CommodityBatch.product_quantity_used,
        ProductBatch.unit, CommodityBatch.units_on_hand, CommodityBatch.production_date,
        CommodityBatch.expiry_date, CommodityBatch.status, CommodityBatch.product_batch_id,
    ).join(ProductBatch, ProductBatch.id == CommodityBatch.product_batch_id).join(
        Product, Product.id == ProductBatch.product_id).join(ProductSpec, ProductSpec.id == CommodityBatch.spec_id)
    return _by_id(session, stmt, CommodityBatch.id, ids)


def _deliveries(session: Session, ids: set[int]) -> dict[int, dict]:
    stmt = select(
        Delivery.id, Delivery.delivery_no, CommodityBatch.lot_code, Customer.name.label("customer"),
        Delivery.units, Delivery.sale_date, Delivery.certificate_no, Delivery.confirmed,
        Delivery.commodity_batch_id, Delivery.customer_id,
    ).join(CommodityBatch, CommodityBatch.id == Delivery.commodity_batch_id).join(
        Customer, Customer.id == Delivery.customer_id)
    return _by_id(session, stmt, Delivery.id, ids)


def _parties(session: Session, model, ids: set[int]) -> dict[int, dict]:
    stmt = select(model.id, model.name, model.credit_code, model.address, model.contact_person, model.phone)
    return _by_id(session, stmt, model.id, ids)


def _link(number_key: str, number: str, quantity: Decimal, unit: str) -> dict:
    return {number_key: number, "quantity": quantity, "unit": unit}


def _sorted(entries: Iterable[dict], key: str) -> list[dict]:
    return sorted(entries, key=lambda e: (e[key], e.get("id", 0)))


def _attach_feedings(graph: _Graph, lots: dict, batches: dict) -> None:
    for entry in (*lots.values(), *batches.values()):
        entry["fed_into"] = []
    for entry in batches.values():
        entry["inputs"] = []
    for row in graph.feedings.values():
        target = batches.get(row.batch_id)
        source = lots.get(row.material_lot_id) or batches.get(row.source_batch_id)
        if target is None or source is None:
            continue
        kind, key = ("material_lot", "lot_no") if row.material_lot_id is not None else ("product_batch", "batch_no")
        target["inputs"].append(_link(key, source[key], row.quantity, row.unit) | {"kind": kind})
        source["fed_into"].append(_link("batch_no", target["batch_no"], row.quantity, row.unit))
    for entry in (*lots.values(), *batches.values()):
        entry["fed_into"].sort(key=lambda link: (link["batch_no"], link["quantity"]))
        entry["quantity_fed_into"] = sum((link["quantity"] for link in entry["fed_into"]), ZERO)
    for entry in batches.values():
        entry["inputs"].sort(key=lambda link: (link["kind"], link.get("lot_no") or link["batch_no"], link["quantity"]))
        entry["quantity_in"] = sum((link["quantity"] for link in entry["inputs"]), ZERO)


def _attach_downstream(batches: dict, commodities: dict, deliveries: dict, customers: dict) -> None:
    for entry in batches.values():
        entry["packed_into"] = []
    for entry in (*commodities.values(), *customers.values()):
        entry["deliveries"] = []
    for cb in _sorted(commodities.values(), "lot_code"):
        if cb["product_batch_id"] in batches:
            batches[cb["product_batch_id"]]["packed_into"].append(
                _link("lot_code", cb["lot_code"], cb["product_quantity_used"], cb["unit"]))
    for d in _sorted(deliveries.values(), "delivery_no"):
        link = {"delivery_no": d["delivery_no"], "lot_code": d["lot_code"], "units": d["units"]}
        for owner in (commodities.get(d["commodity_batch_id"]), customers.get(d["customer_id"])):
            if owner is not None:
                owner["deliveries"].append(link)
    for entry in (*commodities.values(), *customers.values()):
        entry["units_delivered"] = sum(link["units"] for link in entry["deliveries"])


def _attach_lots_to_suppliers(lots: dict, suppliers: dict) -> None:
    for entry in suppliers.values():
        entry["lots"] = []
    for lot in _sorted(lots.values(), "lot_no"):
        supplier = suppliers[lot["supplier_id"]]
        lot["supplier"] = supplier["name"]
        supplier["lots"].append({"lot_no": lot["lot_no"], "supplier_lot": lot["supplier_lot"],
                                 "material": lot["material"]})


# ---------------------------------------------------------------- mass balance

def _tolerance(raw) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise UserError(f"设置「{settings.LABELS['mass_balance_tolerance']}」的值「{raw}」不是非负小数")
    return value


def _lot_balances(session: Session, lots: dict) -> list[dict]:
    moved = {kind: _sums_in(session, StockMovement.lot_id, -StockMovement.quantity, lots, StockMovement.kind == kind)
             for kind in ("issue", "write_off")}
    balances = []
    for lot_id, lot in lots.items():
        received, in_stock = lot["quantity_received"], lot["quantity_on_hand"]
        issued, written_off = moved["issue"].get(lot_id, ZERO), moved["write_off"].get(lot_id, ZERO)
        discrepancy = received - issued - written_off - in_stock
        flags = [] if discrepancy == 0 else [
            f"物料批次「{lot['lot_no']}」账实不符：收货 {_fmt(received)} − 领用 {_fmt(issued)} − 报废 "
            f"{_fmt(written_off)} − 结存 {_fmt(in_stock)} = {_fmt(discrepancy)} {lot['unit']}"]
        balances.append({"lot_no": lot["lot_no"], "unit": lot["unit"], "received": received, "issued": issued,
                         "written_off": written_off, "in_stock": in_stock, "discrepancy": discrepancy,
                         "flagged": bool(flags), "flags": flags})
    return _sorted(balances, "lot_no")


def _batch_flags(b: dict, tolerance: Decimal) -> list[str]:
    if b["produced"] is None:
        return []  # not completed yet: nothing to balance
    name, unit, flags = b["batch_no"], b["unit"], []
    made = b["produced"] + b["losses"]
    if abs(b["fed"] - made) > tolerance * b["fed"]:
        flags.append(f"产品批「{name}」投料 {_fmt(b['fed'])} {unit} 与产出 {_fmt(b['produced'])} + 损耗 "
                     f"{_fmt(b['losses'])} 相差超过 {format((tolerance * 100).normalize(), 'f')}%")
    used = b["packed"] + b["fed_onward"] + b["on_hand"]
    if b["produced"] != used:
        flags.append(f"产品批「{name}」产出 {_fmt(b['produced'])} {unit} ≠ 包装 {_fmt(b['packed'])} + 投入其他批 "
                     f"{_fmt(b['fed_onward'])} + 结存 {_fmt(b['on_hand'])}")
    return flags


def _batch_balances(session: Session, batches: dict, tolerance: Decimal) -> list[dict]:
    fed = _sums_in(session, Feeding.batch_id, Feeding.quantity, batches)
    onward = _sums_in(session, Feeding.source_batch_id, Feeding.quantity, batches)
    packed = _sums_in(session, CommodityBatch.product_batch_id, CommodityBatch.product_quantity_used, batches)
    balances = []
    for batch_id, batch in batches.items():
        b = {"batch_no": batch["batch_no"], "unit": batch["unit"], "fed": fed.get(batch_id, ZERO),
             "produced": batch["output_quantity"], "losses": batch["loss_quantity"] or ZERO,
             "packed": packed.get(batch_id, ZERO), "fed_onward": onward.get(batch_id, ZERO),
             "on_hand": batch["quantity_on_hand"] or ZERO}
        b["flags"] = _batch_flags(b, tolerance)
        b["flagged"] = bool(b["flags"])
        balances.append(b)
    return _sorted(balances, "batch_no")


# ---------------------------------------------------------------- result

def _fmt(value: Decimal) -> str:
    return format(value.quantize(MILLI), "f")


def _jsonable(value):
    if isinstance(value, Decimal):
        return _fmt(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


INTERNAL = {"id", "supplier_id", "product_batch_id", "commodity_batch_id", "customer_id"}
SECTIONS = (
    ("material_lots", "物料批次"),
    ("product_batches", "产品批"),
    ("commodity_batches", "商品批次"),
    ("deliveries", "销售记录"),
    ("customers", "客户"),
    ("suppliers", "供应商"),
)


@dataclass
class TraceResult:
    """The traced set. Entries are plain dicts with Decimal quantities and dates."""

    query: str
    direction: str
    material_lots: list[dict]
    product_batches: list[dict]
    commodity_batches: list[dict]
    deliveries: list[dict]
    customers: list[dict]
    suppliers: list[dict]
    mass_balance: dict

    def to_json(self) -> dict:
        data: dict = {"query": self.query, "direction": self.direction}
        for key, _label in SECTIONS:
            data[key] = [{k: _jsonable(v) for k, v in entry.items() if k not in INTERNAL}
                         for entry in getattr(self, key)]
        data["mass_balance"] = _jsonable(self.mass_balance)
        return data

    def flags(self) -> list[str]:
        return [flag for key in ("material_lots", "product_batches") for entry in self.mass_balance[key]
                for flag in entry["flags"]]

    def summary_lines(self, limit: int = 20) -> list[str]:
        """A short Chinese text: counts, then at most ``limit`` lines per section, then the flags."""
        counts = "，".join(f"{label} {len(getattr(self, key))}" for key, label in SECTIONS)
        lines = [f"{DIRECTIONS[self.direction]}追溯「{self.query}」：{counts}"]
        lines += _first(limit, "物料批次", [
            f"物料批次 {e['lot_no']}（{e['material']}，供应商批号 {e['supplier_lot']}，{e['supplier']}）"
            f"投料 {_fmt(e['quantity_fed_into'])} {e['unit']}" for e in self.material_lots])
        lines += _first(limit, "产品批", [
            f"产品批 {e['batch_no']}（{e['product']}，{e['production_date'].isoformat()}）"
            + (f"产出 {_fmt(e['output_quantity'])} {e['unit']}" if e["output_quantity"] is not None else "未完工")
            for e in self.product_batches])
        lines += _first(limit, "商品批次", [
            f"商品批次 {e['lot_code']}（{e['product']} {e['spec']}，来自 {e['batch_no']}）"
            f"{e['units']} 件，追溯到的销售 {e['units_delivered']} 件" for e in self.commodity_batches])
        lines += _first(limit, "客户", [
            f"客户 {e['name']}：{e['address']}，{e['contact_person'] or '—'}，{e['phone'] or '—'}，"
            f"共 {e['units_delivered']} 件" for e in self.customers])
        lines += _first(limit, "供应商", [
            f"供应商 {e['name']}：{e['address']}，{e['contact_person'] or '—'}，{e['phone'] or '—'}"
            for e in self.suppliers])
        flags = [f"物料平衡异常：{flag}" for flag in self.flags()]
        return lines + (_first(limit, "物料平衡异常", flags) or ["物料平衡：未发现异常"])


def _first(limit: int, label: str, lines: list[str]) -> list[str]:
    if len(lines) <= limit:
        return lines
    return lines[:limit] + [f"……另有{label} {len(lines) - limit} 条（完整结果请用 --json）"]


def trace(session: Session, number: str, direction: str) -> TraceResult:
    """Trace ``number`` forward (to customers) or backward (to suppliers)."""
    if direction not in DIRECTIONS:
        raise UserError(f"追溯方向「{direction}」无效：只能是 forward（正向）或 backward（反向）")
    number = (number or "").strip()
    if not number:
        raise UserError("请输入要追溯的批号或单号")
    graph = _resolve(session, number)
    (_walk_forward if direction == "forward" else _walk_backward)(session, graph)
    lots, batches = _lots(session, graph.lots), _batches(session, graph.batches)
    commodities, deliveries = _commodities(session, graph.commodities), _deliveries(session, graph.deliveries)
    customers = _parties(session, Customer, {d["customer_id"] for d in deliveries.values()})
    suppliers = _parties(session, Supplier, {lot["supplier_id"] for lot in lots.values()})
    _attach_feedings(graph, lots, batches)
    _attach_downstream(batches, commodities, deliveries, customers)
    _attach_lots_to_suppliers(lots, suppliers)
    raw_tolerance = settings.get(session, "mass_balance_tolerance")
    return TraceResult(
        query=number,
        direction=direction,
        material_lots=_sorted(lots.values(), "lot_no"),
        product_batches=_sorted(batches.values(), "batch_no"),
        commodity_batches=_sorted(commodities.values(), "lot_code"),
        deliveries=_sorted(deliveries.values(), "delivery_no"),
        customers=_sorted(customers.values(), "name"),
        suppliers=_sorted(suppliers.values(), "name"),
        mass_balance={
            "tolerance": str(raw_tolerance),
            "material_lots": _lot_balances(session, lots),
            "product_batches": _batch_balances(session, batches, _tolerance(raw_tolerance)),
        },
    )
