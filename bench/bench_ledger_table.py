"""Benchmark of the ledger table (app.ui.ledger_model / ledger_page) on a big ledger.

Builds a SQLite database with 100,000 material stock movements (物料出入库台账)
over 20,000 lots, 2,000 product batches and ten people, bulk-inserted with
Core (the audit log is bypassed: this is test data, not records), then times
with an offscreen QApplication what a user waits for: opening the page, a
search, a date filter, sorting and scrolling to the end. Target: each under
~100 ms, so nothing pauses visibly.

    python3 bench/bench_ledger_table.py [--rows 100000] [--lots 20000] [--seed 7] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench_trace import AT, DAY, _bulk, _lots, _master  # noqa: E402  (same folder: its data generator)
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from app.ledgers import ledger  # noqa: E402
from app.models import IncomingInspection, MaterialLot, Person, ProductBatch, StockMovement  # noqa: E402

VISIBLE = 35  # rows a 1280×800 page shows
NOTES = ("领料", "生产领用", "报损：包装破损", "入库", "退库复检", "盘点调整")


def _movements(rng: random.Random, n: int, n_lots: int, n_batches: int) -> list[dict]:
    moves = []
    for i in range(n):
        kind = rng.choices(("receipt", "issue", "write_off"), (2, 7, 1))[0]
        quantity = rng.randint(1, 500) * (1 if kind == "receipt" else -1)
        moves.append({
            "lot_id": rng.randint(1, n_lots), "kind": kind, "quantity": quantity, "balance": rng.randint(0, 1000),
            "moved_at": AT + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
            "batch_id": rng.randint(1, n_batches) if kind == "issue" else None,
            "handed_over_by": rng.randint(1, 10), "received_by": rng.randint(1, 10),
            "note": f"{rng.choice(NOTES)} {i:06d}",
        })
    return moves


def build(path: Path, args):
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    receipts, lots = _lots(rng, args.lots)
    n_batches = 2_000
    with engine.begin() as conn:
        _master(conn, rng)  # person 1, suppliers, materials, products
        _bulk(conn, Person, [{"id": i, "employee_no": f"E{i}", "name": f"员工{i:02d}", "post": "storage",
                              "active": True} for i in range(2, 11)])
        _bulk(conn, IncomingInspection, receipts)
        _bulk(conn, MaterialLot, lots)
        _bulk(conn, ProductBatch, [{"id": b, "batch_no": f"B{b:05d}", "product_id": rng.randint(1, 20),
                                    "production_date": DAY, "unit": "kg", "status": "completed"}
                                   for b in range(1, n_batches + 1)])
        _bulk(conn, StockMovement, _movements(rng, args.rows, args.lots, n_batches))
    print(f"built {args.rows} stock movements over {args.lots} lots in {time.perf_counter() - started:.1f} s")
    return engine


def _show(model, rows: range) -> None:
    """What a view asks for when it paints rows: every column's text."""
    for row in rows:
        for column in range(model.columnCount()):
            model.data(model.index(row, column))


def _measure(label: str, action, repeat: int, before=None) -> float:
    """Wall-clock ms (what a user waits) and CPU ms (what the machine's load does not change).
    ``before`` runs untimed ahead of each repeat."""
    wall, cpu = [], []
    for _ in range(repeat):
        if before:
            before()
        started, used = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    print(f"{label:44} first {wall[0]:6.1f}   median {statistics.median(wall):6.1f}   "
          f"cpu median {statistics.median(cpu):6.1f}")
    return statistics.median(wall)


def run(ctx, repeat: int) -> dict[str, float]:
    from app.ui.ledger_model import LedgerTableModel
    from app.ui.ledger_page import LedgerPage

    movements = ledger("stock_movement")
    lot_column = movements.field_names.index("lot_id")
    quantity_column = movements.field_names.index("quantity")
    state: dict[str, object] = {}

    def open_model():
        state["model"] = model = LedgerTableModel(ctx, movements)
        _show(model, range(VISIBLE))

    def open_page():
        page = LedgerPage(ctx, movements)
        page.resize(1280, 800)
        page.show()
        QApplication.processEvents()  # lays out and paints the visible rows
        page.close()
        page.deleteLater()

    def then(change):
        def action():
            model = state["model"]
            change(model)
            _show(model, range(min(VISIBLE, model.rowCount())))
        return action

    def scroll_to_end():
        model = state["model"]
        _show(model, range(max(0, model.rowCount() - VISIBLE), model.rowCount()))
        model._pages.clear()  # the next repeat scrolls into uncached rows again

    figures = {
        "model + first visible rows": _measure("model + first visible rows", open_model, repeat),
        "page built, shown and painted": _measure("page built, shown and painted", open_page, repeat),
        "search '报损'": _measure("search '报损' (LIKE over the note)", then(lambda m: m.set_filters("报损")), repeat),
        "search, no match": _measure("search 'zz_%' (escaped, no match)",
                                     then(lambda m: m.set_filters("zz_%")), repeat),
        "date filter (one month)": _measure("date filter (one month)", then(
            lambda m: m.set_filters(date_from=dt.date(2024, 6, 1), date_to=dt.date(2024, 6, 30))), repeat),
        "equality filter (kind)": _measure("equality filter (kind = write_off)", then(
            lambda m: m.set_filters(equals={"kind": "write_off"})), repeat),
    }
    figures["clear filters"] = _measure("clear filters", then(lambda m: m.set_filters()), repeat,
                                        before=lambda: state["model"].set_filters("报损"))

    def sorting(column: int, order=Qt.SortOrder.AscendingOrder):
        # A model does not re-query for the order it has: go back to the default first.
        return then(lambda m: m.sort(column, order)), lambda: state["model"].sort(-1)

    for name, (action, before) in {
        "sort by quantity (desc)": sorting(quantity_column, Qt.SortOrder.DescendingOrder),
        "sort by material lot number (ref, join)": sorting(lot_column),
    }.items():
        figures[name] = _measure(name, action, repeat, before)
    figures["default order"] = _measure("back to the default order (date desc)", then(lambda m: m.sort(-1)),
                                        repeat, before=lambda: state["model"].sort(quantity_column))
    figures["scroll to the end"] = _measure("scroll to the end (uncached page)", scroll_to_end, repeat)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--lots", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from app.ui.context import AppContext
    from app.ui.tasks import TaskRunner

    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        engine = build(Path(tmp) / "bench.db", args)
        ctx = AppContext(engine, make_sessionmaker(engine), TaskRunner(app))
        print(f"-- timed (ms), load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores --")
        figures = run(ctx, args.repeat)
        slow = {name: ms for name, ms in figures.items() if ms > 100}
        print("all medians under 100 ms" if not slow else f"medians over 100 ms: {', '.join(slow)}")
        engine.dispose()


if __name__ == "__main__":
    main()
