"""Cold start: a new process, to the first painted window, against a bare Qt
window (the floor); and ``foodarchive --help``.

Each figure is the median of ``--repeat`` fresh processes (the operating
system's file cache is warm after the first: a second start of the day). The
first window of the application is its splash, painted before the database
layer loads; the first window a user types into is the login dialog of a
database with a user (at the newest schema revision, so no upgrade runs):
both are timed.

    python3 bench/bench_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The child reports the first Paint event of any top-level window and leaves at once.
PAINTED = r"""
import os, sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QDialog

WANTED = QDialog if os.environ.get("BENCH_WAIT_FOR") == "dialog" else object

class _FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if (event.type() == QEvent.Type.Paint and watched.isWidgetType() and watched.isWindow()
                and isinstance(watched, WANTED)):
            sys.stdout.write("painted\n"); sys.stdout.flush(); os._exit(0)
        return False

def watch(app):
    app._first_paint = _FirstPaint(app)
    app.installEventFilter(app._first_paint)
    return app
"""

BARE = PAINTED + r"""
from PySide6.QtWidgets import QApplication, QLabel
app = watch(QApplication(sys.argv))
window = QLabel("食品质量技术档案")
window.resize(400, 300)
window.show()
app.exec()
"""

APPLICATION = PAINTED + r"""
import app.ui.app as ui
made = ui.make_application
ui.make_application = lambda argv: watch(made(argv))
from app.cli import main
sys.exit(main(["--db", sys.argv[1], "gui"]))
"""


def _environment(home: str) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=home, XDG_CONFIG_HOME=f"{home}/config",
               XDG_DATA_HOME=f"{home}/data", XDG_CACHE_HOME=f"{home}/cache", PYTHONPATH=str(ROOT))
    env.pop("FOODARCHIVE_DB", None)
    return env


def _started(argv: list[str], env: dict[str, str], expect: str | None = None) -> float:
    began = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    elapsed = time.perf_counter() - began
    if result.returncode != 0 or (expect and expect not in result.stdout):
        raise SystemExit(f"{argv} failed ({result.returncode}): {result.stdout[-500:]} {result.stderr[-2000:]}")
    return elapsed


def _database(folder: Path, postgresql: bool = False) -> str:
    """A database at the newest revision with one user: the login dialog comes first."""
    from sqlalchemy import create_engine, text

    from app.db import make_sessionmaker, open_database
    from app.services import acting, users
    from bench.make_factory import PG_SERVER

    url = f"sqlite:///{folder / 'startup.db'}"
    if postgresql:
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "foodarchive_bench_startup" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "foodarchive_bench_startup"'))
        url = admin.url.set(database="foodarchive_bench_startup").render_as_string(hide_password=False)
        admin.dispose()
    engine, _ = open_database(url)
    with acting.Sessions(make_sessionmaker(engine), acting.system("bench")).begin() as session:
        users.create_user(session, "admin", "管理员", "bench-password-1", ["admin"])
    engine.dispose()
    return url


def median_of(repeat: int, argv: list[str], env: dict[str, str], expect: str | None = None) -> tuple[float, list]:
    _started(argv, env, expect)  # warm the file cache and byte-code
    times = [_started(argv, env, expect) for _ in range(repeat)]
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgresql", action="store_true", help="the database on the live PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as home:
        env = _environment(home)
        path = _database(Path(home), args.postgresql)
        python = sys.executable
        print(f"{path.split(':')[0]}: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; median of {args.repeat} runs")
        bare, _ = median_of(args.repeat, [python, "-c", BARE], env, "painted")
        first, _ = median_of(args.repeat, [python, "-c", APPLICATION, path], env, "painted")
        login, _ = median_of(args.repeat, [python, "-c", APPLICATION, path], env | {"BENCH_WAIT_FOR": "dialog"},
                             "painted")
        helped, _ = median_of(args.repeat, [python, "-m", "app", "--help"], env)
        interpreter, _ = median_of(args.repeat, [python, "-c", "pass"], env)
    print(f"bare Qt window painted            {bare:6.2f} s")
    print(f"application: first window painted {first:6.2f} s   ratio {first / bare:4.1f}× the bare window (goal < 1 s)")
    print(f"application: login dialog painted {login:6.2f} s   ratio {login / bare:4.1f}× the bare window")
    print(f"foodarchive --help                {helped:6.2f} s   (python -c pass: {interpreter:.2f} s; goal < 0.3 s)")


if __name__ == "__main__":
    main()
