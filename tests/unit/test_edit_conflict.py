"""Issue 19 §4: several PCs on PostgreSQL — a save over someone else's newer
change is refused with who, when and both values, and overwrites nothing."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from sqlalchemy import select

from app import clock
from app.db import make_engine, make_sessionmaker, upgrade
from app.models import Equipment
from app.services import acting, audit, common, entry
from app.services.entry import EditConflict


@pytest.fixture
def server(tmp_path):
    """A database of our own on the live PostgreSQL server, committed to for real."""
    from tests.conftest import _postgres_database

    admin, name, url = _postgres_database()
    if admin is None:
        pytest.skip("no PostgreSQL server")
    address = url.render_as_string(hide_password=False)
    engine = make_engine(address)
    upgrade(engine)
    yield address, engine
    engine.dispose()
    from sqlalchemy import text

    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def pc(engine, who: str):
    return acting.Sessions(make_sessionmaker(engine), acting.system(who))


def test_second_save_gets_the_conflict_and_nothing_is_lost(server):
    address, engine = server
    with pc(engine, "甲电脑").begin() as session:
        row = common.create(session, "equipment", dict(code="E1", name="灭菌锅", model="A-1"))
        record_id = row.id
    # Both PCs open the record (the form keeps the version it was filled from).
    with pc(engine, "甲电脑")() as session:
        version_a = session.get(Equipment, record_id).row_version
    other = make_engine(address)  # the second PC: its own engine and connections
    try:
        with pc(other, "乙电脑")() as session:
            version_b = session.get(Equipment, record_id).row_version
        clock.freeze(dt.datetime(2026, 11, 22, 10, 5))
        with pc(other, "乙电脑").begin() as session:
            entry.amend(session, "equipment", record_id, {"model": "B-2"}, expected_version=version_b)
    finally:
        other.dispose()
    clock.freeze(dt.datetime(2026, 11, 22, 10, 7))
    with pytest.raises(EditConflict) as caught:
        with pc(engine, "甲电脑").begin() as session:
            entry.amend(session, "equipment", record_id, {"model": "A-9"}, expected_version=version_a)
    message = caught.value.message
    assert "乙电脑于 2026-11-22 10:05:00 修改了这条记录" in message
    assert "「规格型号」：乙电脑保存的是 B-2；您填写的是 A-9" in message
    with pc(engine, "甲电脑")() as session:
        kept = session.get(Equipment, record_id)
        assert kept.model == "B-2" and kept.row_version == version_b + 1
        assert audit.verify(session.connection()) == []
    # Read again, the first PC's save goes through.
    with pc(engine, "甲电脑").begin() as session:
        entry.amend(session, "equipment", record_id, {"model": "A-9"}, expected_version=version_b + 1)


def test_the_version_in_the_update_catches_a_save_between_check_and_write(server):
    """The ORM's version counter: two sessions hold the same row; the one that
    writes second updates nothing and is told so."""
    _address, engine = server
    with pc(engine, "甲电脑").begin() as session:
        record_id = common.create(session, "equipment", dict(code="E2", name="封口机")).id
    first, second = pc(engine, "甲电脑")(), pc(engine, "乙电脑")()
    try:
        mine = first.get(Equipment, record_id)
        theirs = second.get(Equipment, record_id)
        theirs.model = "乙改的"
        second.commit()
        with pytest.raises(EditConflict, match="刚刚在另一台电脑上被修改"):
            entry.amend(first, "equipment", mine.id, {"model": "甲改的"})
        first.rollback()
    finally:
        first.close()
        second.close()
    with pc(engine, "甲电脑")() as session:
        assert session.get(Equipment, record_id).model == "乙改的"


CHILD = """
import sys
from app.db import make_engine, make_sessionmaker
from app.services import acting, entry
engine = make_engine(sys.argv[1])
with acting.Sessions(make_sessionmaker(engine), acting.system("乙电脑")).begin() as session:
    entry.amend(session, "equipment", int(sys.argv[2]), {"name": "另一进程改的"}, expected_version=int(sys.argv[3]))
"""


def test_two_processes(server):
    address, engine = server
    with pc(engine, "甲电脑").begin() as session:
        row = common.create(session, "equipment", dict(code="E3", name="清洗机"))
        record_id, version = row.id, row.row_version
    done = subprocess.run([sys.executable, "-c", CHILD, address, str(record_id), str(version)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with pytest.raises(EditConflict, match="乙电脑于 .* 修改了这条记录"):
        with pc(engine, "甲电脑").begin() as session:
            entry.amend(session, "equipment", record_id, {"name": "本进程改的"}, expected_version=version)
    with pc(engine, "甲电脑")() as session:
        assert session.scalar(select(Equipment.name).where(Equipment.id == record_id)) == "另一进程改的"
