"""R4.1, R4.3, R4.4: forward and backward traceability with quantities and mass balance.

``trace(session, number, direction)`` starts from whatever ``number`` names —
our material lot number, a supplier's lot number (every lot that carries
it), a product batch number, a commodity lot code or a delivery number — and
finds the traced set in SQL: one recursive common table expression walks the
batch graph (``UNION``, not ``UNION ALL``: a batch is reached once, so even a
(wrongly) cyclic graph ends), and every section of the result is one query
over it, Core rows turned into plain dicts — no ORM object, no query per
level or per row. Sums (fed, fed onward, packed, issued, written off) are
correlated aggregates on the rows fetched, so the mass balance needs no
query of its own. The statements run unchanged on SQLite and PostgreSQL.

Indexes this relies on (all created by ``fk(...)`` / ``unique=True`` in the
models and by migration 0001): feeding.batch_id, feeding.material_lot_id,
feeding.source_batch_id; packaging_record.batch_id and material_lot_id;
commodity_batch.product_batch_id; delivery.commodity_batch_id;
stock_movement.lot_id; material_lot.lot_no (unique) and
material_lot.supplier_lot; the unique numbers batch_no, lot_code and
delivery_no; primary keys for everything fetched by id.

Links kept in the result are exactly the ones between two members of the
result, so the quantities shown are those that flowed along the traced paths.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from contextlib import contextmanager
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, literal_column, null, or_, select, union, union_all
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

CHUNK = 5000  # ids per IN list where a set is known in Python (customers, suppliers, lots)
LISTED = 20_000  # traced batches passed as a list of ids; beyond it (SQLite's 32,766 parameters) the CTE again
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


def _dicts(session: Session, statement) -> list[dict]:
    """Plain dicts of a Core statement's rows, keyed by its column labels (run on the
    session's connection: Core rows, without the ORM's result machinery)."""
    result = session.connection().execute(statement)
    keys = tuple(result.keys())
    return [dict(zip(keys, row)) for row in result.all()]


def _by_id(session: Session, statement) -> dict[int, dict]:
    return {entry["id"]: entry for entry in _dicts(session, statement)}


def _by_id_in(session: Session, statement, column, ids: Iterable[int]) -> dict[int, dict]:
    """``statement`` for ``column IN ids``, a list of ids known in Python (chunked)."""
    found: dict[int, dict] = {}
    for chunk in _chunks(ids):
        found.update(_by_id(session, statement.where(column.in_(chunk))))
    return found


# ---------------------------------------------------------------- the traced set


@dataclass
class _Start:
    """What the number names (a supplier's lot number may name several lots)."""

    lots: list[int]
    batches: list[int]
    commodities: list[int]
    deliveries: list[int]


def _resolve(session: Session, number: str) -> _Start:
    named = union_all(
        select(literal_column("'lot'").label("kind"), MaterialLot.id).where(
            or_(MaterialLot.lot_no == number, MaterialLot.supplier_lot == number)),
        select(literal_column("'batch'"), ProductBatch.id).where(ProductBatch.batch_no == number),
        select(literal_column("'commodity'"), CommodityBatch.id).where(CommodityBatch.lot_code == number),
        select(literal_column("'delivery'"), Delivery.id).where(Delivery.delivery_no == number),
    )
    found: dict[str, list[int]] = {"lot": [], "batch": [], "commodity": [], "delivery": []}
    for kind, ident in session.execute(named):
        found[kind].append(ident)
    if not any(found.values()):
        raise UserError(f"找不到批号或单号「{number}」")
    return _Start(sorted(found["lot"]), sorted(found["batch"]), sorted(found["commodity"]), sorted(found["delivery"]))


def _ids(*parts):
    """One SELECT of ids: the union of the parts given (None: left out)."""
    parts = [part for part in parts if part is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else select(union(*parts).subquery().c[0])


def _listed(column, ids: list[int]):
    return select(column).where(column.in_(ids)) if ids else None


@dataclass
class _Members:
    """The traced set in SQL: the batches a recursive CTE, the other sections
    conditions over it (each condition one query; an entry met twice is one
    entry), so no list of ids travels through Python."""

    lots: object  # a SELECT of lot ids, or None
    batches: object  # a SELECT of batch ids
    commodities: list  # WHERE conditions on commodity_batch
    deliveries: list  # WHERE conditions on delivery
    links: list  # SELECTs of the feeding and packing links between members


def _forward(session: Session, start: _Start, batch_ids: list[int] | None = None) -> _Members:
    if batch_ids is None:
        seeds = _ids(
            _listed(ProductBatch.id, start.batches),
            select(Feeding.batch_id).where(Feeding.material_lot_id.in_(start.lots)) if start.lots else None,
            select(PackagingRecord.batch_id).where(PackagingRecord.material_lot_id.in_(start.lots)) if start.lots else None,
        )
        if seeds is None:
            seeds = select(ProductBatch.id).where(ProductBatch.id.is_(None))
        reached = seeds.cte("reached", recursive=True)
        reached = reached.union(select(Feeding.batch_id).join(reached, Feeding.source_batch_id == reached.c[0]))
        batches = select(reached.c[0])
    else:
        batches = batch_ids
    # IN (subquery) rather than joins: SQLite then walks from the small traced set into
    # the indexes of the big tables, whatever it guesses about the CTE's size.
    packed = select(CommodityBatch.id).where(CommodityBatch.product_batch_id.in_(batches))
    commodities = [CommodityBatch.product_batch_id.in_(batches)]
    deliveries = [Delivery.commodity_batch_id.in_(packed)]
    if start.commodities:
        commodities.append(CommodityBatch.id.in_(start.commodities))
        deliveries.append(Delivery.commodity_batch_id.in_(start.commodities))
    if start.deliveries:
        deliveries.append(Delivery.id.in_(start.deliveries))
    from_members = or_(Feeding.source_batch_id.in_(batches), Feeding.material_lot_id.in_(start.lots))
    links = [select(*FEED_COLUMNS).where(Feeding.batch_id.in_(batches), from_members)]
    if start.lots:
        links.append(PACKING.where(PackagingRecord.batch_id.in_(batches),
                                   PackagingRecord.material_lot_id.in_(start.lots)))
    return _Members(_listed(MaterialLot.id, start.lots), batches, commodities, deliveries, links)


def _backward(session: Session, start: _Start, batch_ids: list[int] | None = None) -> _Members:
    commodities = set(start.commodities)
    if start.deliveries:
        commodities |= set(session.scalars(
            select(Delivery.commodity_batch_id).where(Delivery.id.in_(start.deliveries))))
    if batch_ids is None:
        seeds = _ids(
            _listed(ProductBatch.id, start.batches),
            select(CommodityBatch.product_batch_id).where(CommodityBatch.id.in_(sorted(commodities))) if commodities else None,
        )
        if seeds is None:
            seeds = select(ProductBatch.id).where(ProductBatch.id.is_(None))
        reached = seeds.cte("reached", recursive=True)
        reached = reached.union(select(Feeding.source_batch_id).join(reached, Feeding.batch_id == reached.c[0])
                                .where(Feeding.source_batch_id.is_not(None)))
        batches = select(reached.c[0])
    else:
        batches = batch_ids
    # Every source of a member is a member: all feedings and packings into the batches are links.
    links = [select(*FEED_COLUMNS).where(Feeding.batch_id.in_(batches)),
             PACKING.where(PackagingRecord.batch_id.in_(batches))]
    lots = _ids(_listed(MaterialLot.id, start.lots),
                select(Feeding.material_lot_id).where(Feeding.batch_id.in_(batches),
                                                      Feeding.material_lot_id.is_not(None)),
                select(PackagingRecord.material_lot_id).where(PackagingRecord.batch_id.in_(batches)))
    return _Members(lots, batches, [CommodityBatch.id.in_(sorted(commodities))] if commodities else [],
                    [Delivery.id.in_(start.deliveries)] if start.deliveries else [], links)


# ---------------------------------------------------------------- details


def _sum(amount, *where):
    return select(func.sum(amount)).where(*where).scalar_subquery()


def _lots(session: Session, members: _Members) -> dict[int, dict]:
    if members.lots is None:
        return {}
    moved = {kind: _sum(-StockMovement.quantity, StockMovement.lot_id == MaterialLot.id, StockMovement.kind == kind)
             for kind in ("issue", "write_off")}
    return _by_id(session, select(
        MaterialLot.id, MaterialLot.lot_no, MaterialLot.supplier_lot, Material.name.label("material"),
        MaterialLot.supplier_id, MaterialLot.unit, MaterialLot.production_date, MaterialLot.expiry_date,
        MaterialLot.quantity_received, MaterialLot.quantity_on_hand, MaterialLot.status,
        moved["issue"].label("_issued"), moved["write_off"].label("_written_off"),
    ).join(Material, Material.id == MaterialLot.material_id).where(MaterialLot.id.in_(members.lots)))


def _batches(session: Session, members: _Members) -> dict[int, dict]:
    return _by_id(session, select(
        ProductBatch.id, ProductBatch.batch_no, Product.name.label("product"), Product.kind.label("product_kind"),
        ProductBatch.production_date, ProductBatch.expiry_date, ProductBatch.unit, ProductBatch.output_quantity,
        ProductBatch.loss_quantity, ProductBatch.quantity_on_hand, ProductBatch.status,
        _sum(Feeding.quantity, Feeding.batch_id == ProductBatch.id).label("_fed"),
        _sum(Feeding.quantity, Feeding.source_batch_id == ProductBatch.id).label("_fed_onward"),
        _sum(CommodityBatch.product_quantity_used, CommodityBatch.product_batch_id == ProductBatch.id).label("_packed"),
    ).join(Product, Product.id == ProductBatch.product_id).where(ProductBatch.id.in_(members.batches)))


COMMODITY_COLUMNS = (
    CommodityBatch.id, CommodityBatch.lot_code, ProductBatch.batch_no, Product.name.label("product"),
    ProductSpec.spec, CommodityBatch.brand, CommodityBatch.units, CommodityBatch.product_quantity_used,
    ProductBatch.unit, CommodityBatch.units_on_hand, CommodityBatch.production_date,
    CommodityBatch.expiry_date, CommodityBatch.status, CommodityBatch.product_batch_id,
)


def _commodities(session: Session, members: _Members) -> dict[int, dict]:
    statement = select(*COMMODITY_COLUMNS).join(ProductBatch, ProductBatch.id == CommodityBatch.product_batch_id).join(
        Product, Product.id == ProductBatch.product_id).join(ProductSpec, ProductSpec.id == CommodityBatch.spec_id)
    found: dict[int, dict] = {}
    for condition in members.commodities:
        found.update(_by_id(session, statement.where(condition)))
    return found


DELIVERY_COLUMNS = (Delivery.id, Delivery.delivery_no, Delivery.units, Delivery.sale_date, Delivery.certificate_no,
                    Delivery.confirmed, Delivery.commodity_batch_id, Delivery.customer_id)


def _delivery_rows(session: Session, members: _Members) -> dict[int, tuple]:
    rows: dict[int, tuple] = {}
    for condition in members.deliveries:
        rows.update((row[0], row) for row in session.connection().execute(select(*DELIVERY_COLUMNS).where(condition)).all())
    return rows


def _deliveries(session: Session, rows: dict[int, tuple], commodities: dict[int, dict],
                customers: dict[int, dict]) -> list[dict]:
    """The sale lines in delivery-number order, each also linked from its commodity
    batch (when that is in the result) and its customer. A sale line holds what
    is shown and nothing internal (30,000 of them are most of a recall's JSON). The lot code and the
    customer's name come from the sections already read; a delivery named as the
    start may be the one sale of a commodity batch outside the result, whose lot
    code is read for it."""
    lot_codes = {ident: c["lot_code"] for ident, c in commodities.items()}
    missing = {row[6] for row in rows.values()} - lot_codes.keys()
    if missing:
        lot_codes.update(session.connection().execute(
            select(CommodityBatch.id, CommodityBatch.lot_code).where(CommodityBatch.id.in_(sorted(missing)))).all())
    for entry in (*commodities.values(), *customers.values()):
        entry["deliveries"] = []
    sold_from = {ident: c["deliveries"] for ident, c in commodities.items()}
    sold_to = {ident: c["deliveries"] for ident, c in customers.items()}
    names = {ident: c["name"] for ident, c in customers.items()}
    outside: list = []
    entries = []
    for _ident, number, units, sale_date, certificate, confirmed, commodity, customer in sorted(
            rows.values(), key=itemgetter(1)):  # delivery numbers are unique
        lot_code = lot_codes[commodity]
        entries.append({"delivery_no": number, "lot_code": lot_code, "customer": names[customer],
                        "units": units, "sale_date": sale_date, "certificate_no": certificate,
                        "confirmed": confirmed})
        link = {"delivery_no": number, "lot_code": lot_code, "units": units}
        sold_from.get(commodity, outside).append(link)
        sold_to[customer].append(link)
    units = itemgetter("units")
    for entry in (*commodities.values(), *customers.values()):
        entry["units_delivered"] = sum(map(units, entry["deliveries"]))
    return entries


def _parties(session: Session, model, ids: Iterable[int]) -> dict[int, dict]:
    stmt = select(model.id, model.name, model.credit_code, model.address, model.contact_person, model.phone)
    return _by_id_in(session, stmt, model.id, ids)


def _links(session: Session, members: _Members) -> list[dict]:
    return _dicts(session, union_all(*members.links)) if len(members.links) > 1 else _dicts(session, members.links[0])


def _link(number_key: str, number: str, quantity: Decimal, unit: str) -> dict:
    return {number_key: number, "quantity": quantity, "unit": unit}


def _sorted(entries: Iterable[dict], key: str) -> list[dict]:
    """By ``key``, then by id where the entries have one (in Python: the same order on
    every database, whatever its collation)."""
    entries = list(entries)
    return sorted(entries, key=itemgetter(key, "id") if entries and "id" in entries[0] else itemgetter(key))


def _attach_feedings(links: list[dict], lots: dict, batches: dict) -> None:
    for entry in (*lots.values(), *batches.values()):
        entry["fed_into"] = []
    for entry in batches.values():
        entry["inputs"] = []
    for row in links:
        target = batches.get(row["batch_id"])
        lot_id = row["material_lot_id"]
        source = lots.get(lot_id) if lot_id is not None else batches.get(row["source_batch_id"])
        if target is None or source is None:
            continue
        kind, key = ("material_lot", "lot_no") if lot_id is not None else ("product_batch", "batch_no")
        target["inputs"].append(_link(key, source[key], row["quantity"], row["unit"]) | {"kind": kind})
        source["fed_into"].append(_link("batch_no", target["batch_no"], row["quantity"], row["unit"]))
    for entry in (*lots.values(), *batches.values()):
        entry["fed_into"].sort(key=lambda link: (link["batch_no"], link["quantity"]))
        entry["quantity_fed_into"] = sum((link["quantity"] for link in entry["fed_into"]), ZERO)
    for entry in batches.values():
        entry["inputs"].sort(key=lambda link: (link["kind"], link.get("lot_no") or link["batch_no"], link["quantity"]))
        entry["quantity_in"] = sum((link["quantity"] for link in entry["inputs"]), ZERO)


def _attach_packing(batches: dict, commodities: list[dict]) -> None:
    """``commodities`` in their result order, so every list of links is too."""
    for entry in batches.values():
        entry["packed_into"] = []
    for cb in commodities:
        batch = batches.get(cb["product_batch_id"])
        if batch is not None:
            batch["packed_into"].append(_link("lot_code", cb["lot_code"], cb["product_quantity_used"], cb["unit"]))


def _attach_lots_to_suppliers(lots: list[dict], suppliers: dict) -> None:
    for entry in suppliers.values():
        entry["lots"] = []
    for lot in lots:
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


def _lot_balances(lots: dict, moved: dict[int, tuple]) -> list[dict]:
    balances = []
    for lot_id, lot in lots.items():
        received, in_stock = lot["quantity_received"], lot["quantity_on_hand"]
        issued, written_off = (total or ZERO for total in moved[lot_id])
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


def _batch_balances(batches: dict, sums: dict[int, tuple], tolerance: Decimal) -> list[dict]:
    balances = []
    for batch_id, batch in batches.items():
        fed, onward, packed = (total or ZERO for total in sums[batch_id])
        b = {"batch_no": batch["batch_no"], "unit": batch["unit"], "fed": fed,
             "produced": batch["output_quantity"], "losses": batch["loss_quantity"] or ZERO,
             "packed": packed, "fed_onward": onward, "on_hand": batch["quantity_on_hand"] or ZERO}
        b["flags"] = _batch_flags(b, tolerance)
        b["flagged"] = bool(b["flags"])
        balances.append(b)
    return _sorted(balances, "batch_no")


def _split_sums(entries: dict[int, dict], keys: tuple[str, ...]) -> dict[int, tuple]:
    """Take the aggregate columns (named ``_…``) out of the entries."""
    return {ident: tuple(entry.pop(key) for key in keys) for ident, entry in entries.items()}


# ---------------------------------------------------------------- result

def _fmt(value: Decimal) -> str:
    return format(value, ".3f")  # what quantize(0.001) then "f" writes (half-even), in one call


PLAIN = frozenset({str, int, bool, float, type(None)})


def _jsonable(value):
    kind = type(value)
    if kind in PLAIN:
        return value
    if kind is Decimal:
        return _fmt(value)
    if kind is dict:
        return {k: v if type(v) in PLAIN else _jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _json_default(value):
    """What the encoder cannot write itself: quantities and dates, as ``to_json`` writes them."""
    if type(value) is Decimal:
        return format(value, ".3f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


INTERNAL = {"id", "supplier_id", "product_batch_id", "commodity_batch_id", "customer_id"}


def _encoder():
    try:
        import orjson
    except ImportError:
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default).encode
        return lambda value: encode(value).encode()
    return lambda value: orjson.dumps(value, default=_json_default)


@contextmanager
def _collector_paused():
    """A result is a tree of plain dicts and lists, 150,000 of them for a recall, and
    no cycle among them: the cyclic garbage collector, woken again and again by so
    many new objects, would walk them all each time for nothing (a quarter of the
    time of a trace). Paused while they are made, as it was before afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _without_internal(entries: list[dict]) -> list[dict]:
    """The entries of a section without their internal keys (every entry of a
    section has the same keys, in the same order)."""
    if not entries:
        return []
    if INTERNAL.isdisjoint(entries[0]):
        return entries  # the sale lines: built without them
    keys = tuple(k for k in entries[0] if k not in INTERNAL)
    pick = itemgetter(*keys)
    return [dict(zip(keys, pick(entry))) for entry in entries] if len(keys) > 1 else [
        {keys[0]: entry[keys[0]]} for entry in entries]
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
            # Most values are already plain (a sale line has one date): convert only the others.
            data[key] = [{k: v if type(v) in PLAIN else _jsonable(v) for k, v in entry.items() if k not in INTERNAL}
                         for entry in getattr(self, key)]
        data["mass_balance"] = _jsonable(self.mass_balance)
        return data

    def json_text(self) -> str:
        """``to_json()`` as compact text: the same keys and values, one line per key of the result."""
        return self.json_bytes().decode()

    def json_bytes(self) -> bytes:
        """``json_text()`` in UTF-8, the way ``trace --json`` prints it. Written by orjson
        (the standard library's encoder, where orjson is missing, is four times
        slower: a recall of 30,000 sale lines is 14 MB of JSON); either asks
        ``_json_default`` only for the quantities and dates."""
        with _collector_paused():
            data: dict = {"query": self.query, "direction": self.direction}
            for key, _label in SECTIONS:
                data[key] = _without_internal(getattr(self, key))
            data["mass_balance"] = self.mass_balance
            encode = _encoder()
            return b"{\n" + b",\n".join(encode(key) + b":" + encode(value) for key, value in data.items()) + b"\n}"

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
    with _collector_paused():
        return _trace(session, number, direction)


def trace_json(session: Session, number: str, direction: str) -> bytes:
    """``trace(...).json_bytes()`` — what ``trace --json`` prints — with the collector
    paused over both: woken between them it would walk the whole fresh result once."""
    with _collector_paused():
        return trace(session, number, direction).json_bytes()


def _trace(session: Session, number: str, direction: str) -> TraceResult:
    start = _resolve(session, number)
    walk = _forward if direction == "forward" else _backward
    members = walk(session, start)
    batches = _batches(session, members)
    if len(batches) <= LISTED:
        # The other sections over the ids just read: PostgreSQL plans a list of
        # values, not a CTE whose size it cannot guess (seconds against milliseconds).
        members = walk(session, start, sorted(batches))
    lots = _lots(session, members)
    moved = _split_sums(lots, ("_issued", "_written_off"))
    sums = _split_sums(batches, ("_fed", "_fed_onward", "_packed"))
    commodities = _commodities(session, members)
    sales = _delivery_rows(session, members)
    customers = _parties(session, Customer, {row[7] for row in sales.values()})
    deliveries = _deliveries(session, sales, commodities, customers)
    commodity_list = _sorted(commodities.values(), "lot_code")
    suppliers = _parties(session, Supplier, {lot["supplier_id"] for lot in lots.values()})
    _attach_feedings(_links(session, members), lots, batches)
    _attach_packing(batches, commodity_list)
    material_lots = _sorted(lots.values(), "lot_no")
    _attach_lots_to_suppliers(material_lots, suppliers)
    raw_tolerance = settings.get(session, "mass_balance_tolerance")
    return TraceResult(
        query=number,
        direction=direction,
        material_lots=material_lots,
        product_batches=_sorted(batches.values(), "batch_no"),
        commodity_batches=commodity_list,
        deliveries=deliveries,
        customers=_sorted(customers.values(), "name"),
        suppliers=_sorted(suppliers.values(), "name"),
        mass_balance={
            "tolerance": str(raw_tolerance),
            "material_lots": _lot_balances(lots, moved),
            "product_batches": _batch_balances(batches, sums, _tolerance(raw_tolerance)),
        },
    )
