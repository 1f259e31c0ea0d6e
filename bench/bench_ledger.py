"""The ledger table (app.ui.ledger_model / ledger_page) on the sales ledger of
the generated ten-year factory (bench/factory.py: ~1,000,000 rows), against
the floor: the first 200 rows in the default order and the count, by the
driver alone.

What a user waits for, with an offscreen QApplication, as medians of
``--repeat``: opening the ledger until its first screen of rows can paint
(the count comes later from the task runner: timed apart), a text search
(three characters or more: the trigram index; two: a LIKE read in the order
shown), sorting by a shown column, scrolling to the end.

    python3 bench/bench_ledger.py [--years 10] [--postgresql] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.ledgers import ledger  # noqa: E402
from bench.make_factory import factory_url  # noqa: E402

VISIBLE = 35  # rows a 1280×800 page shows
LEDGER = "delivery"


def _show(model, rows: range) -> None:
    """What a view asks for when it paints rows: every column's text."""
    for row in rows:
        for column in range(model.columnCount()):
            model.data(model.index(row, column))


def _median(action, repeat: int, before=None) -> float:
    """Median wall-clock seconds; ``before`` runs untimed ahead of each repeat."""
    times = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def floor(engine, repeat: int) -> float:
    """The first 200 rows in the default order and the count, on the driver's cursor."""
    raw = engine.raw_connection()
    statements = ("SELECT * FROM delivery ORDER BY sale_date DESC, id DESC LIMIT 200", "SELECT count(*) FROM delivery")

    def run():
        cursor = raw.cursor()
        for statement in statements:
            cursor.execute(statement)
            cursor.fetchall()
        cursor.close()
    run()
    result = _median(run, repeat)
    raw.close()
    return result


def run(ctx, repeat: int, terms: dict[str, str]) -> dict[str, float]:
    from app.ui.ledger_model import LedgerTableModel

    sales = ledger(LEDGER)
    names = sales.field_names
    state: dict[str, object] = {}

    def open_model():
        state["model"] = model = LedgerTableModel(ctx, sales)
        _show(model, range(VISIBLE))

    def counted():
        LedgerTableModel(ctx, sales)
        ctx.runner.settle()

    def then(change):
        def action():
            model = state["model"]
            change(model)
            _show(model, range(min(VISIBLE, model.rowCount())))
        return action

    def reset():
        state["model"].set_filters()
        state["model"].sort(-1)
        ctx.runner.settle()

    figures = {"open: first screen of rows": _median(open_model, repeat),
               "open: count in the background done": _median(counted, repeat)}
    for label, term in terms.items():
        figures[f"search {label} '{term}'"] = _median(then(lambda m, t=term: m.set_filters(t)), repeat, before=reset)
    for field, order in (("units", Qt.SortOrder.DescendingOrder), ("customer_id", Qt.SortOrder.AscendingOrder),
                         ("vehicle", Qt.SortOrder.AscendingOrder), ("sale_date", Qt.SortOrder.AscendingOrder)):
        figures[f"sort by {sales.field(field).label} ({field})"] = _median(
            then(lambda m, c=names.index(field), o=order: m.sort(c, o)), repeat, before=reset)

    def scroll_to_end():
        model = state["model"]
        _show(model, range(max(0, model.rowCount() - VISIBLE), model.rowCount()))

    def uncached():
        reset()
        state["model"]._pages = type(state["model"]._pages)(list(state["model"]._pages.items())[:1])
    figures["scroll to the end (uncached page)"] = _median(scroll_to_end, repeat, before=uncached)
    ctx.runner.settle()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="a factory already made (URL), instead of the cached one")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from app.services import acting
    from app.ui.context import AppContext
    from app.ui.tasks import TaskRunner

    url = args.db or factory_url(args.years, args.postgresql)
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM delivery")).scalar()
        customer = conn.execute(text("SELECT name FROM customer WHERE id = 42")).scalar()
        lot_code = conn.execute(text("SELECT lot_code FROM commodity_batch ORDER BY id DESC LIMIT 1")).scalar()
        number = conn.execute(text("SELECT delivery_no FROM delivery ORDER BY id DESC LIMIT 1")).scalar()
    ctx = AppContext(engine, make_sessionmaker(engine), TaskRunner(app), acting=acting.system("bench"))
    terms = {"a customer": customer, "a lot code": lot_code, "a delivery number": number[:-2],
             "no match": "zz_%", "two characters": "沪A"}
    print(f"{url}: {rows:,} sale lines; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"medians of {args.repeat}, seconds")
    base = floor(engine, args.repeat)
    print(f"  {'floor: first 200 rows + count (driver alone)':48} {base:7.3f}")
    figures = run(ctx, args.repeat, terms)
    goals = {"open: first": 0.1, "search": 0.3, "sort": 0.3}
    for name, seconds in figures.items():
        goal = next((g for prefix, g in goals.items() if name.startswith(prefix)), None)
        verdict = "" if goal is None else ("  ok" if seconds < goal else f"  over the goal of {goal} s")
        print(f"  {name:48} {seconds:7.3f}   {seconds / base:6.1f}× the floor{verdict}")
    engine.dispose()


if __name__ == "__main__":
    main()
