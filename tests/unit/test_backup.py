"""Issue 19 §1: verified backups, rotation, restore and the stale-backup alert (R5.3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from app import clock
from app.cli import main
from app.db import make_engine, make_sessionmaker, upgrade
from app.errors import UserError
from app.models import BackupRun
from app.services import acting, alerts, anchors, audit, backup, settings


@pytest.fixture
def live(tmp_path):
    """A database file with an engine and sessions acting as the system account."""
    path = tmp_path / "live.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    sessions = acting.Sessions(make_sessionmaker(engine), acting.system("测试"))
    with sessions.begin() as session:
        settings.put(session, "mass_balance_tolerance", "0.02")
    yield path, engine, sessions
    engine.dispose()


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backup_while_another_connection_writes(live, tmp_path):
    path, engine, sessions = live
    # The writer is another engine, as another window or process would be.
    other = make_engine(f"sqlite:///{path}")
    writer = acting.Sessions(make_sessionmaker(other), acting.system("另一台电脑"))
    first_write, stop, written = threading.Event(), threading.Event(), []

    def write() -> None:
        n = 0
        while not stop.is_set() or n < 20:
            n += 1
            try:
                with writer.begin() as session:
                    settings.put(session, "epcis_id_base", f"https://example.cn/{n}")
            except OperationalError:
                # The backup's own record was committed between this
                # transaction's read and its write (SQLite's snapshot rule):
                # saved again, as a user would.
                continue
            written.append(n)
            first_write.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        first_write.wait()
        outcome = backup.run(engine, sessions, to=tmp_path / "bk")
    finally:
        stop.set()
        thread.join()
        other.dispose()
    assert outcome.ok, outcome.message
    assert len(written) >= 20
    # The copy is a consistent snapshot: its chain and rows agree, and it
    # holds one of the values the writer wrote.
    assert backup.verify_file(outcome.path) == []
    with sqlite3.connect(outcome.path) as copy:
        value = copy.execute("SELECT value FROM setting WHERE key='epcis_id_base'").fetchone()[0]
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert value.strip('"').startswith("https://example.cn/")
    with sessions() as session:
        run = session.scalars(select(BackupRun)).one()
        assert run.ok and run.path == str(outcome.path) and run.actor == "测试"


def test_corrupted_backup_is_refused_and_current_database_untouched(live, tmp_path):
    path, engine, sessions = live
    outcome = backup.run(engine, sessions, to=tmp_path / "bk")
    assert outcome.ok
    data = bytearray(outcome.path.read_bytes())
    data[4096 * 3: 4096 * 3 + 200] = b"\xff" * 200  # a damaged page, as a failing disk leaves it
    broken = tmp_path / "broken.db"
    broken.write_bytes(bytes(data))
    engine.dispose()
    before = digest(path)
    with pytest.raises(UserError, match="未通过校验，没有恢复，当前数据库没有任何改动"):
        backup.restore(f"sqlite:///{path}", broken)
    assert digest(path) == before
    assert not list(tmp_path.glob("live-恢复前-*"))
    assert main(["--db", str(path), "restore", str(broken)]) == 1


def test_tampered_backup_is_refused(live, tmp_path):
    """A copy whose rows were changed outside the program passes integrity_check
    but not the audit chain: refused too."""
    path, engine, sessions = live
    outcome = backup.run(engine, sessions, to=tmp_path / "bk")
    with sqlite3.connect(outcome.path) as copy:
        copy.execute("UPDATE setting SET value='\"0.5\"' WHERE key='mass_balance_tolerance'")
    assert "在本软件之外被修改过" in backup.verify_file(outcome.path)[0]
    engine.dispose()
    with pytest.raises(UserError, match="审计校验"):
        backup.restore(f"sqlite:///{path}", outcome.path)


def test_restore_keeps_current_database_aside(live, tmp_path, capsys):
    path, engine, sessions = live
    outcome = backup.run(engine, sessions, to=tmp_path / "bk")
    with sessions.begin() as session:
        settings.put(session, "mass_balance_tolerance", "0.03")
    with engine.connect() as connection:
        newer = anchors.advance(connection)  # this PC has seen the later entries
    engine.dispose()
    assert main(["--db", str(path), "restore", str(outcome.path)]) == 0
    said = capsys.readouterr().out
    aside = next(tmp_path.glob("live-恢复前-*.db"))
    assert str(aside) in said
    with sqlite3.connect(path) as restored, sqlite3.connect(aside) as kept:
        query = "SELECT value FROM setting WHERE key='mass_balance_tolerance'"
        assert restored.execute(query).fetchone()[0] == '"0.02"'
        assert kept.execute(query).fetchone()[0] == '"0.03"'
    check = make_engine(f"sqlite:///{path}")
    with check.connect() as connection:
        assert audit.verify(connection) == []
        # The deliberate restore is not reported as a chain cut short at the next start.
        assert anchors.check_local(connection) == [] and anchors.stored(connection).entry < newer.entry
    check.dispose()


def test_failed_copy_is_kept_aside_and_never_rotates_out_a_good_one(live, tmp_path, monkeypatch):
    path, engine, sessions = live
    folder = tmp_path / "bk"
    good = backup.run(engine, sessions, to=folder)
    monkeypatch.setattr(backup, "_verify_sqlite", lambda _path: ["完整性检查（integrity_check）未通过：测试"])
    with sessions.begin() as session:
        for period in ("daily", "weekly", "monthly"):
            settings.put(session, f"backup_keep_{period}", 1)
    clock.freeze(clock.now() + dt.timedelta(days=1))
    failed = backup.run(engine, sessions, to=folder)
    assert not failed.ok and "未通过校验，已单独存放" in failed.message
    assert failed.path.parent == folder / backup.FAILED_FOLDER and failed.path.exists()
    assert good.path.exists()  # keep 1 daily, yet the only good copy stays
    assert main(["--db", str(path), "backup", "--to", str(folder)]) == 1
    with sessions() as session:
        assert backup.last_good(session) == dt.datetime.fromisoformat("2026-11-22T10:00:00")


def test_rotation_keeps_seven_daily_four_weekly_twelve_monthly(live, tmp_path):
    """A backup a day for 400 days, through ``run`` on the program's clock."""
    _path, engine, sessions = live
    folder = tmp_path / "bk"
    start = dt.datetime(2025, 10, 1, 22, 0)
    for day in range(400):
        clock.freeze(start + dt.timedelta(days=day))
        if day < 390:  # most days: only the name matters to the rotation
            (folder / f"foodarchive-{clock.now():%Y%m%d-%H%M%S}.db").parent.mkdir(exist_ok=True)
            (folder / f"foodarchive-{clock.now():%Y%m%d-%H%M%S}.db").write_bytes(b"")
            continue
        assert backup.run(engine, sessions, to=folder).ok
    kept = sorted(backup.taken_at(p).date() for p in folder.iterdir() if backup.taken_at(p))
    last = (start + dt.timedelta(days=399)).date()
    daily = {last - dt.timedelta(days=n) for n in range(7)}
    assert daily <= set(kept)
    sundays = {d for d in kept if d.isoweekday() == 7 and d not in daily}
    months = {(d.year, d.month) for d in kept}
    assert len(months) == 12
    assert len(kept) == len(daily | sundays | {d for d in kept if d not in daily and d not in sundays})
    assert len(kept) <= 7 + 4 + 12
    # Every month kept is represented by its last day (the newest copy of that month).
    for year, month in months - {(last.year, last.month)}:
        newest = max(d for d in kept if (d.year, d.month) == (year, month))
        assert (newest + dt.timedelta(days=1)).month != month


def test_to_keep_rule():
    times = [dt.datetime(2026, 1, 1, 9) + dt.timedelta(hours=12 * n) for n in range(60)]  # two a day, 30 days
    keep = backup.to_keep(times, 7, 4, 12)
    days = sorted({t.date() for t in keep})
    assert days[-7:] == [times[-1].date() - dt.timedelta(days=n) for n in range(6, -1, -1)]
    # One copy per day, the evening one.
    assert all(t.hour == 21 for t in keep)
    assert len(keep) <= 7 + 4 + 12
    assert backup.to_keep([], 7, 4, 12) == set()


def test_second_folder_gets_a_verified_copy(live, tmp_path):
    _path, engine, sessions = live
    with sessions.begin() as session:
        settings.put(session, "backup_folder", str(tmp_path / "bk"))
        settings.put(session, "backup_second_folder", str(tmp_path / "usb"))
    outcome = backup.run(engine, sessions)
    assert outcome.ok and outcome.second_path.parent == tmp_path / "usb"
    assert digest(outcome.second_path) == digest(outcome.path)


def test_missing_second_folder_fails_the_run(live, tmp_path):
    _path, engine, sessions = live
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with sessions.begin() as session:
        settings.put(session, "backup_folder", str(tmp_path / "bk"))
        settings.put(session, "backup_second_folder", str(blocker / "usb"))
    outcome = backup.run(engine, sessions)
    assert not outcome.ok and "第二备份文件夹" in outcome.message


def test_stale_backup_alert(live, tmp_path):
    _path, engine, sessions = live
    with sessions() as session:
        found = [a for a in alerts.collect(session, clock.today()) if a.kind == "backup_stale"]
        assert found and "还没有经过校验的数据库备份" in found[0].title
    backup.run(engine, sessions, to=tmp_path / "bk")
    with sessions() as session:
        assert not backup.alerts_due(session, clock.today())
        assert not backup.alerts_due(session, clock.today() + dt.timedelta(days=2))
        late = backup.alerts_due(session, clock.today() + dt.timedelta(days=3))
        assert late and "已超过 2 天" in late[0].title


def test_scheduled_backup_runs_when_due(live, tmp_path):
    _path, engine, sessions = live
    with sessions.begin() as session:
        settings.put(session, "backup_folder", str(tmp_path / "bk"))
    assert backup.run_if_due(engine, sessions).ok
    assert backup.run_if_due(engine, sessions) is None
    clock.freeze(clock.now() + dt.timedelta(hours=24))
    assert backup.run_if_due(engine, sessions).ok


def test_postgresql_backup_needs_pg_dump_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="pg_dump.*postgresql-client"):
        backup.pg_tool("pg_dump")


def test_postgresql_backup_and_restore(tmp_path):
    from tests.conftest import _postgres_database

    admin, name, url = _postgres_database()
    if admin is None:
        pytest.skip("no PostgreSQL server")
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        upgrade(engine)
        sessions = acting.Sessions(make_sessionmaker(engine), acting.system("测试"))
        with sessions.begin() as session:
            settings.put(session, "mass_balance_tolerance", "0.02")
        outcome = backup.run(engine, sessions, to=tmp_path / "bk")
        assert outcome.ok, outcome.message
        assert outcome.path.suffix == ".dump"
        with sessions.begin() as session:
            settings.put(session, "mass_balance_tolerance", "0.03")
        engine.dispose()
        restored = backup.restore(url, outcome.path)
        assert restored.kept_aside.exists()
        with engine.connect() as connection:
            value = connection.execute(text("SELECT value FROM setting WHERE key='mass_balance_tolerance'")).scalar()
            assert value == '"0.02"'
            assert audit.verify(connection) == []
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
