"""Benchmark of app.services.trace on a factory-sized SQLite database.

Builds ~20,000 material lots, ~5,000 product batches (60 % of them mixing
1–3 earlier batches, so chains run dozens of levels deep: a worst case),
~4,000 commodity batches and ~20,000 deliveries with bulk Core inserts (the
audit log is bypassed: this is test data, not records). The quantities add
up, so every mass-balance flag printed would be a bug. Then it times forward
and backward traces from a few start points.

    python3 bench/bench_trace.py [--lots 20000] [--batches 5000] [--deliveries 20000] [--mix 0.6] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.db import make_engine, upgrade  # noqa: E402
from app.models import (  # noqa: E402
    CommodityBatch,
    Customer,
    Delivery,
    Feeding,
    IncomingInspection,
    Material,
    MaterialLot,
    Person,
    Product,
    ProductBatch,
    ProductSpec,
    StockMovement,
    Supplier,
)
from app.services.trace import trace  # noqa: E402

DAY = dt.date(2024, 1, 1)
AT = dt.datetime(2024, 1, 1, 8, 0)
STAMP = {"created_at": AT, "created_by": "bench"}


def _bulk(conn, model, rows: list[dict]) -> None:
    stamp = STAMP if "created_at" in model.__table__.c else {}
    for start in range(0, len(rows), 5000):
        conn.execute(insert(model.__table__), [row | stamp for row in rows[start : start + 5000]])


def _master(conn, rng: random.Random) -> None:
    _bulk(conn, Person, [{"id": 1, "employee_no": "E1", "name": "操作员", "post": "production", "active": True}])
    _bulk(conn, Supplier, [{"id": i, "name": f"供应商{i:03d}", "address": "上海", "phone": "021", "status": "qualified"}
                           for i in range(1, 51)])
    _bulk(conn, Material, [{"id": i, "code": f"M{i:03d}", "name": f"原料{i:03d}", "category": "raw", "unit": "kg",
                            "is_imported": False, "is_gmo": False, "needs_quarantine": False, "is_bulk": False}
                           for i in range(1, 101)])
    _bulk(conn, Product, [{"id": i, "code": f"P{i:02d}", "name": f"产品{i:02d}", "storage_condition": "ambient",
                           "kind": "semi_finished" if i <= 5 else "finished"} for i in range(1, 21)])
    _bulk(conn, ProductSpec, [{"id": i, "product_id": i, "spec": "500g", "net_content": 0.5} for i in range(1, 21)])
    _bulk(conn, Customer, [{"id": i, "name": f"客户{i:04d}", "address": "上海", "contact_person": "联系人",
                            "phone": f"139{rng.randrange(10**8):08d}"} for i in range(1, 501)])


def _lots(rng: random.Random, n: int) -> tuple[list[dict], list[dict]]:
    receipts, lots = [], []
    for i in range(1, n + 1):
        supplier_lot = f"SL{rng.randrange(n // 2):06d}"  # about one in two supplier lots is shared
        material, supplier = rng.randint(1, 100), rng.randint(1, 50)
        receipts.append({"id": i, "receipt_no": f"R{i:06d}", "material_id": material, "supplier_id": supplier,
                         "quantity": 1000, "unit": "kg", "production_date": DAY, "supplier_lot": supplier_lot,
                         "receipt_date": DAY, "decision": "accepted", "inspector_id": 1})
        lots.append({"id": i, "lot_no": f"L{i:06d}", "material_id": material, "supplier_id": supplier,
                     "receipt_id": i, "supplier_lot": supplier_lot, "quantity_received": 1000,
                     "quantity_on_hand": 1000, "unit": "kg", "production_date": DAY, "status": "available"})
    return receipts, lots


def _feedings(rng: random.Random, n_batches: int, n_lots: int, mix: float) -> list[dict]:
    feedings = []
    for b in range(1, n_batches + 1):
        for lot in rng.sample(range(1, n_lots + 1), rng.randint(3, 6)):
            feedings.append({"batch_id": b, "material_lot_id": lot, "source_batch_id": None, "quantity": 10})
        if b > 1 and rng.random() < mix:  # mixing 1–3 of the last 100 batches
            for source in rng.sample(range(max(1, b - 100), b), min(b - 1, rng.randint(1, 3))):
                feedings.append({"batch_id": b, "material_lot_id": None, "source_batch_id": source, "quantity": 1})
    return feedings


def _balanced(rng: random.Random, lots: list[dict], feedings: list[dict], n_batches: int):
    """Batches, commodity batches and issues that add up, so the mass balance has nothing to flag."""
    fed, onward = defaultdict(int), defaultdict(int)
    moves = [{"lot_id": lot["id"], "moved_at": AT, "kind": "receipt", "quantity": 1000, "balance": 1000}
             for lot in lots]
    for f in feedings:
        fed[f["batch_id"]] += f["quantity"]
        if f["source_batch_id"]:
            onward[f["source_batch_id"]] += f["quantity"]
        else:
            lot = lots[f["material_lot_id"] - 1]
            lot["quantity_on_hand"] -= f["quantity"]
            moves.append({"lot_id": lot["id"], "moved_at": AT, "kind": "issue", "quantity": -f["quantity"],
                          "balance": lot["quantity_on_hand"], "batch_id": f["batch_id"]})
    batches, commodities = [], []
    for b in range(1, n_batches + 1):
        output = fed[b] - 1  # 1 kg lost per batch; every batch is fed at least 30 kg
        free = output - onward[b]
        packed = free if rng.random() < 0.8 else 0
        if packed:
            commodities.append({"id": len(commodities) + 1, "lot_code": f"C{len(commodities) + 1:05d}",
                                "product_batch_id": b, "spec_id": rng.randint(1, 20), "packed_from": AT,
                                "packed_to": AT, "units": packed * 2, "product_quantity_used": packed,
                                "units_on_hand": 0, "production_date": DAY, "label_checked": True,
                                "status": "released", "operator_id": 1})
        batches.append({"id": b, "batch_no": f"B{b:05d}", "product_id": rng.randint(1, 20), "production_date": DAY,
                        "unit": "kg", "output_quantity": output, "loss_quantity": 1,
                        "quantity_on_hand": free - packed, "status": "completed"})
    return batches, commodities, moves


def _deliveries(rng: random.Random, n_commodities: int, n: int) -> list[dict]:
    return [{"delivery_no": f"D{i:06d}", "commodity_batch_id": rng.randint(1, n_commodities),
             "customer_id": rng.randint(1, 500), "units": rng.randint(1, 40), "sale_date": DAY,
             "certificate_no": "HG", "confirmed": True, "clerk_id": 1} for i in range(1, n + 1)]


def build(path: Path, args) -> object:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    receipts, lots = _lots(rng, args.lots)
    feedings = _feedings(rng, args.batches, args.lots, args.mix)
    batches, commodities, moves = _balanced(rng, lots, feedings, args.batches)
    with engine.begin() as conn:
        _master(conn, rng)
        _bulk(conn, IncomingInspection, receipts)
        _bulk(conn, MaterialLot, lots)
        _bulk(conn, ProductBatch, batches)
        _bulk(conn, StockMovement, [{"batch_id": None} | m for m in moves])
        _bulk(conn, Feeding, [{"unit": "kg", "fed_at": AT, "operator_id": 1} | f for f in feedings])
        _bulk(conn, CommodityBatch, commodities)
        _bulk(conn, Delivery, _deliveries(rng, len(commodities), args.deliveries))
    print(f"built {args.lots} lots, {args.batches} batches ({len(feedings)} feedings), "
          f"{len(commodities)} commodity batches, "
          f"{args.deliveries} deliveries in {time.perf_counter() - started:.1f} s")
    return engine


def _time(engine, number: str, direction: str) -> None:
    queries = [0]

    def count(*_args):
        queries[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    with Session(engine) as session:
        started = time.perf_counter()
        result = trace(session, number, direction)
        elapsed = time.perf_counter() - started
        json_size = len(json.dumps(result.to_json(), ensure_ascii=False))
    event.remove(engine, "before_cursor_execute", count)
    flagged = len(result.flags())
    print(f"{direction:8} {number:9} {elapsed * 1000:8.0f} ms {queries[0]:5} queries"
          f" | lots {len(result.material_lots):5}"
          f" batches {len(result.product_batches):5} commodities {len(result.commodity_batches):5}"
          f" deliveries {len(result.deliveries):6} customers {len(result.customers):4}"
          f" | flags {flagged:5} | json {json_size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=20_000)
    parser.add_argument("--batches", type=int, default=5_000)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mix", type=float, default=0.6,
                        help="share of batches that mix earlier batches (default 0.6: chains dozens of levels deep)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-trace-") as tmp:
        engine = build(Path(tmp) / "bench.db", args)
        starts = [
            (f"L{1:06d}", "forward"), (f"L{args.lots // 2:06d}", "forward"), ("SL000042", "forward"),
            (f"B{1:05d}", "forward"), (f"B{args.batches:05d}", "backward"),
            ("C00100", "backward"), (f"D{args.deliveries:06d}", "backward"), ("D000001", "backward"),
        ]
        _time(engine, "L000002", "backward")  # warm-up: connection, statement cache
        print("-- timed --")
        for number, direction in starts:
            _time(engine, number, direction)
        engine.dispose()


if __name__ == "__main__":
    main()
