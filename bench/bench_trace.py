"""The trace (app.services.trace) on the generated N-year factory
(bench/factory.py), side by side with its floor: one hand-written recursive
CTE run on the driver alone, returning the same traced set's sale lines.

Timed, as the median of ``--repeat`` runs after a warm-up:

* forward from the salt lot (fed into 1,400 batches: ~1,500 batches, ~33,000
  sale lines, every customer) — in-process ``trace()``; its JSON as the
  command prints it (``trace_json()``); and the whole command
  ``foodarchive trace forward … --json`` as a new process;
* backward from a sale that reaches back through every mixed level.

The floor (``FLOOR_*``) is the query one would write by hand: the batches
reached by a recursive CTE, joined to their commodity batches, sales and
customers, ordered by delivery number. SQLite plans that natural query by
walking every sale line (the delivery-number index) and probing the reached
set; a ``CROSS JOIN`` forces the order from the small set outward, and is
printed too: the stricter floor.

    python3 bench/bench_trace.py [--years 10] [--postgresql] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.services.trace import trace, trace_json  # noqa: E402
from bench.make_factory import factory_url, starts  # noqa: E402

FLOOR_FORWARD = """
WITH RECURSIVE reached(id) AS (
  SELECT batch_id FROM feeding WHERE material_lot_id IN (SELECT id FROM material_lot WHERE lot_no = :n OR supplier_lot = :n)
  UNION SELECT f.batch_id FROM feeding f JOIN reached r ON f.source_batch_id = r.id)
SELECT d.delivery_no, cb.lot_code, pb.batch_no, c.name, c.address, c.phone, d.units, d.sale_date
FROM reached r JOIN product_batch pb ON pb.id = r.id JOIN commodity_batch cb ON cb.product_batch_id = r.id
JOIN delivery d ON d.commodity_batch_id = cb.id JOIN customer c ON c.id = d.customer_id
ORDER BY d.delivery_no"""

FLOOR_BACKWARD = """
WITH RECURSIVE reached(id) AS (
  SELECT cb.product_batch_id FROM delivery d JOIN commodity_batch cb ON cb.id = d.commodity_batch_id WHERE d.delivery_no = :n
  UNION SELECT f.source_batch_id FROM feeding f JOIN reached r ON f.batch_id = r.id WHERE f.source_batch_id IS NOT NULL)
SELECT l.lot_no, l.supplier_lot, m.name, s.name, s.address, pb.batch_no, f.quantity
FROM reached r JOIN product_batch pb ON pb.id = r.id JOIN feeding f ON f.batch_id = r.id
JOIN material_lot l ON l.id = f.material_lot_id JOIN material m ON m.id = l.material_id JOIN supplier s ON s.id = l.supplier_id
ORDER BY l.lot_no"""


HINTED = {
    # The same queries with the joins in the written order: SQLite's CROSS JOIN.
    FLOOR_FORWARD: FLOOR_FORWARD.replace("FROM reached r JOIN product_batch pb ON pb.id = r.id JOIN commodity_batch",
                                         "FROM reached r CROSS JOIN product_batch pb ON pb.id = r.id CROSS JOIN commodity_batch")
                                .replace("\nJOIN delivery d", "\nCROSS JOIN delivery d").replace(" JOIN customer c", " CROSS JOIN customer c"),
    FLOOR_BACKWARD: FLOOR_BACKWARD.replace("FROM reached r JOIN product_batch pb ON pb.id = r.id JOIN feeding",
                                           "FROM reached r CROSS JOIN product_batch pb ON pb.id = r.id CROSS JOIN feeding")
                                  .replace("\nJOIN material_lot l", "\nCROSS JOIN material_lot l"),
}


def _median(action, repeat: int) -> tuple[float, object]:
    action()  # warm-up: connection, statement cache, file cache
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _floor(engine, sql: str, number: str, repeat: int) -> tuple[float, int]:
    """The hand-written query on the driver's own cursor: no SQLAlchemy at all."""
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            sql = sql.replace(":n", "%(n)s")

        def run():
            cursor = raw.cursor()
            cursor.execute(sql, {"n": number})
            rows = cursor.fetchall()
            cursor.close()
            return len(rows)
        return _median(run, repeat)
    finally:
        raw.close()


def _command(url: str, number: str, repeat: int) -> float:
    argv = [sys.executable, "-m", "app", "--db", url, "trace", "forward", number, "--json"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))

    def run():
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return _median(run, max(1, repeat // 2))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="a factory already made (URL), instead of the cached one")
    args = parser.parse_args()
    url = args.db or factory_url(args.years, args.postgresql)
    begin = starts(url)
    engine = make_engine(url)
    print(f"{url}: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; medians of {args.repeat} runs")
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        salt = begin["salt_lot"]
        forward, result = _median(lambda: trace(session, salt, "forward"), args.repeat)
        as_json, _ = _median(lambda: trace_json(session, salt, "forward"), args.repeat)
        deep = begin["deep_delivery"]
        backward, back = _median(lambda: trace(session, deep, "backward"), args.repeat)
    floor_forward, sale_lines = _floor(engine, FLOOR_FORWARD, salt, args.repeat)
    floor_backward, _ = _floor(engine, FLOOR_BACKWARD, deep, args.repeat)
    hinted_forward = hinted_backward = None
    if engine.dialect.name == "sqlite":
        hinted_forward, _ = _floor(engine, HINTED[FLOOR_FORWARD], salt, args.repeat)
        hinted_backward, _ = _floor(engine, HINTED[FLOOR_BACKWARD], deep, args.repeat)
    command = _command(url, salt, args.repeat)
    engine.dispose()
    print(f"forward {salt}: {len(result.product_batches)} batches, {len(result.deliveries)} sale lines "
          f"(floor: {sale_lines}), {len(result.customers)} customers, {len(result.flags())} flags")
    print(f"backward {deep}: {len(back.product_batches)} batches, {len(back.material_lots)} lots, "
          f"{len(back.flags())} flags")
    print(f"  forward in-process   {forward * 1000:8.0f} ms   floor CTE {floor_forward * 1000:6.0f} ms   "
          f"ratio {forward / floor_forward:4.2f}× (goal ≤ 1.5×)")
    if hinted_forward:
        print(f"                                      hinted CTE {hinted_forward * 1000:6.0f} ms   "
              f"ratio {forward / hinted_forward:4.2f}×")
    print(f"  forward --json       {as_json * 1000:8.0f} ms   ratio to the in-process trace {as_json / forward:4.2f}× (goal ≤ 1.2×)")
    print(f"  forward command      {command * 1000:8.0f} ms   (a new process: start-up, trace, JSON printed)")
    print(f"  backward in-process  {backward * 1000:8.0f} ms   floor CTE {floor_backward * 1000:6.0f} ms   "
          f"ratio {backward / floor_backward:4.2f}× (goal ≤ 1.5×)")
    if hinted_backward:
        print(f"                                      hinted CTE {hinted_backward * 1000:6.0f} ms   "
              f"ratio {backward / hinted_backward:4.2f}×")


if __name__ == "__main__":
    main()
