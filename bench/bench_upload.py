"""Benchmark of the platform sender: 10,000 queued records drained into the
simulator over loopback HTTP (R6).

The outbox is filled with bulk Core inserts of realistic purchase and sale
payloads (the records themselves are not built: this measures the upload,
not data entry). The simulator runs in this process on its own threads, with
the default profile (HMAC signatures, batch size from the profile unless
--batch-size). Prints the drain time, records per second, and checks that
the simulator accepted every key exactly once.

    python3 bench/bench_upload.py [--records 10000] [--batch-size N] [--db URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from app.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from app.models import OutboxEntry  # noqa: E402
from app.platform import outbox, profile, simulator  # noqa: E402
from app.platform.client import Client  # noqa: E402
from app.platform.credentials import Credentials  # noqa: E402
from app.platform.sender import Sender  # noqa: E402

PURCHASE = {
    "enterprise_credit_code": "91310115MA1K4F8L3R", "goods_name": "非转基因大豆", "goods_spec": "50kg/袋",
    "quantity": "1000", "unit": "kg", "production_date": "2026-11-01", "shelf_life_days": 180,
    "expiry_date": "2027-04-30", "receipt_date": "2026-11-10", "supplier_name": "黑龙江某粮油有限公司",
    "supplier_address": "黑龙江省哈尔滨市道里区某路 1 号", "supplier_contact": "李经理", "supplier_phone": "0451-80000000",
    "supplier_credit_code": "91230100MA1B2C3D49", "certificate_no": "R-2026-001",
}
SALE = {
    "enterprise_credit_code": "91310115MA1K4F8L3R", "product_name": "原味豆浆", "product_spec": "250mL",
    "gtin": "6901234567892", "quantity": 40, "unit": "件", "production_date": "2026-11-19", "shelf_life_days": 7,
    "expiry_date": "2026-11-26", "certificate_no": "CJ20261119001", "sale_date": "2026-11-20",
    "buyer_name": "联华超市浦东店", "buyer_address": "上海市浦东新区某路 2 号", "buyer_contact": "张店长",
    "buyer_phone": "021-50000000",
}


def fill(sessions, count: int) -> None:
    now = dt.datetime.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    rows = []
    for i in range(1, count + 1):
        kind, table, base, number = (("purchase", "incoming_inspection", PURCHASE, "receipt_no") if i % 2
                                     else ("sale", "delivery", SALE, "delivery_no"))
        label = f"{'JH' if i % 2 else 'XS'}{i:08d}"
        payload = dict(base, **{number: label, "batch_no": f"B{i:06d}"})
        rows.append(dict(kind=kind, source_table=table, source_id=i, version=1, idempotency_key=outbox.key_for(table, i, 1),
                         label=label, payload=outbox.encode(payload), status="pending", attempts=0,
                         created_at=now, next_attempt_at=now))
    with sessions.begin() as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(OutboxEntry.__table__), rows[start:start + 1000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--db", help="SQLAlchemy URL of an EMPTY database (default: a temporary SQLite file)")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-upload-')) / 'upload.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    fill(sessions, args.records)
    prof = profile.load()
    with simulator.Simulator(prof, accounts={"bench": "bench-secret"}) as sim:
        with Client(sim.url, prof, Credentials("bench", "bench-secret")) as client:
            sender = Sender(sessions, client, prof, batch_size=args.batch_size)
            started = time.perf_counter()
            report = sender.drain()
            elapsed = time.perf_counter() - started
        accepted = len(sim.report()["accepted"])
        repeats = sum(1 for n in sim.report()["counts"].values() if n > 1)
    with sessions() as session:
        left = session.scalar(select(func.count()).select_from(OutboxEntry.__table__).where(OutboxEntry.status != "acknowledged"))
    engine.dispose()
    print(f"database: {engine.dialect.name}; batch size {args.batch_size or prof.batch_size}; {report.batches} batches")
    print(f"drained {report.acknowledged} of {args.records} records in {elapsed:.2f} s "
          f"= {report.acknowledged / elapsed:,.0f} records/s")
    print(f"simulator accepted {accepted} distinct keys, {repeats} arrived more than once; {left} not acknowledged")
    if accepted != args.records or left or repeats:
        sys.exit("FAILED: every record must be acknowledged exactly once")


if __name__ == "__main__":
    main()
