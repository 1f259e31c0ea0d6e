"""Benchmark of the Excel ledger export (app.reports.ledger_export) on a big ledger.

Builds a SQLite database with 100,000 incoming inspections (进货查验记录, the
widest R2 ledger: 31 columns with the supplier's address and contact),
bulk-inserted with Core (test data, not records), then, each in a fresh
process so the peak memory is its own:

- ours: ``export_ledger`` — the ids of the table's query, rows read 1,000 at a
  time with their references and related columns, written in the printed
  layout (title, header, frozen panes, guarded text, typed dates);
- raw: the same cells, already in memory, appended to an openpyxl write-only
  sheet and saved — the least any write-only export can cost.

Targets (issue 6): ours ≤ 1.3 × raw in time, peak memory (max RSS) < 300 MB.
Both wall and CPU time (of the process) are printed: where other programs
share the cores, the CPU time is the fairer comparison.

    python3 bench/bench_excel.py [--rows 100000] [--seed 7] [--repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from bench.factory import Plan, generate, load  # noqa: E402  (the benches' one data generator)

DAY = dt.date(2024, 1, 1)

REMARKS = ("", "复检合格", "包装完好，数量相符", "-18℃ 冷链到货", "=供方自检报告随货", "车厢温度 4℃，已拍照留存")


def build(path: Path, rows: int, seed: int) -> None:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    rng = random.Random(seed)
    started = time.perf_counter()
    # The generated factory's receipts alone: no batch is made.
    factory = generate(Plan(lots=rows - 1, levels=(0, 0, 0, 0, 0), salt_batches=0, seed=seed))
    factory.tables = {name: factory.tables[name] for name in ("person", "supplier", "material", "incoming_inspection")}
    receipts = factory.rows("incoming_inspection")
    for r in receipts:
        r.update(spec=rng.choice(("25kg/袋", "50kg/袋", "1t/吨包", "20L/桶")), certificate_kind="第三方检验报告",
                 certificate_no=f"BG{rng.randrange(10**8):08d}", shelf_life_days=rng.choice((180, 365, 720)),
                 receipt_date=DAY + dt.timedelta(days=rng.randrange(730)),
                 quantity=rng.randint(1, 20_000) / 4, remarks=rng.choice(REMARKS),
                 trace_code=f"31{rng.randrange(10**12):012d}")
        r["expiry_date"] = r["production_date"] + dt.timedelta(days=r["shelf_life_days"])
    with engine.begin() as conn:
        load(conn, factory)
    engine.dispose()
    print(f"built {rows} incoming inspections in {time.perf_counter() - started:.1f} s")


def child(mode: str, db: Path, out: Path) -> None:
    """One measurement in this process: seconds and peak RSS, as JSON on stdout."""
    from openpyxl import Workbook

    from app.ledgers import ledger
    from app.reports.ledger_columns import export_layout
    from app.reports.ledger_export import export_ledger, stream_rows
    from app.services.ledger_query import Filters, LedgerQuery, read_ids

    from app.services import acting

    engine = make_engine(f"sqlite:///{db}")
    with make_sessionmaker(engine, acting.system("bench"))() as session:
        if mode == "ours":
            started, cpu = time.perf_counter(), time.process_time()
            rows = export_ledger(session, "incoming_inspection", out)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        else:
            lg = ledger("incoming_inspection")
            query = LedgerQuery(lg)
            ids = read_ids(session, query.ids(Filters(), *query.default_sort()))
            layout = export_layout(lg)
            cells = list(stream_rows(session, query, layout, ids))  # not timed: the cells, in memory
            header = [c.label for c in layout.columns]
            started, cpu = time.perf_counter(), time.process_time()
            wb = Workbook(write_only=True)
            ws = wb.create_sheet("raw")
            ws.append(header)
            for row in cells:
                ws.append(row)
            wb.save(out)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            rows = len(cells)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb(), "rows": rows, "bytes": out.stat().st_size}))


def peak_mb() -> float:
    """This process's peak resident memory: VmHWM on Linux (ru_maxrss would
    include the parent's peak, inherited across fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(mode: str, db: Path, out: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", mode, "--db", str(db), "--out", str(out)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", choices=("ours", "raw"))
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.out)
        return
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        build(db, args.rows, args.seed)
        results = {"raw": [], "ours": []}
        for _ in range(args.repeat):
            for mode in ("raw", "ours"):
                results[mode].append(measure(mode, db, Path(folder) / f"{mode}.xlsx"))
        for mode, runs in results.items():
            best = min(runs, key=lambda r: r["seconds"])
            print(f"{mode:>4}: {best['rows']} rows in {best['seconds']:.2f} s (CPU {min(r['cpu'] for r in runs):.2f} s), peak RSS "
                  f"{max(r['peak_mb'] for r in runs):.0f} MB, file {best['bytes'] / 2**20:.1f} MB")
        ratio = min(r["seconds"] for r in results["ours"]) / min(r["seconds"] for r in results["raw"])
        cpu_ratio = min(r["cpu"] for r in results["ours"]) / min(r["cpu"] for r in results["raw"])
        peak = max(r["peak_mb"] for r in results["ours"])
        print(f"ours / raw = {ratio:.2f} wall, {cpu_ratio:.2f} CPU (target ≤ 1.30; on a shared machine the CPU "
              f"ratio is the steadier one); ours peak RSS {peak:.0f} MB (target < 300 MB)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
