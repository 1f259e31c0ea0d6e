"""Generate the N-year factory (bench/factory.py) into a database of the
application's schema: an SQLite file or a PostgreSQL database.

    python3 bench/make_factory.py --years 10                  # ~/.cache/foodarchive-bench/factory-10y.db
    python3 bench/make_factory.py --years 1 --out /tmp/f1.db
    python3 bench/make_factory.py --years 10 --postgresql      # database foodarchive_bench_10y on 127.0.0.1

The benches call ``factory_url`` and get the same database back while it
exists (the plan and the schema revision are in its name and a marker table).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from app import search_index  # noqa: E402
from app.db import head_revision, make_engine, upgrade  # noqa: E402
from bench.factory import Plan, generate_by_year, load, reset_sequences  # noqa: E402

CACHE = Path(os.environ.get("FOODARCHIVE_BENCH_CACHE", Path.home() / ".cache" / "foodarchive-bench"))
PG_SERVER = os.environ.get("FOODARCHIVE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MARKER = "bench_factory"


def default_path(years: int) -> Path:
    return CACHE / f"factory-{years}y.db"


def pg_url(years: int) -> str:
    return create_engine(PG_SERVER).url.set(database=f"foodarchive_bench_{years}y").render_as_string(hide_password=False)


def _label(plan: Plan) -> str:
    return f"{plan!r} schema {head_revision()}"


def _is_current(url: str, plan: Plan) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT label FROM {MARKER}")).scalar() == _label(plan)
    except Exception:  # noqa: BLE001 — missing file, database or marker: make it again
        return False
    finally:
        engine.dispose()


def _fresh_postgres(url: str) -> None:
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    name = create_engine(url).url.database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def build(url: str, plan: Plan, quiet: bool = False) -> dict[str, int]:
    """Create the schema at ``url`` (which must be new or empty) and fill it."""
    started = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    totals: dict[str, int] = {}
    deep = None
    with engine.begin() as conn:
        search_index.drop(conn)  # built once at the end: faster than row by row through the triggers
        for factory in generate_by_year(plan):
            for table, count in load(conn, factory).items():
                totals[table] = totals.get(table, 0) + count
            deep = deep or (factory.deep_delivery, factory.deep_batch)
            if not quiet:
                print(f"  … {sum(totals.values()):,} rows after {time.perf_counter() - started:.0f} s", flush=True)
        reset_sequences(conn)
        search_index.install(conn)
        conn.execute(text(f"CREATE TABLE {MARKER} (label TEXT, deep_delivery TEXT, deep_batch TEXT)"))
        conn.execute(text(f"INSERT INTO {MARKER} VALUES (:label, :d, :b)"),
                     {"label": _label(plan), "d": deep[0], "b": deep[1]})
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()
    if not quiet:
        print(f"built {url} in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{table} {count:,}" for table, count in totals.items()))
    return totals


def factory_url(years: int, postgresql: bool = False, out: str | None = None) -> str:
    """The URL of the ``years``-year factory, generated first if missing or stale."""
    plan = Plan().scaled(years)
    if postgresql:
        url = pg_url(years)
    else:
        path = Path(out) if out else default_path(years)
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    if _is_current(url, plan):
        return url
    if postgresql:
        _fresh_postgres(url)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    build(url, plan)
    return url


def starts(url: str) -> dict[str, str]:
    """Where the benches start: the salt lot, a deep sale and its batch."""
    from bench.factory import SALT_LOT

    engine = create_engine(url)
    with engine.connect() as conn:
        deep_delivery, deep_batch = conn.execute(text(f"SELECT deep_delivery, deep_batch FROM {MARKER}")).one()
    engine.dispose()
    return {"salt_lot": SALT_LOT, "deep_delivery": deep_delivery, "deep_batch": deep_batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--out", help="SQLite file (default: the bench cache)")
    parser.add_argument("--postgresql", action="store_true", help="into the live PostgreSQL server instead")
    args = parser.parse_args()
    url = factory_url(args.years, args.postgresql, args.out)
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        print(f"{path}: {path.stat().st_size / 1e6:.0f} MB")
    print(url)


if __name__ == "__main__":
    main()
