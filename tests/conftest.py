"""Shared fixtures: every service test runs on SQLite and on the live PostgreSQL."""

from __future__ import annotations

import os
import shutil
import tempfile

# Data folders and settings of a test run never touch the real ones. The whole
# run lives in this one folder — pytest's tmp_path folders too (--basetemp,
# below) — and it is removed when the run ends (FOODARCHIVE_KEEP_TEST_HOME=1
# keeps it to look at), so nothing is left in the system's temporary folder.
_HOME = tempfile.mkdtemp(prefix="foodarchive-test-home-")
for _var in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[_var] = _HOME if _var == "HOME" else os.path.join(_HOME, _var.lower())
os.environ.pop("FOODARCHIVE_DB", None)
# Hypothesis keeps its examples and constants there too, not in .hypothesis/ of the checkout.
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = os.path.join(_HOME, "hypothesis")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Platform credentials go to a test keyring in the test home, never the real one.
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.keyring_backend.FileKeyring"
os.environ["FOODARCHIVE_TEST_KEYRING"] = os.path.join(_HOME, "test-keyring.json")
# One fixed day for the whole program and every command a test starts: no test
# depends on the date it runs on (app/clock.py). The demo factory is anchored to
# it, so its lot numbers and dates are the same on every run.
TEST_NOW = "2026-11-22T10:00:00"
os.environ["FOODARCHIVE_CLOCK"] = TEST_NOW

import datetime as dt  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import clock  # noqa: E402
from app.db import make_engine, upgrade  # noqa: E402
import app.services  # noqa: E402,F401  (the audit and guard listeners)
from app.services import acting  # noqa: E402

PG_SERVER = os.environ.get("FOODARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")



@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if not config.option.basetemp:
        config.option.basetemp = os.path.join(_HOME, "pytest")


def pytest_report_header(config):
    """Say at the top what the run will use, so a half-equipped machine is
    seen at once: without the font the printing tests fail, without the
    server the PostgreSQL half of the service tests is skipped."""
    from app.errors import UserError
    from app.reports import fonts

    try:
        font = f"print font: {fonts.register()}"
    except UserError:
        font = "print font: NONE - the printing tests will fail (sudo apt install fonts-wqy-microhei)"
    probe = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
    try:
        with probe.connect():
            server = f"PostgreSQL: {probe.url.render_as_string(hide_password=True)} (the service tests run on it too)"
    except Exception:  # noqa: BLE001 — any failure means no usable server
        server = (f"PostgreSQL: {probe.url.render_as_string(hide_password=True)} NOT REACHABLE - the PostgreSQL "
                  "cases will be skipped (a failure with CI=true); set FOODARCHIVE_TEST_PG, see README.md")
    finally:
        probe.dispose()
    return [font, server]


def pytest_unconfigure(config):
    if not os.environ.get("FOODARCHIVE_KEEP_TEST_HOME"):
        shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def print_font():
    """Printing tests need a Chinese TrueType font; without one they fail
    saying which (not with a message from deep inside a volume)."""
    from app.errors import UserError
    from app.reports import fonts

    try:
        return fonts.register()
    except UserError:
        pytest.fail("the printing tests need a Chinese TrueType font, such as WenQuanYi Micro Hei: "
                    "sudo apt install fonts-wqy-microhei (Windows: SimSun, which comes with the system)", pytrace=False)


def _postgres_database():
    """Create a database of our own on the live server; None if there is no server."""
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = f"foodarchive_test_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 — any failure means no usable server
        admin.dispose()
        if os.environ.get("CI"):
            raise RuntimeError(f"CI needs the PostgreSQL server at {PG_SERVER}: {exc}") from exc
        return None, None, None
    url = admin.url.set(database=name)
    return admin, name, url


@pytest.fixture(autouse=True)
def fixed_clock():
    """Whatever a test does to the clock, the next one starts on the fixed day."""
    clock.freeze(dt.datetime.fromisoformat(TEST_NOW))
    yield clock
    clock.freeze(dt.datetime.fromisoformat(TEST_NOW))


@pytest.fixture(autouse=True)
def login_throttle(monkeypatch):
    """Every test starts with no failed logins on record, and a command's
    pause after a wrong password is counted, never slept (services.throttle)."""
    from app.services import throttle

    paused: list[float] = []
    throttle.LOGINS.clear()
    monkeypatch.setattr(throttle.LOGINS, "pause", paused.append)
    yield paused
    throttle.LOGINS.clear()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        eng = make_engine(f"sqlite:///{path}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    admin, name, url = _postgres_database()
    if admin is None:
        pytest.skip("no PostgreSQL server reachable (CI requires one)")
    eng = make_engine(url.render_as_string(hide_password=False))
    upgrade(eng)
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def session(engine):
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    s = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    acting.bind(s, acting.system("tester"))
    try:
        yield s
    finally:
        s.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory):
    """The demo factory, loaded once per test run (≈40 s) through demo.load;
    tests that write take a copy. Returns (path, what load returned)."""
    from app.db import make_sessionmaker
    from app.services import demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with acting.Sessions(make_sessionmaker(engine), acting.system(demo.ACTOR)).begin() as session:
        summary = demo.load(session)
    engine.dispose()
    return path, summary
