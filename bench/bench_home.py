"""The home page (issue 17) on the generated ten-year factory (bench/factory.py):
built, its to-dos and alerts gathered, and painted, against the goal of 0.5 s.

The clock is set to the factory's last day (its data ends on 2025-12-31), so
the 30-day and 90-day windows of the alerts see the newest records. Printed:
each provider alone, ``services.home.home`` (every provider, the lines, the
counts), and the page from its constructor to its first paint with the lines
shown (the gathering runs on the task runner, as in the window), as medians
of ``--repeat``.

    python3 bench/bench_home.py [--years 10] [--postgresql] [--repeat 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app import clock  # noqa: E402
from app.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from bench.factory import FIRST_YEAR_END  # noqa: E402
from bench.make_factory import factory_url  # noqa: E402

GOAL = 0.5


def _median(action, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", help="another database (its URL) instead of the factory, e.g. the demo's")
    parser.add_argument("--today", type=dt.date.fromisoformat, help="the clock's day (default: the factory's last)")
    args = parser.parse_args()

    import app.services  # noqa: F401 (the listeners)
    from app.services import acting, alerts, home
    from app.ui.context import AppContext
    from app.ui.home_page import HomePage
    from app.ui.tasks import TaskRunner

    url = args.db or factory_url(args.years, args.postgresql)
    clock.freeze(dt.datetime.combine(args.today or dt.date(FIRST_YEAR_END, 12, 31), dt.time(10, 0)))
    qapp = QApplication.instance() or QApplication([])
    engine = make_engine(url)
    upgrade(engine)  # as the application does at start: the indexes of migration 0019
    maker = make_sessionmaker(engine)
    sessions = acting.Sessions(maker, acting.system("bench"))
    today = clock.today()
    where = "the given database" if args.db else f"the {args.years}-year factory"
    print(f"home page on {where} ({engine.dialect.name}), today = {today}, "
          f"medians of {args.repeat}")

    with sessions() as session:
        for spec, provider in zip(alerts.PROVIDERS, alerts._providers()):
            seconds, found = _median(lambda: list(provider(session, today)), args.repeat)
            print(f"  {spec:<48} {seconds * 1000:8.1f} ms  {len(found):5d} lines")
        seconds, data = _median(lambda: home.home(session, None), args.repeat)
        print(f"  {'services.home.home (all of them)':<48} {seconds * 1000:8.1f} ms  "
              f"{len(data.todos)} to-dos, {len(data.alerts)} alerts")

    ctx = AppContext(engine, maker, TaskRunner(qapp))
    ctx.act_as_system("bench")

    def page_painted():
        page = HomePage(ctx)
        page.resize(1200, 800)
        page.show()
        ctx.runner.settle()  # the lines are gathered on the task runner
        page.repaint()  # paints now, with the lines
        qapp.processEvents()
        lines = page.todos.count() + page.alerts.count()
        page.close()
        page.deleteLater()
        return lines

    page_painted()  # imports and the first font cache, once
    seconds, lines = _median(page_painted, args.repeat)
    verdict = "meets" if seconds < GOAL else "MISSES"
    print(f"  {'home page built, gathered and painted':<48} {seconds * 1000:8.1f} ms  {lines} lines  "
          f"({verdict} the goal of {GOAL * 1000:.0f} ms)")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
