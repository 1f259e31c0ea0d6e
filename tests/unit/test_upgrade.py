"""A database made by the first released version opens in this one: copied
first, then migrated, with every row and its audit trail intact."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from app.db import current_revision, head_revision, make_engine, open_database, upgrade
from app.errors import UserError
from app.migrations import alembic_config
from app.services import audit

KEPT = Path(__file__).resolve().parents[1] / "data" / "schema_0001.sqlite"


def rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table the first schema had, as the file holds them."""
    with sqlite3.connect(path) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        found = {}
        for table in tables:
            columns = [c[1] for c in conn.execute(f'PRAGMA table_info("{table}")')]
            found[table] = (columns, sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr))
    conn.close()
    return found


@pytest.fixture
def old_db(tmp_path):
    path = tmp_path / "foodarchive.db"
    shutil.copyfile(KEPT, path)
    return path


def test_the_kept_database_is_the_first_schema_with_data():
    before = rows(KEPT)
    assert before["alembic_version"][1] == [("0001",)]
    assert len(before["delivery"][1]) == 1 and len(before["archive"][1]) == 3 and len(before["audit_log"][1]) > 50


def test_an_old_database_is_copied_then_upgraded(old_db):
    before = rows(old_db)
    engine, Session = open_database(f"sqlite:///{old_db}")
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision() != "0001"
            assert audit.verify(connection) == []  # every row still matches its audit entry
        with Session() as session:
            assert session.execute(text("SELECT delivery_no, units FROM delivery")).all() == [("XS20261120001", 30)]
    finally:
        engine.dispose()

    (backup,) = old_db.parent.glob("foodarchive-backup-rev0001-*.db")
    assert rows(backup) == before  # the copy is the old database, untouched
    after = rows(old_db)
    for table, (columns, data) in before.items():
        if table == "alembic_version":
            continue
        kept = [tuple(dict(zip(after[table][0], row))[c] for c in columns) for row in after[table][1]]
        if table == "audit_log":
            # A revision that adds columns to rows appends an entry per row it
            # changed (0005: the supplier), so verify still finds them as logged.
            newest_old = max(row[0] for row in data)
            added = [row for row in kept if row[0] > newest_old]
            assert added and all(row[2] == "数据库升级" for row in added), added
            kept = [row for row in kept if row[0] <= newest_old]
        assert sorted(kept, key=repr) == data, table


def test_no_copy_of_a_fresh_or_current_database(tmp_path):
    path = tmp_path / "new.db"
    engine = make_engine(f"sqlite:///{path}")
    assert upgrade(engine) is None  # created: nothing to keep
    assert upgrade(engine) is None  # already at the newest revision
    engine.dispose()
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == []


def test_a_database_from_a_newer_program_is_refused(old_db):
    with sqlite3.connect(old_db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    engine = make_engine(f"sqlite:///{old_db}")
    with pytest.raises(UserError, match="9999.*最新版本"):
        upgrade(engine)
    engine.dispose()
    assert list(old_db.parent.glob("*backup*")) == []
    assert rows(old_db)["alembic_version"][1] == [("9999",)]


@pytest.fixture
def postgres_at_0001():
    server = os.environ.get("FOODARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"foodarchive_upgrade_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_postgresql_upgrade_says_to_take_a_pg_dump(postgres_at_0001, caplog):
    with caplog.at_level(logging.WARNING, logger="db"):
        assert upgrade(postgres_at_0001) is None
    assert any("pg_dump" in r.getMessage() and "0001" in r.getMessage() for r in caplog.records)
    with postgres_at_0001.connect() as connection:
        assert current_revision(connection) == head_revision()


def test_the_command_line_says_where_the_copy_is(old_db):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "app", "--db", str(old_db), "init"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert result.returncode == 0, result.stderr
    (backup,) = old_db.parent.glob("foodarchive-backup-rev0001-*.db")
    assert f"升级前的副本保存在：{backup}" in result.stderr


def test_head_revision_read_without_alembic_is_alembics_own():
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def test_a_current_database_opens_without_loading_alembic(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "current.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    probe = ("import sys; from app.db import make_engine, upgrade; "
             f"upgrade(make_engine({f'sqlite:///{path}'!r})); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
