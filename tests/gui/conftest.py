"""GUI fixtures: offscreen Qt (set in tests/conftest.py before any QApplication),
a copy of the demo factory per test, and no real dialogs."""

from __future__ import annotations

import sqlite3

import pytest

from app.db import make_engine, make_sessionmaker, upgrade


@pytest.fixture
def demo_db(demo_db_file, tmp_path):
    """A private copy: a test may write without disturbing the others."""
    target = tmp_path / "demo.db"
    with sqlite3.connect(demo_db_file[0]) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


@pytest.fixture
def empty_db(tmp_path):
    return tmp_path / "empty.db"


@pytest.fixture(autouse=True)
def no_real_dialogs(monkeypatch):
    """A dialog a test did not expect fails the test instead of blocking it."""
    from app.ui.dialogs import Dialogs

    def unexpected(*args, **kwargs):
        raise AssertionError(f"unexpected dialog: {args[1:3]}")

    for name in ("info", "warn", "confirm", "ask_text", "save_file", "open_file", "open_files", "crash"):
        monkeypatch.setattr(Dialogs, name, classmethod(unexpected))


def make_ctx(qapp, path):
    from app.ui.context import AppContext
    from app.ui.tasks import TaskRunner

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    context = AppContext(engine, make_sessionmaker(engine), TaskRunner(qapp))
    # Tests that are not about roles act as the system account; the role
    # tests log in as a user (ctx.log_in).
    context.act_as_system("tester")
    return context


def _context(qapp, path):
    context = make_ctx(qapp, path)
    yield context
    context.runner.wait()
    context.engine.dispose()


@pytest.fixture
def ctx(qapp, demo_db):
    yield from _context(qapp, demo_db)


@pytest.fixture
def empty_ctx(qapp, empty_db):
    yield from _context(qapp, empty_db)
