"""Issue 15 (tamper evidence) and issue 19 point 5 (the paper anchor): direct
edits of the database — trailing deletions, edited upload payloads, values
outside their domain, dropped triggers, values no type can read, a chain
rewritten consistently — are each reported, and ``verify`` always finishes."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app import append_only
from app.cli import main
from app.db import make_engine, open_database
from app.models import AuditEntry, Base, OutboxEntry, domains
from app.platform import outbox
from app.platform.sender import Sender
from app.services import acting, anchors, audit

from .builders import plant
from .test_sealing import factory, quick_passwords  # noqa: F401  (fixtures)


@pytest.fixture
def demo_copy(demo_db_file, tmp_path):
    """A copy of the demo factory (≈16,000 audit entries) to tamper with."""
    copy = tmp_path / "tamper.db"
    with sqlite3.connect(demo_db_file[0]) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


def raw(path) -> sqlite3.Connection:
    """A sqlite3 connection as a tamperer would open one: no triggers, no CHECKs."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    return conn


def findings(path) -> list[str]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return [f.message for f in audit.verify(connection)]
    finally:
        engine.dispose()


def start(path) -> tuple[list[str], object]:
    """Open the database as the application does on every start; what it warned about."""
    said: list[str] = []
    engine, sessions = open_database(f"sqlite:///{path}", actor=acting.system("tester"), create=False,
                                     on_tamper=said.extend)
    return said, (engine, sessions)


# ------------------------------------------------------------ trailing deletions


def test_a_new_database_where_one_was_deleted_starts_without_a_warning(demo_copy):
    said, (engine, _) = start(demo_copy)  # this PC remembers the demo's head
    engine.dispose()
    demo_copy.unlink()
    engine, sessions = open_database(f"sqlite:///{demo_copy}", actor=acting.system("tester"), create=True)
    with sessions.begin() as session:
        from app.models import Setting

        session.add(Setting(key="first-entry", value="1"))
    engine.dispose()
    said, (engine, _) = start(demo_copy)
    engine.dispose()
    assert said == []
    with raw(demo_copy) as conn:
        newest = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    engine = make_engine(f"sqlite:///{demo_copy}")
    with engine.connect() as connection:
        assert anchors.stored(connection).entry == newest
    engine.dispose()


def test_trailing_deletion_is_reported_at_start_and_by_verify(demo_copy):
    said, (engine, _) = start(demo_copy)  # this PC remembers the head
    engine.dispose()
    assert said == []
    with raw(demo_copy) as conn:
        last = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
        # The newest deliveries and their entries go, as if never written: the chain left is intact.
        newest = conn.execute("SELECT table_name, row_id FROM audit_log WHERE id > ?", (last - 5,)).fetchall()
        for table_name, row_id in newest:
            conn.execute(f"DELETE FROM {table_name} WHERE id = ?", (row_id,))
        conn.execute("DELETE FROM audit_log WHERE id > ?", (last - 5,))
        conn.execute(append_only._SQLITE["audit_log_no_update"])
        conn.execute(append_only._SQLITE["audit_log_no_delete"])
    messages = findings(demo_copy)
    assert any("末尾的条目被删除" in m and f"第 {last} 条" in m for m in messages), messages
    said, (engine, sessions) = start(demo_copy)
    assert any("末尾的条目被删除" in m for m in said)
    # The next write gets a new id, never one of the deleted ones.
    with sessions.begin() as session:
        from app.models import Setting

        session.add(Setting(key="tamper-test", value="1"))
    with engine.connect() as connection:
        assert connection.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc())).scalar() > last
        # The evidence stays: the local anchor is not moved over the gap.
        assert anchors.stored(connection).entry == last
    engine.dispose()


def test_an_id_reused_after_a_deletion_is_reported(demo_copy):
    said, (engine, _) = start(demo_copy)
    engine.dispose()
    with raw(demo_copy) as conn:
        last, = conn.execute("SELECT max(id) FROM audit_log").fetchone()
        row = conn.execute("SELECT * FROM audit_log WHERE id = ?", (last,)).fetchone()
        conn.execute("DELETE FROM audit_log WHERE id = ?", (last,))
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'audit_log'")  # what AUTOINCREMENT would prevent
        conn.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (last, *row[1:7], "forged", row[8], row[9], "f" * 64))
    assert any(f"第 {last} 条" in m and "编号被重新使用" in m for m in findings(demo_copy))


# ------------------------------------------------------------ upload payloads


def test_an_edited_pending_payload_is_reported_and_not_sent(demo_copy):
    with raw(demo_copy) as conn:
        entry_id, payload = conn.execute(
            "SELECT id, payload FROM platform_outbox WHERE source_table = 'incoming_inspection' "
            "AND status = 'pending' ORDER BY id LIMIT 1").fetchone()
        assert '"quantity": "' in payload
        edited = payload.replace('"quantity": "', '"quantity": "9', 1)
        conn.execute("UPDATE platform_outbox SET payload = ? WHERE id = ?", (edited, entry_id))
    assert any(f"平台上传队列第 {entry_id} 条" in m and "不会被发送" in m for m in findings(demo_copy))
    engine = make_engine(f"sqlite:///{demo_copy}")
    from app.db import make_sessionmaker

    sender = Sender(make_sessionmaker(engine), client=None,
                    profile=SimpleNamespace(retry={"lease_seconds": 60}, batch_size=1000),
                    clock=lambda: dt.datetime(2030, 1, 1))
    _token, claimed = sender.claim()
    assert claimed and entry_id not in {row.id for row in claimed}
    with engine.connect() as connection:
        status, reason = connection.execute(select(OutboxEntry.status, OutboxEntry.reason)
                                            .where(OutboxEntry.id == entry_id)).one()
    assert status == "rejected" and "被改动过" in reason
    engine.dispose()


def test_payloads_written_by_the_program_verify(session):
    plant(session)  # queues the enterprise file
    assert session.scalar(select(OutboxEntry.id).limit(1)) is not None
    assert outbox.edited(session.connection()) == set()
    assert audit.verify(session.connection()) == []


# ------------------------------------------------------------ domains


@pytest.mark.parametrize("table,column,value", [
    ("material", "is_gmo", 2),  # SQLite only: PostgreSQL's boolean refuses it by type
    ("material_lot", "status", "bogus"),
    ("material_lot", "quantity_on_hand", -200),
])
def test_out_of_domain_values_are_refused_by_the_database(session, table, column, value):
    if column == "is_gmo" and session.bind.dialect.name != "sqlite":
        pytest.skip("a PostgreSQL boolean column cannot hold 2")
    from .builders import lot

    p = plant(session)
    lot(session, p, p.soy)
    savepoint = session.begin_nested()
    with pytest.raises(IntegrityError, match=f"{column}_domain|CHECK|check"):
        session.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": value})
    savepoint.rollback()


def test_out_of_domain_values_already_there_are_reported(session):
    """A value stored before the constraints existed (or with them bypassed) is found by verify."""
    from .builders import lot

    p = plant(session)
    soy = lot(session, p, p.soy)
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
        connection.execute(text("UPDATE material SET is_gmo = 2 WHERE id = :id"), {"id": p.soy.id})
    else:
        connection.execute(text("ALTER TABLE material_lot DROP CONSTRAINT ck_material_lot_status_domain"))
        connection.execute(text("ALTER TABLE material_lot DROP CONSTRAINT ck_material_lot_quantity_on_hand_domain"))
    connection.execute(text("UPDATE material_lot SET status = 'bogus', quantity_on_hand = -200 WHERE id = :id"),
                       {"id": soy.id})
    try:
        messages = [f.message for f in audit.verify(connection)]
    finally:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")
    assert any("「bogus」" in m and "不是允许的取值" in m for m in messages), messages
    assert any("「-200" in m and "不应为负数" in m for m in messages)
    if connection.dialect.name == "sqlite":
        assert any("「2」" in m and "应为 0（否）或 1（是）" in m for m in messages)


def test_every_rule_is_a_constraint_of_the_upgraded_database(engine):
    """Models and migration 0017 declare the same CHECK constraints."""
    from sqlalchemy import inspect

    inspector = inspect(engine)
    sqlite = engine.dialect.name == "sqlite"
    for rule in domains.rules(Base.metadata):
        if rule.sqlite_only and not sqlite:
            continue
        names = {c["name"] for c in inspector.get_check_constraints(rule.table)}
        assert f"ck_{rule.table}_{rule.name}" in names, rule


# ------------------------------------------------------------ triggers


def test_dropped_triggers_are_reported_and_restored_at_start(demo_copy, capsys):
    with raw(demo_copy):
        pass  # dropped
    assert any("只追加保护" in m for m in findings(demo_copy))
    assert main(["--db", str(demo_copy), "verify"]) == 1  # the start restores them and says so
    out = capsys.readouterr()
    assert "只追加保护" in out.out and "已恢复" in out.out
    engine = make_engine(f"sqlite:///{demo_copy}")
    with engine.connect() as connection:
        assert append_only.missing(connection) == []
    engine.dispose()
    assert main(["--db", str(demo_copy), "verify"]) == 0


def test_dropped_trigger_is_reported_on_postgresql(session):
    if session.bind.dialect.name != "postgresql":
        pytest.skip("the SQLite case is above")
    connection = session.connection()
    connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    assert any("只追加保护" in f.message for f in audit.verify(connection))
    assert append_only.restore(connection) == ["audit_log_append_only"]
    assert append_only.missing(connection) == []


# ------------------------------------------------------------ unreadable values


def test_unparsable_values_are_each_reported(demo_copy):
    with raw(demo_copy) as conn:
        conn.execute("UPDATE incoming_inspection SET receipt_date = 'abc' WHERE id = 1")
        conn.execute("UPDATE feeding SET quantity = 'x1,5' WHERE id = 2")
        conn.execute("UPDATE material SET is_gmo = 'yes' WHERE id = 1")
        conn.execute("UPDATE audit_log SET at = 'not a time' WHERE id = 10")
        conn.execute("UPDATE product_batch SET created_at = '2026-13-45' WHERE id = 3")
    messages = findings(demo_copy)
    assert any("编号 1）存有无法识别的值" in m and "「abc」" in m for m in messages), messages
    assert any("「x1,5」" in m for m in messages)
    assert any("「yes」" in m and "应为 0（否）或 1（是）" in m for m in messages)
    assert any("审计日志第 10 条存有无法识别的值" in m for m in messages)
    assert any("「2026-13-45」" in m for m in messages)


# ------------------------------------------------------------ 40 random edits

GARBAGE = ("篡改", "abc", "2026-13-45", "x1e", "", "9" * 30, "-1", "2", "NaN", "{}")


def _random_edits(path, seed: int, count: int) -> dict[tuple[str, int], str]:
    """``count`` random edits of any column of the audited tables, the log and the
    upload queue's content; returns what was changed, (table, id) → column."""
    rng = random.Random(seed)
    tables = [t for t in audit.audited_tables() if t.name != "setting"] + [AuditEntry.__table__]
    edited: dict[tuple[str, int], str] = {}
    with raw(path) as conn:
        while len(edited) < count:
            table = rng.choice(tables)
            ids = [r[0] for r in conn.execute(f"SELECT id FROM {table.name}")]
            # The edit counter of several PCs is not the record's content (audit.NOT_CONTENT).
            columns = [c.name for c in table.columns if c.name != "id" and c.name not in audit.NOT_CONTENT]
            if not ids or not columns:
                continue
            row_id, column = rng.choice(ids), rng.choice(columns)
            if (table.name, row_id) in edited:
                continue
            value = rng.choice(GARBAGE + (rng.randint(-10**6, 10**6), None))
            before = conn.execute(f"SELECT {column} FROM {table.name} WHERE id = ?", (row_id,)).fetchone()[0]
            try:
                conn.execute(f"UPDATE {table.name} SET {column} = ? WHERE id = ?", (value, row_id))
            except sqlite3.Error:
                continue  # NOT NULL, a unique key: the database refused this one
            after = conn.execute(f"SELECT {column} FROM {table.name} WHERE id = ?", (row_id,)).fetchone()[0]
            if after != before:
                edited[(table.name, row_id)] = column
    return edited


def test_forty_random_edits_are_all_listed_and_verify_finishes(demo_copy, capsys):
    edited = _random_edits(demo_copy, seed=15, count=40)
    engine = make_engine(f"sqlite:///{demo_copy}")
    with engine.connect() as connection:
        found = audit.verify(connection)
    engine.dispose()
    places = {(f.table_name, f.row_id) for f in found}
    missed = [(table, row_id, column) for (table, row_id), column in edited.items() if (table, row_id) not in places]
    assert missed == []
    assert main(["--db", str(demo_copy), "verify"]) == 1  # a report, not an internal error
    out = capsys.readouterr()
    assert "内部错误" not in out.err and f"发现 {len(found)} 处问题" in out.err


# ------------------------------------------------------------ the paper anchor


def _rewrite_consistently(path) -> None:
    """Change a customer's phone and rewrite the whole chain from there on, as
    someone holding the file and knowing the hash rules would: every hash recomputed."""
    with raw(path) as conn:
        customer = conn.execute("SELECT id FROM customer ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute("UPDATE customer SET phone = '13900000000' WHERE id = ?", (customer,))
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        table = Base.metadata.tables["customer"]
        row = connection.execute(select(table).where(table.c.id == customer)).one()
        data = audit.canonical_row(row, "customer")
        entries = connection.execute(select(AuditEntry.__table__).order_by(AuditEntry.id)).all()
    engine.dispose()
    last_of_customer = max(e.id for e in entries if e.table_name == "customer" and e.row_id == customer)
    prev = audit.GENESIS
    with raw(path) as conn:
        for e in entries:
            entry = {k: getattr(e, k) for k in ("at", "actor", "action", "table_name", "row_id", "row_hash", "data", "reason")}
            if e.id == last_of_customer:
                entry["data"], entry["row_hash"] = audit.to_json(data), audit.row_hash("customer", data)
            new_hash = audit.entry_hash(prev, entry)
            if e.id >= last_of_customer:
                conn.execute("UPDATE audit_log SET data = ?, row_hash = ?, prev_hash = ?, hash = ? WHERE id = ?",
                             (entry["data"], entry["row_hash"], prev, new_hash, e.id))
            prev = new_hash
        conn.execute(append_only._SQLITE["audit_log_no_update"])
        conn.execute(append_only._SQLITE["audit_log_no_delete"])


def test_a_consistently_rewritten_chain_passes_verify_but_fails_the_paper_anchor(demo_copy, capsys):
    engine = make_engine(f"sqlite:///{demo_copy}")
    with engine.connect() as connection:
        printed = anchors.head(connection).printed  # as on a remarks sheet
    engine.dispose()
    assert main(["--db", str(demo_copy), "verify", "--anchor", printed]) == 0
    assert "链头核对一致" in capsys.readouterr().out
    _rewrite_consistently(demo_copy)
    # The local anchor of this PC was taken before: start afresh, as on another PC.
    (anchors._file()).unlink()
    assert main(["--db", str(demo_copy), "verify"]) == 0
    capsys.readouterr()
    assert main(["--db", str(demo_copy), "verify", "--anchor", printed]) == 1
    out = capsys.readouterr().out
    assert "没有哈希以" in out and printed.replace(" ", "")[:16] in out


def test_a_mistyped_anchor_is_one_clear_message(demo_copy, capsys):
    assert main(["--db", str(demo_copy), "verify", "--anchor", "12ab"]) == 1
    err = capsys.readouterr().err
    assert "「链头哈希」" in err and "十六进制" in err


def test_a_sealed_volume_prints_the_head_as_of_its_sealing(session, factory):
    """The remarks sheet carries the head right after sealing, the same on every reprint."""
    from app.services import sealing

    from .builders import act_as, lot
    from .test_sealing import PASSWORD, pdf_pages, ready_base, remarks_of

    p, people = factory
    _batch, archive = ready_base(session, p)
    act_as(session, people["sun"])
    sealing.seal(session, archive.id, other_username="qian", other_password=PASSWORD)
    session.flush()
    sealed = anchors.head(session.connection())
    first = remarks_of(pdf_pages(session, archive.id))
    acting.bind(session, acting.system("tester"))
    lot(session, p, p.soy, supplier_lot="LATER-1")  # the chain grows after the sealing
    assert anchors.head(session.connection()).entry > sealed.entry
    again = remarks_of(pdf_pages(session, archive.id))
    for remarks in (first, again):
        flat = remarks.replace(" ", "").replace("\n", "")
        assert f"第{sealed.entry}条" in flat and sealed.hash in flat, remarks
    assert anchors.parse(sealed.printed) == sealed.hash
