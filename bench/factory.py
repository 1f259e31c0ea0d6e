"""A factory of N years in the application's own schema, generated, not entered.

One generator serves the benches (``bench/make_factory.py`` writes a ten-year
database; ``bench_trace``, ``bench_ledger`` and ``bench_entry`` read it) and
the trace property test (``tests/unit/test_trace.py`` draws a tiny plan and
compares the trace with a brute-force walk over the same rows).

Each year the factory receives ``lots`` material lots and makes batches in
five levels: level 1 semi-finished batches from material lots; levels 2–4
semi-finished batches that mix two batches of the level below with more
lots (three mixed levels); level 5 finished batches from lots and, for most
of them, one semi-finished batch of level 1 or 4 (so a sale traces back
through every mixed level). Finished batches are packed into commodity
batches, which are sold to the customers. One salt lot (``SALT_LOT``) of the
first year is fed into ``salt_batches`` batches: the recall everybody fears.

Quantities add up — every lot's receipts, issues and stock, every batch's
feeding, output, losses, packing and stock — so a mass-balance flag on this
data is a bug. The same seed and plan give the same rows, ids included.
Rows are plain dicts; ``load`` writes them with the driver's bulk path (the
audit log is bypassed: this is test data, not records).
"""

from __future__ import annotations

import bisect
import functools
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

SALT_LOT = "L-SALT-0001"
SALT_MATERIAL = "食用盐"
FIRST_YEAR_END = 2025  # the last generated year ends on 2025-12-31, before any clock that reads it
AT_EIGHT = dt.time(8, 0)


@dataclass(frozen=True)
class Plan:
    """How much a factory makes per year, and its master data."""

    years: int = 1
    lots: int = 10_000
    levels: tuple[int, ...] = (250, 125, 75, 50, 4_500)  # batches per level and year
    lots_per_batch: tuple[tuple[int, int], ...] = ((10, 14), (2, 4), (2, 3), (2, 3), (8, 12))
    commodities_per_batch: tuple[int, int] = (3, 4)
    deliveries_per_commodity: tuple[int, int] = (3, 10)
    salt_batches: int = 1_400
    customers: int = 2_000
    suppliers: int = 200
    materials: int = 300
    products: int = 80  # the first quarter semi-finished
    people: int = 40
    span_days: int = 365  # the days of a year that production runs on (a tiny plan squeezes them)
    seed: int = 2026

    @classmethod
    def tiny(cls, seed: int, years: int = 1) -> Plan:
        """A few dozen rows: every level, mixing, shared supplier lots, the salt lot."""
        return cls(years=years, lots=24, levels=(4, 3, 2, 2, 6), lots_per_batch=((1, 3), (0, 2), (0, 2), (0, 1), (1, 3)),
                   commodities_per_batch=(0, 2), deliveries_per_commodity=(0, 3), salt_batches=3, customers=4,
                   suppliers=3, materials=5, products=8, people=2, span_days=12, seed=seed)

    def scaled(self, years: int) -> Plan:
        return replace(self, years=years)


@dataclass
class Factory:
    """Generated rows by table name, in an order that satisfies the foreign keys."""

    plan: Plan
    tables: dict[str, list[dict]] = field(default_factory=dict)
    # Where the benches start: the salt lot, and a sale reaching back through every level.
    deep_delivery: str | None = None
    deep_batch: str | None = None

    def rows(self, table: str) -> list[dict]:
        return self.tables.setdefault(table, [])


ORDER = ("person", "supplier", "material", "product", "product_spec", "customer", "incoming_inspection",
         "material_lot", "product_batch", "feeding", "stock_movement", "commodity_batch", "delivery")


def _stamp(day: dt.date, minutes: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, AT_EIGHT) + dt.timedelta(minutes=minutes)


def _master(f: Factory, rng: random.Random) -> None:
    plan = f.plan
    start = dt.datetime(FIRST_YEAR_END - plan.years, 12, 1, 8, 0)
    stamp = {"created_at": start, "created_by": "generator"}
    f.rows("person").extend({"id": i, "employee_no": f"E{i:03d}", "name": f"员工{i:03d}", "post": "production",
                             "active": True} | stamp for i in range(1, plan.people + 1))
    f.rows("supplier").extend({"id": i, "name": f"供应商{i:03d}有限公司", "address": f"上海市某区{i}号",
                               "contact_person": "联系人", "phone": f"021-{5000_0000 + i}", "status": "qualified"} | stamp
                              for i in range(1, plan.suppliers + 1))
    materials = [{"id": 1, "code": "M0001", "name": SALT_MATERIAL, "category": "raw", "unit": "kg"}]
    materials += [{"id": i, "code": f"M{i:04d}", "name": f"原料{i:04d}",
                   "category": "additive" if i % 15 == 0 else "raw", "unit": "kg"} for i in range(2, plan.materials + 1)]
    f.rows("material").extend(m | {"is_imported": False, "is_gmo": False, "needs_quarantine": False, "is_bulk": False}
                              | stamp for m in materials)
    semi = max(1, plan.products // 4)
    f.rows("product").extend({"id": i, "code": f"P{i:03d}", "name": f"{'半成品' if i <= semi else '产品'}{i:03d}",
                              "kind": "semi_finished" if i <= semi else "finished", "storage_condition": "ambient",
                              "shelf_life_days": 180} | stamp for i in range(1, plan.products + 1))
    f.rows("product_spec").extend({"id": i, "product_id": i, "spec": "500g/袋", "net_content": Decimal("0.5")}
                                  for i in range(1, plan.products + 1))
    f.rows("customer").extend({"id": i, "name": f"客户{i:04d}商行", "address": f"上海市某路{i}号",
                               "contact_person": "采购", "phone": f"139{rng.randrange(10 ** 8):08d}"} | stamp
                              for i in range(1, plan.customers + 1))


@dataclass
class _Batch:
    id: int
    level: int
    day: dt.date
    product_id: int
    batch_no: str = ""
    fed: int = 0
    onward: int = 0
    output: int = 0
    loss: int = 0


@dataclass
class _Lot:
    id: int
    day: dt.date
    received: int
    left: int
    row: dict


class _Year:
    """The rows of one year; ids continue from the years before."""

    def __init__(self, f: Factory, rng: random.Random, year: int, ids: dict[str, int]):
        self.f, self.rng, self.year, self.ids = f, rng, year, ids
        self.first = dt.date(year, 1, 1)
        self.days = min(f.plan.span_days, (dt.date(year + 1, 1, 1) - self.first).days)
        self.numbers: dict[str, int] = {}
        self._days: dict[int, list[dt.date]] = {}

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def number(self, prefix: str, width: int) -> str:
        self.numbers[prefix] = self.numbers.get(prefix, 0) + 1
        return f"{prefix}{self.numbers[prefix]:0{width}d}"

    def day(self, index: int) -> dt.date:
        return self.first + dt.timedelta(days=min(max(index, 0), self.days - 1))

    # ------------------------------------------------------------ lots

    def lots(self) -> list[_Lot]:
        plan, rng = self.f.plan, self.rng
        lots = []
        if self.year == FIRST_YEAR_END - plan.years + 1:
            lots.append(self._lot(self.day(0), 1, 1, "S-SALT-01", 5_000, lot_no=SALT_LOT))
        for _ in range(plan.lots):
            supplier = rng.randint(1, plan.suppliers)
            # Suppliers number their lots; a few numbers come again (two lots, one supplier lot).
            supplier_lot = f"S{supplier:03d}-{self.year % 100:02d}{rng.randrange(max(2, plan.lots // 3)):04d}"
            lots.append(self._lot(self.day(rng.randrange(self.days)), rng.randint(2, plan.materials), supplier,
                                  supplier_lot, 1_000))
        lots.sort(key=lambda lot: (lot.day, lot.id))
        return lots

    def _lot(self, day: dt.date, material: int, supplier: int, supplier_lot: str, received: int,
             lot_no: str | None = None) -> _Lot:
        receipt_id, lot_id = self.next_id("incoming_inspection"), self.next_id("material_lot")
        at = _stamp(day)
        self.f.rows("incoming_inspection").append({
            "id": receipt_id, "receipt_no": self.number(f"JH{self.year}", 6), "material_id": material,
            "supplier_id": supplier, "quantity": received, "unit": "kg", "production_date": day,
            "supplier_lot": supplier_lot, "receipt_date": day, "decision": "accepted", "inspector_id": 1,
            "created_at": at, "created_by": "generator"})
        row = {"id": lot_id, "lot_no": lot_no or self.number(f"L{self.year}", 6), "material_id": material,
               "supplier_id": supplier, "receipt_id": receipt_id, "supplier_lot": supplier_lot,
               "quantity_received": received, "quantity_on_hand": received, "unit": "kg", "production_date": day,
               "status": "available", "created_at": at, "created_by": "generator"}
        self.f.rows("material_lot").append(row)
        self.f.rows("stock_movement").append({
            "id": self.next_id("stock_movement"), "lot_id": lot_id, "moved_at": at, "kind": "receipt",
            "quantity": received, "balance": received, "created_at": at, "created_by": "generator"})
        return _Lot(lot_id, day, received, received, row)

    # ------------------------------------------------------------ batches

    def batches(self) -> list[_Batch]:
        plan, rng = self.f.plan, self.rng
        semi = max(1, plan.products // 4)
        drawn = []
        for level, count in enumerate(plan.levels, start=1):
            for _ in range(count):
                # Each level is made a few days after the one below, so its sources exist.
                day = rng.randrange(max(1, self.days - 6)) + level
                product = rng.randint(1, semi) if level < 5 else rng.randint(semi + 1, plan.products)
                drawn.append((day, level, product))
        drawn.sort()
        batches = []
        for day, level, product in drawn:
            batch = _Batch(self.next_id("product_batch"), level, self.day(day), product)
            batch.batch_no = self.number(f"P{product:03d}{batch.day:%Y%m%d}", 2)
            batches.append(batch)
        return batches

    def feed(self, batches: list[_Batch], lots: list[_Lot]) -> None:
        plan, rng = self.f.plan, self.rng
        lot_days = [lot.day for lot in lots]
        by_level: dict[int, list[_Batch]] = {level: [] for level in range(1, 6)}
        for batch in batches:
            by_level[batch.level].append(batch)
        salted = self._salted(by_level)
        for batch in batches:  # in date order: every source is complete before it is used
            lo, hi = plan.lots_per_batch[batch.level - 1]
            received = bisect.bisect_right(lot_days, batch.day)
            window = lots[max(0, received - 300):received]
            window = [lot for lot in window if lot.row["lot_no"] != SALT_LOT]
            chosen = rng.sample(window, min(len(window), rng.randint(lo, hi)))
            if batch.id in salted and lots and lots[0].row["lot_no"] == SALT_LOT:
                chosen.append(lots[0])
            for lot in chosen:
                quantity = 2 if lot.row["lot_no"] == SALT_LOT else rng.randint(10, 30)
                if quantity <= lot.left:
                    self._feed_lot(batch, lot, quantity)
            for source in self._sources(batch, by_level):
                wanted = rng.randint(20, 40) if batch.level < 5 else rng.randint(5, 15)
                quantity = min(wanted, source.output - source.onward - 1)
                if quantity > 0:
                    self._feed_batch(batch, source, quantity)
            if batch.fed:
                batch.loss = max(1, batch.fed // 100) if batch.fed > 1 else 0
                batch.output = batch.fed - batch.loss

    def _salted(self, by_level: dict[int, list[_Batch]]) -> set[int]:
        """Mostly finished batches, and a few semi-finished ones that carry the salt onward."""
        plan, rng = self.f.plan, self.rng
        if self.year != FIRST_YEAR_END - plan.years + 1:
            return set()
        semi = by_level[1]
        finished = by_level[5]
        n_semi = min(len(semi), max(1, plan.salt_batches // 120))
        n_finished = min(len(finished), plan.salt_batches - n_semi)
        return {b.id for b in rng.sample(semi, n_semi)} | {b.id for b in rng.sample(finished, n_finished)}

    def _sources(self, batch: _Batch, by_level: dict[int, list[_Batch]]) -> list[_Batch]:
        rng = self.rng
        if batch.level == 1:
            return []
        if batch.level < 5:
            wanted, levels = 2, (batch.level - 1,)
        else:
            roll = rng.random()
            wanted, levels = (1, (4,)) if roll < 0.05 else (1, (1,)) if roll < 0.2 else (0, ())
        found: list[_Batch] = []
        for level in levels:
            pool = [b for b in self._recent(by_level[level], batch.day) if b.output - b.onward > 1 and b not in found]
            found += rng.sample(pool, min(wanted, len(pool)))
        return found

    def _recent(self, batches: list[_Batch], day: dt.date) -> list[_Batch]:
        """Batches made in the 30 days before ``day`` (not on it: a source is finished first)."""
        key = id(batches)
        if key not in self._days:
            self._days[key] = [b.day for b in batches]
        days = self._days[key]
        return batches[bisect.bisect_left(days, day - dt.timedelta(days=30)):bisect.bisect_left(days, day)]

    def _feed_lot(self, batch: _Batch, lot: _Lot, quantity: int) -> None:
        at = _stamp(batch.day, 10)
        lot.left -= quantity
        self.f.rows("feeding").append({
            "id": self.next_id("feeding"), "batch_id": batch.id, "material_lot_id": lot.id, "source_batch_id": None,
            "quantity": quantity, "unit": "kg", "fed_at": at, "operator_id": 1 + batch.id % self.f.plan.people,
            "created_at": at, "created_by": "generator"})
        self.f.rows("stock_movement").append({
            "id": self.next_id("stock_movement"), "lot_id": lot.id, "moved_at": at, "kind": "issue",
            "quantity": -quantity, "balance": lot.left, "batch_id": batch.id, "created_at": at,
            "created_by": "generator"})
        batch.fed += quantity

    def _feed_batch(self, batch: _Batch, source: _Batch, quantity: int) -> None:
        at = _stamp(batch.day, 20)
        source.onward += quantity
        self.f.rows("feeding").append({
            "id": self.next_id("feeding"), "batch_id": batch.id, "material_lot_id": None,
            "source_batch_id": source.id, "quantity": quantity, "unit": "kg", "fed_at": at,
            "operator_id": 1 + batch.id % self.f.plan.people, "created_at": at, "created_by": "generator"})
        batch.fed += quantity

    # ------------------------------------------------------------ packing and sales

    def finish(self, batches: list[_Batch], lots: list[_Lot]) -> None:
        plan, rng = self.f.plan, self.rng
        for lot in lots:
            lot.row["quantity_on_hand"] = lot.left
        for batch in batches:
            free = batch.output - batch.onward
            packed = self._pack(batch, free) if batch.level == 5 else 0
            at = _stamp(batch.day)
            self.f.rows("product_batch").append({
                "id": batch.id, "batch_no": batch.batch_no, "product_id": batch.product_id,
                "production_date": batch.day, "started_at": at, "finished_at": at + dt.timedelta(hours=6),
                "expiry_date": batch.day + dt.timedelta(days=180), "unit": "kg",
                "output_quantity": batch.output if batch.fed else None,
                "loss_quantity": batch.loss if batch.fed else None,
                "quantity_on_hand": free - packed if batch.fed else None,
                "status": "completed" if batch.fed else "open", "operator_id": 1 + batch.id % plan.people,
                "submitted_at": at + dt.timedelta(hours=6) if batch.fed else None,
                "created_at": at, "created_by": "generator"})

    def _pack(self, batch: _Batch, free: int) -> int:
        plan, rng = self.f.plan, self.rng
        n = rng.randint(*plan.commodities_per_batch)
        if n == 0 or free < 2 * n:
            return 0
        share, packed = free // n, 0
        for k in range(n):
            used = share - (1 if k == n - 1 and free % n == 0 else 0)  # a little left on hand
            units = used * 2  # 500 g packs
            commodity_id = self.next_id("commodity_batch")
            at = _stamp(batch.day, 360 + k * 30)
            sold = self._sell(commodity_id, batch, units)
            self.f.rows("commodity_batch").append({
                "id": commodity_id, "lot_code": f"{batch.batch_no}-{k + 1:02d}", "product_batch_id": batch.id,
                "spec_id": batch.product_id, "packed_from": at, "packed_to": at + dt.timedelta(minutes=25),
                "units": units, "product_quantity_used": used, "units_on_hand": units - sold,
                "production_date": batch.day, "expiry_date": batch.day + dt.timedelta(days=180),
                "label_checked": True, "status": "released", "released_at": at + dt.timedelta(hours=4),
                "released_by": 1, "certificate_no": f"HG{batch.batch_no}{k + 1:02d}", "operator_id": 1,
                "submitted_at": at, "created_at": at, "created_by": "generator"})
            packed += used
        return packed

    def _sell(self, commodity_id: int, batch: _Batch, units: int) -> int:
        plan, rng = self.f.plan, self.rng
        n = rng.randint(*plan.deliveries_per_commodity)
        if n == 0:
            return 0
        each, sold = max(1, units // (n + 1)), 0
        for _ in range(n):
            if sold + each > units:
                break
            day = batch.day + dt.timedelta(days=rng.randint(1, 20))
            number = self.number(f"XS{self.year}", 7)
            at = _stamp(day, 120)
            self.f.rows("delivery").append({
                "id": self.next_id("delivery"), "delivery_no": number, "commodity_batch_id": commodity_id,
                "customer_id": rng.randint(1, plan.customers), "units": each, "sale_date": day,
                "certificate_no": f"HG{batch.batch_no}", "confirmation_no": f"QR{number[2:]}",
                "confirmed": True, "cold_chain": "常温运输", "vehicle": f"沪A{rng.randrange(10 ** 5):05d}",
                "clerk_id": 1 + commodity_id % plan.people, "submitted_at": at, "created_at": at,
                "created_by": "generator"})
            sold += each
        return sold


def generate(plan: Plan) -> Factory:
    """Every row of the factory, deterministic for a plan (seed included)."""
    return next(_years(plan, together=True))


def generate_by_year(plan: Plan) -> Iterator[Factory]:
    """The same rows a year at a time (master data with the first): a ten-year
    factory never sits in memory whole."""
    return _years(plan, together=False)


def _years(plan: Plan, together: bool) -> Iterator[Factory]:
    rng = random.Random(plan.seed)
    f = Factory(plan)
    _master(f, rng)
    ids: dict[str, int] = {}
    for year in range(FIRST_YEAR_END - plan.years + 1, FIRST_YEAR_END + 1):
        y = _Year(f, random.Random(f"{plan.seed}-{year}"), year, ids)
        lots = y.lots()
        batches = y.batches()
        y.feed(batches, lots)
        y.finish(batches, lots)
        _remember_deep(f, batches)
        if not together:
            yield f
            f = Factory(plan, deep_delivery=f.deep_delivery, deep_batch=f.deep_batch)
    if together:
        yield f


def _remember_deep(f: Factory, batches: list[_Batch]) -> None:
    """The first sale of a finished batch that reaches back through levels 4, 3, 2 and 1."""
    if f.deep_delivery is not None:
        return
    sources: dict[int, set[int]] = {}
    level = {b.id: b.level for b in batches}
    for row in f.rows("feeding"):
        if row["source_batch_id"] is not None:
            sources.setdefault(row["batch_id"], set()).add(row["source_batch_id"])

    @functools.cache
    def depth(batch_id: int) -> int:
        return 1 + max((depth(s) for s in sources.get(batch_id, ())), default=0)

    numbers = {b.id: b.batch_no for b in batches}
    commodities = {c["id"]: c["product_batch_id"] for c in f.rows("commodity_batch")}
    for delivery in f.rows("delivery"):
        batch_id = commodities[delivery["commodity_batch_id"]]
        if level.get(batch_id) == 5 and depth(batch_id) >= 5:
            f.deep_delivery, f.deep_batch = delivery["delivery_no"], numbers[batch_id]
            return


# ------------------------------------------------------------------ loading


def load(connection, factory: Factory) -> dict[str, int]:
    """Insert the rows through ``connection`` (a SQLAlchemy Connection, inside
    its transaction) with the driver's fastest path: executemany on SQLite,
    COPY on PostgreSQL. Returns the rows per table."""
    from app.models import Base

    dialect = connection.dialect
    raw = connection.connection.driver_connection
    counts = {}
    for name in ORDER:
        rows = factory.tables.get(name)
        if not rows:
            continue
        table = Base.metadata.tables[name]
        present = set().union(*rows)
        columns = [c for c in table.columns if c.name in present]
        names = [c.name for c in columns]
        defaults = {c.name: None for c in columns}
        if dialect.name == "postgresql":
            with raw.cursor() as cursor, cursor.copy(
                    f"COPY {name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    values = defaults | row
                    copy.write_row([values[n] for n in names])
        else:
            processors = [c.type._cached_bind_processor(dialect) for c in columns]
            sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            cursor = raw.cursor()
            cursor.executemany(sql, (
                [p(v) if p and v is not None else v for p, v in zip(processors, (row.get(n) for n in names))]
                for row in rows))
            cursor.close()
        counts[name] = len(rows)
    return counts


def reset_sequences(connection) -> None:
    """PostgreSQL: the id sequences continue after the generated ids, so the
    application's own inserts do not collide with them."""
    if connection.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for name in ORDER:
        connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"))
