"""Data entry the application's way, on the generated factory, against a raw
INSERT of the same row (the floor).

Every service call runs as the system account inside one transaction that is
rolled back at the end (the factory stays as generated). Figures are CPU
milliseconds per entry — what the machine's load does not change — as the
median of ``--repeat`` entries:

* a CCP reading of an open batch holding 0, 1,000 and 3,000 readings (the
  archive sync must not grow with the batch);
* a feeding of a material lot, and a delivery of a released commodity batch
  (on a database of ten years: nor with the database).

    python3 bench/bench_entry.py [--years 10] [--postgresql] [--repeat 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import app.services  # noqa: E402,F401  (the audit, guard and outbox listeners)
from app.db import make_engine  # noqa: E402
from app.models import CCPReading, CommodityBatch, CriticalControlPoint, Customer, MaterialLot, ProductBatch  # noqa: E402
from app.services import acting, archives, distribution, production  # noqa: E402
from bench.make_factory import factory_url  # noqa: E402

NOW = dt.datetime(2026, 6, 1, 9, 0)


def _cpu(action, repeat: int) -> float:
    """Median CPU milliseconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        used = time.process_time()
        action()
        times.append((time.process_time() - used) * 1000)
    return statistics.median(times)


def _raw_insert(session: Session, table: str, row: dict, repeat: int, unique: str | None = None) -> float:
    """The floor: the same row by the driver alone (one INSERT, no ORM, no audit);
    ``unique`` names a column that gets a new value each time."""
    raw = session.connection().connection.driver_connection
    names = ", ".join(row)
    marks = ", ".join(["?"] * len(row)) if session.bind.dialect.name == "sqlite" else ", ".join(["%s"] * len(row))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    position = list(row).index(unique) if unique else None
    values = list(row.values())
    cursor = raw.cursor()
    counter = iter(range(10 ** 9))

    def once():
        if position is not None:
            values[position] = f"{row[unique]}{next(counter)}"
        cursor.execute(sql, values)
    result = _cpu(once, repeat)
    cursor.close()
    return result


def _readings(session: Session, batch: ProductBatch, ccp: CriticalControlPoint, count: int) -> None:
    """Readings that earlier entries made, then filed as the application files them."""
    if count:
        session.execute(insert(CCPReading.__table__), [
            {"batch_id": batch.id, "ccp_id": ccp.id, "measured_at": NOW - dt.timedelta(minutes=count - i),
             "value": Decimal("95.0"), "deviation": False, "operator_id": 1, "created_at": NOW, "created_by": "bench"}
            for i in range(count)])
        session.expire_all()
    archives.file_product_batch(session, batch)


def run(url: str, repeat: int) -> dict[str, float]:
    engine = make_engine(url)
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    acting.bind(session, acting.system("bench"))
    session.info["now"] = NOW
    figures: dict[str, float] = {}
    try:
        product_id = session.scalar(select(ProductBatch.product_id).where(ProductBatch.status == "completed").limit(1))
        ccp = CriticalControlPoint(product_id=product_id, name="杀菌", controlled_item="温度", parameter="温度",
                                   lower_limit=Decimal(90), upper_limit=Decimal(100), unit="℃")
        session.add(ccp)
        session.flush()
        batch = production.start_batch(session, {"product_id": product_id, "production_date": NOW.date()})
        filed = 0
        for count in (0, 1000, 3000):
            _readings(session, batch, ccp, count - filed)
            filed = count
            figures[f"CCP reading, {count:,} in the batch"] = _cpu(
                lambda: production.record_ccp(session, batch, ccp, "95.5", operator_id=1), repeat)
        figures["raw INSERT of a CCP reading"] = _raw_insert(session, "ccp_reading", {
            "batch_id": batch.id, "ccp_id": ccp.id, "measured_at": NOW.isoformat(" "), "value": 95.5,
            "deviation": False, "operator_id": 1, "created_at": NOW.isoformat(" "), "created_by": "bench"}, repeat)

        lot = session.scalar(select(MaterialLot).where(MaterialLot.status == "available",
                                                       MaterialLot.quantity_on_hand > 500).order_by(MaterialLot.id.desc()).limit(1))
        figures["feeding of a lot"] = _cpu(
            lambda: production.feed_lot(session, batch, lot, "0.5", operator_id=1), repeat)
        figures["raw INSERT of a feeding"] = _raw_insert(session, "feeding", {
            "batch_id": batch.id, "material_lot_id": lot.id, "quantity": 0.5, "unit": "kg",
            "fed_at": NOW.isoformat(" "), "operator_id": 1, "created_at": NOW.isoformat(" "), "created_by": "bench"}, repeat)

        commodity = session.scalar(select(CommodityBatch).where(
            CommodityBatch.status == "released").order_by(CommodityBatch.units_on_hand.desc(), CommodityBatch.id).limit(1))
        customer = session.get(Customer, 1)
        figures["delivery"] = _cpu(lambda: distribution.deliver(
            session, commodity, customer, 1, {"sale_date": NOW.date(), "clerk_id": 1}), repeat)
        figures["raw INSERT of a delivery"] = _raw_insert(session, "delivery", {
            "delivery_no": "BENCH", "commodity_batch_id": commodity.id, "customer_id": 1, "units": 1,
            "sale_date": NOW.date().isoformat(), "certificate_no": "HG", "confirmed": False, "clerk_id": 1,
            "created_at": NOW.isoformat(" "), "created_by": "bench"}, repeat, unique="delivery_no")
    finally:
        session.close()
        outer.rollback()
        connection.close()
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--db", help="a factory already made (URL), instead of the cached one")
    args = parser.parse_args()
    url = args.db or factory_url(args.years, args.postgresql)
    print(f"{url}: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; CPU ms per entry, median of {args.repeat}")
    figures = run(url, args.repeat)
    for name, ms in figures.items():
        print(f"  {name:40} {ms:7.2f} ms")
    flat = figures["CCP reading, 3,000 in the batch"] / figures["CCP reading, 0 in the batch"]
    print(f"CCP reading at 3,000 / at 0: {flat:.2f}× (goal: flat)")
    for what in ("feeding of a lot", "delivery"):
        print(f"{what}: {figures[what]:.1f} ms (goal ≤ 5 ms)")


if __name__ == "__main__":
    main()
