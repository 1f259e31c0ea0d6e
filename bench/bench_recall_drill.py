"""The recall drill (app.services.recall_drill, issue 13) on the generated
N-year factory (bench/factory.py): the compute time (the affected set, the
customers with contacts and the mass balance, as the drill's clock counts it)
and the report time (drill.pdf and drill.xlsx), side by side with the floor:
the forward trace alone, which the drill cannot be faster than.

Two starts: the salt lot (fed into ~1,400 batches: ~33,000 sale lines, every
customer — the worst case) and the batch of a deep sale (a typical recall).
Each drill runs in a transaction that is rolled back, so the internal audit
log does not grow with the repeats.

    python3 bench/bench_recall_drill.py [--years 10] [--postgresql] [--repeat 3] [--only deep|salt]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.reports.recall_drill import write  # noqa: E402
from app.services import acting, recall_drill  # noqa: E402
from app.services.trace import trace  # noqa: E402
from bench.make_factory import factory_url, starts  # noqa: E402


def _median(action, repeat: int, warm: bool = True) -> tuple[float, object]:
    if warm:
        action()  # warm-up: connection, statement cache, file cache
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _drill(engine, number: str, repeat: int, out: Path) -> dict:
    """The drill's own clock (compute), the report, and the trace alone."""
    computes, reports, drill = [], [], None
    for index in range(repeat + 1):  # the first is the warm-up
        with Session(engine) as session:
            acting.bind(session, acting.system("bench"))
            session.begin()
            gc.collect()
            drill = recall_drill.run(session, number)
            started = time.perf_counter()
            write(session, drill, out)
            report = time.perf_counter() - started
            session.rollback()
        if index:
            computes.append(float(drill.seconds))
            reports.append(report)
    with Session(engine) as session:
        floor, _ = _median(lambda: trace(session, number, "forward"), repeat)
    pages = (out / "drill.pdf").read_bytes().count(b"/Type /Page") - 1
    return {"drill": drill, "compute": statistics.median(computes), "report": statistics.median(reports),
            "floor": floor, "pdf_kb": (out / "drill.pdf").stat().st_size // 1024, "pages": pages,
            "xlsx_kb": (out / "drill.xlsx").stat().st_size // 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="a factory already made (URL), instead of the cached one")
    parser.add_argument("--only", choices=["deep", "salt"], help="one start only (the salt lot's report is long)")
    args = parser.parse_args()
    url = args.db or factory_url(args.years, args.postgresql)
    begin = starts(url)
    engine = make_engine(url)
    print(f"{url}: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; medians of {args.repeat} runs")
    chosen = [("deep", "a deep sale's batch", begin["deep_batch"]), ("salt", "the salt lot", begin["salt_lot"])]
    for _key, label, number in (c for c in chosen if args.only in (None, c[0])):
        with tempfile.TemporaryDirectory() as folder:
            m = _drill(engine, number, args.repeat, Path(folder))
        d = m["drill"]
        print(f"{label} {number}: {len(d.result.product_batches)} batches, {len(d.result.commodity_batches)} lots, "
              f"{len(d.result.deliveries)} sale lines, {len(d.customers)} customers, {len(d.flags())} balance flags")
        print(f"  compute (the drill's clock) {m['compute'] * 1000:8.0f} ms   floor: the forward trace "
              f"{m['floor'] * 1000:6.0f} ms   ratio {m['compute'] / m['floor']:4.2f}×")
        print(f"  report (drill.pdf + .xlsx)  {m['report'] * 1000:8.0f} ms   "
              f"PDF {m['pages']} pages {m['pdf_kb']} KB, xlsx {m['xlsx_kb']} KB")
    engine.dispose()


if __name__ == "__main__":
    main()
