"""Several PCs at once (docs/reliability.md, 并发): N processes × R rounds of
the concurrency suite's PC (tests/unit/concurrency_worker.py) on one fresh
database; prints the outcomes, the stock ledger lines that do not run, what a
shared lot gave against what it held, and verify's findings.

    python -m bench.bench_concurrency sqlite 8 10
    python -m bench.bench_concurrency postgresql 8 10   # FOODARCHIVE_TEST_PG, or the local server
"""

from __future__ import annotations

import collections
import os
import sys
import tempfile
import time
from decimal import Decimal

os.environ.setdefault("FOODARCHIVE_CLOCK", "2026-11-22T10:00:00")  # the suite's day


def main(kind: str, pcs: int, rounds: int) -> None:
    from sqlalchemy import func, select, text

    from app.db import make_engine, make_sessionmaker, upgrade
    from app.models import CommodityBatch, Delivery, Feeding, MaterialLot, StockMovement
    from app.services import audit
    from tests.unit import test_concurrency as suite

    suite.PCS = pcs
    admin = name = None
    if kind == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/concurrency.db"
    else:
        from tests.conftest import _postgres_database

        admin, name, pg_url = _postgres_database()
        url = pg_url.render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    ids = dict(suite._seed(url), rounds=rounds, receipts=2)
    started = time.monotonic()
    outcomes = suite._run_pcs(url, ids)
    took = time.monotonic() - started
    counts = collections.Counter(f"{o[0]} {o[1]}" for o in outcomes)
    errors = collections.Counter(o[2].strip().splitlines()[-1][:100] for o in outcomes if o[0] == "internal")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        wrong = 0
        for lot in session.scalars(select(MaterialLot)):
            running = Decimal(0)
            for move in session.scalars(select(StockMovement).where(StockMovement.lot_id == lot.id).order_by(StockMovement.id)):
                running += move.quantity
                wrong += move.balance != running
            wrong += lot.quantity_on_hand != running
        soy = session.get(MaterialLot, ids["soy_lot"])
        fed = session.scalar(select(func.coalesce(func.sum(Feeding.quantity), 0)).where(Feeding.material_lot_id == soy.id))
        commodity = session.get(CommodityBatch, ids["commodity"])
        sold = session.scalar(select(func.coalesce(func.sum(Delivery.units), 0)).where(Delivery.commodity_batch_id == commodity.id))
    with engine.connect() as connection:
        findings = len(audit.verify(connection))
    engine.dispose()
    print(f"{kind}: {pcs} processes × {rounds} rounds, {len(outcomes)} saves in {took:.1f} s")
    print(f"  outcomes: {dict(sorted(counts.items()))}")
    print(f"  shared lot: fed {fed} of {suite.SOY}, on hand {soy.quantity_on_hand}; "
          f"commodity: sold {sold} of {suite.UNITS}, on hand {commodity.units_on_hand}")
    print(f"  stock ledger lines that do not run: {wrong}; verify findings: {findings}")
    print(f"  internal errors: {dict(errors) or 0}")
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
