"""R6 over real HTTP on loopback, against the platform simulator: exactly
once under random faults, nothing lost when the sender is killed, permanent
rejections kept until corrected, credentials nowhere but the keyring."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from app import clock
from app.db import make_engine, make_sessionmaker, upgrade
from app.models import OutboxEntry
from app.platform import credentials, outbox, package, profile, simulator
from app.platform.client import Client
from app.platform.credentials import Credentials
from app.platform.sender import Sender, backoff
from app.services import acting, common, receiving, settings

from .builders import plant, receipt_values

ROOT = Path(__file__).resolve().parents[2]
SECRET = "S3cr3t-do-not-leak-7f3a9c"
KEY = "factory-key-0042"


def profile_file(tmp_path: Path, **changes) -> Path:
    data = json.loads((ROOT / "resources" / "platform" / "default.json").read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split(".")
        for name in parents:
            node = node[name]
        node[last] = value
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    """A database of its own with a small factory, committed (the sender runs its own transactions)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'upload.db'}")
        admin = None
    else:
        from tests.conftest import _postgres_database

        admin, name, url = _postgres_database()
        if admin is None:
            pytest.skip("no PostgreSQL server reachable (CI requires one)")
        engine = make_engine(url.render_as_string(hide_password=False))
    upgrade(engine)
    maker = make_sessionmaker(engine, acting.system("tester"))
    yield maker
    engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def factory(sessions, receipts: int, **receipt_overrides) -> SimpleNamespace:
    """The builders' plant with some accepted receipts; the ids a later receipt needs."""
    with sessions.begin() as session:
        p = plant(session)
        for i in range(receipts):
            receiving.receive(session, receipt_values(p, p.soy, supplier_lot=f"HLJ-{i:04d}", **receipt_overrides))
        return SimpleNamespace(soy=SimpleNamespace(id=p.soy.id), supplier=SimpleNamespace(id=p.supplier.id),
                               person=SimpleNamespace(id=p.person.id))


def statuses(sessions) -> dict[str, str]:
    with sessions() as session:
        return dict(session.execute(select(OutboxEntry.idempotency_key, OutboxEntry.status)).all())


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 11, 21, 8, 0)  # the records were finalised the day before

    def __call__(self):
        return self.now


def test_every_record_acknowledged_exactly_once_under_random_faults(sessions):
    factory(sessions, 60)
    keys = set(statuses(sessions))
    faults = dict(error500=0.15, drop_before=0.1, drop=0.2, duplicate_ack=0.3, timeout=0.05, timeout_seconds=0.8)
    with simulator.Simulator(seed=7, accounts={"demo": "demo-secret"}) as sim:
        sim.set_faults(**faults)
        clock = Clock()
        client = Client(sim.url, profile.load(), Credentials("demo", "demo-secret"), timeout=0.5)
        sender = Sender(sessions, client, profile.load(), clock=clock, batch_size=7)
        for _round in range(60):
            sender.drain()
            if set(statuses(sessions).values()) == {"acknowledged"}:
                break
            clock.now += dt.timedelta(hours=2)  # every backoff has passed
        final = statuses(sessions)
        assert set(final.values()) == {"acknowledged"}, final
        report = sim.report()
        assert set(report["accepted"]) == keys  # none lost, nothing foreign
        assert max(report["counts"].values()) > 1  # the faults did make the sender repeat itself
        with sessions() as session:
            receipts = dict(session.execute(select(OutboxEntry.idempotency_key, OutboxEntry.receipt_id)).all())
        assert receipts == report["accepted"]  # each record's one acceptance is the receipt we kept
        sim.set_faults()
        arrived = sum(report["counts"].values())
        clock.now += dt.timedelta(days=1)
        assert sender.drain().batches == 0  # an acknowledged record is never sent again
        assert sum(sim.report()["counts"].values()) == arrived
        client.close()


@pytest.mark.parametrize("sessions", ["postgresql"], indirect=True)  # SQLite has one writer at a time anyway
def test_only_one_sender_takes_a_row_on_postgresql(sessions):
    factory(sessions, 10)
    table = OutboxEntry.__table__
    other = sessions()
    # Another PC is in the middle of claiming the five oldest rows.
    held = other.scalars(select(table.c.id).order_by(table.c.next_attempt_at, table.c.id).limit(5).with_for_update()).all()
    try:
        with Client("http://127.0.0.1:9", profile.load(), None) as client:
            _token, rows = Sender(sessions, client, profile.load(), batch_size=100).claim()
        assert rows and not {row.id for row in rows} & set(held)
        assert len(rows) == len(statuses(sessions)) - 5
    finally:
        other.rollback()
        other.close()


def test_permanent_rejection_is_kept_and_not_retried_until_corrected(sessions, tmp_path):
    strict = profile.load(str(profile_file(tmp_path, **{"messages.purchase.required": ["goods_name", "trace_code"]})))
    factory(sessions, 2)
    with simulator.Simulator(strict, accounts={"demo": "demo-secret"}) as sim:
        clock = Clock()
        client = Client(sim.url, strict, Credentials("demo", "demo-secret"))
        sender = Sender(sessions, client, strict, clock=clock)
        report = sender.drain()
        assert report.rejected == 2 and report.acknowledged == 1  # the enterprise file went through
        with sessions() as session:
            rejected = outbox.rows(session, ("rejected",))
        assert [r["reason"] for r in rejected] == ["缺少必填字段：trace_code"] * 2
        arrived = dict(sim.report()["counts"])
        clock.now += dt.timedelta(days=3)
        assert sender.drain().batches == 0 and sim.report()["counts"] == arrived  # not retried on its own
        with sessions.begin() as session:  # the correction: the receipts get their trace codes
            for row in rejected:
                receipt = session.get(receiving.IncomingInspection, session.get(OutboxEntry, row["id"]).source_id)
                common.amend(session, receipt, {"trace_code": f"TC-{receipt.id}"}, "补录追溯码")
        assert sender.drain().batches == 0  # corrected, still waiting for the user's retry
        with sessions.begin() as session:
            assert outbox.retry(session, [r["id"] for r in rejected]) == 2
        assert sender.drain().acknowledged == 2
        assert set(statuses(sessions).values()) == {"acknowledged"}
        client.close()


def cli(db: str, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", "--db", db, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, **kwargs)


def configure(sessions, url: str, profile_path: Path | str = "default") -> None:
    with sessions.begin() as session:
        settings.put(session, "platform_url", url)
        settings.put(session, "platform_profile", str(profile_path))
    credentials.store(profile.load(str(profile_path)).name, "demo", "demo-secret")


def test_nothing_lost_when_the_sender_is_killed_mid_batch(tmp_path):
    db = tmp_path / "kill.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    sessions = make_sessionmaker(engine, acting.system("tester"))
    factory(sessions, 60)
    keys = set(statuses(sessions))
    path = profile_file(tmp_path, batch_size=10, timeout_seconds=3, retry={"base_seconds": 1, "max_seconds": 2, "lease_seconds": 4})
    with simulator.Simulator(profile.load(str(path)), accounts={"demo": "demo-secret"}) as sim:
        configure(sessions, sim.url, path)
        sim.set_faults(slow=1.0)
        sender = cli(str(db), "upload", "--once")
        deadline = time.monotonic() + 60
        while sim.report()["batches"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        sender.send_signal(signal.SIGKILL)  # the platform took the third batch; its receipt is on the way
        sender.communicate(timeout=30)
        left = statuses(sessions)
        assert "sent" in left.values() and "pending" in left.values()
        sim.set_faults()
        # An hour later by the program's clock: the dead sender's lease has ended.
        later = (clock.now() + dt.timedelta(hours=1)).isoformat()
        again = cli(str(db), "upload", "--once", env={**os.environ, clock.ENV: later})
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, err
        assert set(statuses(sessions).values()) == {"acknowledged"}
        report = sim.report()
        assert set(report["accepted"]) == keys
        assert any(n > 1 for n in report["counts"].values())  # the killed batch went again, under the same keys
    engine.dispose()


def test_credentials_never_reach_the_database_logs_or_exports(tmp_path, caplog):
    import logging

    db = tmp_path / "secret.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    sessions = make_sessionmaker(engine, acting.system("tester"))
    factory(sessions, 3)
    caplog.set_level(logging.DEBUG)
    with simulator.Simulator(accounts={KEY: SECRET}) as sim:
        with sessions.begin() as session:
            settings.put(session, "platform_url", sim.url)
        login = subprocess.run([sys.executable, "-m", "app", "--db", str(db), "platform-login"], cwd=ROOT,
                               input=f"{KEY}\n{SECRET}\n", capture_output=True, text=True, timeout=120)
        assert login.returncode == 0, login.stderr
        assert credentials.load(profile.load().name) == Credentials(KEY, SECRET)
        run = cli(str(db), "upload", "--once")
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert set(statuses(sessions).values()) == {"acknowledged"}
        check = cli(str(db), "upload", "--check")
        check_out, check_err = check.communicate(timeout=60)
        assert check.returncode == 0 and "连接检查通过" in check_out, check_err
        out, err = out + check_out, err + check_err
    export = tmp_path / "export.json"
    assert subprocess.run([sys.executable, "-m", "app", "--db", str(db), "export-json", str(export)], cwd=ROOT,
                          capture_output=True, timeout=120).returncode == 0
    with sessions.begin() as session:
        session.execute(OutboxEntry.__table__.update().values(status="pending"))
        package.export_package(session, profile.load(), tmp_path / "package.zip")
    dump = "\n".join(sqlite3.connect(db).iterdump())
    logs = "".join(p.read_text(encoding="utf-8", errors="replace") for p in Path(os.environ["HOME"]).rglob("*.log*"))
    places = {"database": dump, "export": export.read_text(encoding="utf-8"), "package": (tmp_path / "package.zip").read_bytes().decode("latin-1"),
              "captured log": caplog.text, "log files": logs, "cli output": login.stdout + login.stderr + out + err}
    assert logs and "upload" in logs  # the log files were found and the upload was logged
    for place, content in places.items():
        assert SECRET not in content, place
    assert KEY not in dump and KEY not in export.read_text(encoding="utf-8")
    engine.dispose()


def check(url, prof, creds, timeout=None) -> list[str]:
    with Client(url, prof, creds, timeout=timeout) as client:
        return client.check()


def test_check_says_what_is_wrong(tmp_path):
    good = Credentials("demo", "demo-secret")
    assert "无法连接平台" in check("http://127.0.0.1:9", profile.load(), good, timeout=2)[0]
    with simulator.Simulator(accounts={"demo": "demo-secret"}) as sim:
        assert check(sim.url, profile.load(), good) == []
        (bad,) = check(sim.url, profile.load(), Credentials("demo", "wrong"))
        assert "账号或密钥不对" in bad
        sim.set_faults(clock_offset_seconds=900)
        (skew,) = check(sim.url, profile.load(), good)
        assert "时钟" in skew
    other = profile.load(str(profile_file(tmp_path, name="someone-else-2")))
    with simulator.Simulator(other, accounts={"demo": "demo-secret"}) as sim:
        (mismatch,) = check(sim.url, profile.load(), good)
        assert "someone-else-2" in mismatch and "配置文件与平台不符" in mismatch
    moved = profile.load(str(profile_file(tmp_path, **{"endpoints.check": "/elsewhere"})))
    with simulator.Simulator(accounts={"demo": "demo-secret"}) as sim:
        (missing,) = check(sim.url, moved, good)
        assert "/elsewhere" in missing


def test_backoff_grows_is_capped_and_jittered():
    import random

    rng = random.Random(1)
    waits = [backoff(n, 30, 3600, rng) for n in range(1, 12)]
    assert 15 <= waits[0] <= 30 and 1800 <= waits[-1] <= 3600
    assert all(a < b for a, b in zip(waits[:6], waits[1:7]))
    assert len({round(backoff(3, 30, 3600, rng), 6) for _ in range(20)}) > 1  # jitter


def test_schedule_in_the_database_catches_up_and_finalised_records_go_at_once(tmp_path):
    from app.platform import upload

    engine = make_engine(f"sqlite:///{tmp_path / 'schedule.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine, acting.system("tester"))
    p = factory(sessions, 2)
    clock = Clock()
    with simulator.Simulator(accounts={"demo": "demo-secret"}) as sim:
        configure(sessions, sim.url)
        with sessions.begin() as session:
            settings.put(session, "upload_on_finalise", False)
        first = upload.run_if_due(sessions, clock=clock)  # never ran: due at once
        assert first.acknowledged == 3
        with sessions() as session:
            row = session.scalar(select(upload.schedule.UploadSchedule))
            assert (row.last_success, row.next_due) == (clock.now, clock.now + dt.timedelta(minutes=15))
        with sessions.begin() as session:
            session.info["today"], session.info["now"] = dt.date(2026, 11, 21), clock.now
            receiving.receive(session, receipt_values(p, p.soy, supplier_lot="LATE"))
        clock.now += dt.timedelta(minutes=5)
        assert upload.run_if_due(sessions, clock=clock) is None  # not due, and not sent on finalising
        with sessions.begin() as session:
            settings.put(session, "upload_on_finalise", True)
        assert upload.run_if_due(sessions, clock=clock).acknowledged == 1  # a fresh record goes at once
        clock.now += dt.timedelta(hours=9)  # the PC slept through many runs
        report = upload.run_if_due(sessions, clock=clock)
        assert report is not None and report.batches == 0  # one catch-up run, nothing left to send
    engine.dispose()


def test_manual_package_holds_pending_records_and_marks_them_only_when_confirmed(sessions, tmp_path):
    import csv
    import io
    import zipfile

    factory(sessions, 3)
    with sessions.begin() as session:
        first = session.scalar(select(OutboxEntry).where(OutboxEntry.kind == "purchase").order_by(OutboxEntry.id))
        first.status, first.receipt_id = "acknowledged", "R-online"
        assert package.export_package(session, profile.load(), tmp_path / "p.zip") == 3  # enterprise + 2 purchases
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        assert sorted(archive.namelist()) == ["ENTERPRISE.csv", "PURCHASE.csv", "manifest.json"]
        rows = list(csv.reader(io.StringIO(archive.read("PURCHASE.csv").decode("utf-8-sig"))))
    assert rows[0][:3] == ["idempotency_key", "enterprise_credit_code", "receipt_no"] and len(rows) == 3
    assert rows[1][rows[0].index("production_date")] == "20261101"
    assert statuses(sessions)[first.idempotency_key] == "acknowledged"
    assert list(statuses(sessions).values()).count("pending") == 3  # exporting marks nothing
    with sessions.begin() as session:
        assert package.confirm_package(session, tmp_path / "p.zip") == 3
    assert set(statuses(sessions).values()) == {"acknowledged"}
    with sessions() as session:
        assert session.scalar(select(OutboxEntry.receipt_id).where(OutboxEntry.id == first.id)) == "R-online"


def test_upload_without_an_address_says_so(tmp_path):
    from app.cli import main

    assert main(["--db", str(tmp_path / "n.db"), "init"]) == 0
    result = subprocess.run([sys.executable, "-m", "app", "--db", str(tmp_path / "n.db"), "upload", "--once"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "没有设置平台地址" in result.stderr


def test_platform_sim_command_serves_on_loopback_and_reports_what_it_received(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, FOODARCHIVE_SIM_KEY="cli-key", FOODARCHIVE_SIM_SECRET="cli-secret")
    sim = subprocess.Popen([sys.executable, "-m", "app", "platform-sim", "--port", str(port)], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        first = sim.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first and "cli-secret" not in first
        with Client(f"http://127.0.0.1:{port}", profile.load(), Credentials("cli-key", "cli-secret")) as client:
            assert client.check() == []
            outcome = client.send([("k-1", "enterprise", {"credit_code": "X", "name": "厂", "address": "沪", "licence_no": "SC1"}),
                                   ("k-2", "enterprise", {"name": "缺代码"})])
        assert set(outcome.acknowledged) == {"k-1"} and "credit_code" in outcome.rejected["k-2"][0]
        import httpx

        report = httpx.get(f"http://127.0.0.1:{port}/_sim/received").json()
        assert report["counts"] == {"k-1": 1, "k-2": 1} and list(report["accepted"]) == ["k-1"]
    finally:
        sim.send_signal(signal.SIGINT)
        out, err = sim.communicate(timeout=30)
    assert sim.returncode == 0, err
    assert "共收到 2 条，2 个不同的键" in out and "接收 1 条" in out


def test_no_stored_credentials_is_said_before_anything_is_claimed(tmp_path):
    from app.errors import UserError
    from app.platform import upload

    engine = make_engine(f"sqlite:///{tmp_path / 'nologin.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine, acting.system("tester"))
    factory(sessions, 1)
    with sessions.begin() as session:
        settings.put(session, "platform_url", "http://127.0.0.1:9")
        settings.put(session, "platform_profile", str(profile_file(tmp_path, name="never-logged-in")))
    with pytest.raises(UserError, match="没有保存平台账号和密钥"):
        upload.upload_now(sessions)
    assert "没有保存平台账号和密钥" in upload.check(sessions)[0]
    with sessions() as session:
        assert set(session.scalars(select(OutboxEntry.attempts))) == {0}
    engine.dispose()
