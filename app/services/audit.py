"""The append-only, hash-chained audit log (R5.1, R5.2).

Every flush of every Session writes one audit entry per inserted, updated or
deleted row, in the same transaction, chained to the previous entry by hash.
The listener is installed on the Session class when this module is imported
(app.services imports it), so no code path of the application can write
without it. ``verify`` recomputes the chain and compares every row with the
hash of its last audited state, which reveals rows changed, added or removed
behind the application's back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app import clock
from app.models import AuditEntry, Base

log = logging.getLogger("audit")

AUDIT_TABLE: Table = AuditEntry.__table__
GENESIS = "0" * 64
# Tables whose rows are under audit: every table but the log itself and the
# platform sender's bookkeeping. An outbox row is written with the record it
# carries (that record's write is audited) and is then churned by the sender on
# every attempt — status, attempts, leases, receipts — from several PCs at
# once; logging that churn would serialise every sender on the chain lock and
# bury the legal trail under delivery noise, and none of it changes what was
# recorded. The receipts stay in the outbox rows (and in every JSON export).
UNAUDITED = {"audit_log", "alembic_version", "platform_outbox", "platform_schedule"}


def canonical_value(value: object) -> object:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        # 5, 5.0 and 5.000 are one quantity: the database may hand back any.
        normal = value.normalize()
        return format(normal, "f") if normal != 0 else "0"
    if isinstance(value, float):
        return canonical_value(Decimal(repr(value)))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


_ADDED_LATER: dict[str, frozenset[str]] = {}


def added_later(table_name: str) -> frozenset[str]:
    """The columns an upgrade added to a table that already had rows (a
    model's ``added_columns``). They are hashed only when they hold a value:
    a row written before the upgrade still matches its audit entry and its
    signatures, and a row written after hashes the same either way."""
    if not _ADDED_LATER:
        _ADDED_LATER.update({m.local_table.name: frozenset(getattr(m.class_, "added_columns", ()))
                             for m in Base.registry.mappers})
    return _ADDED_LATER.get(table_name, frozenset())


def canonical_row(row, table_name: str | None = None) -> dict[str, object]:
    later = added_later(table_name) if table_name else frozenset()
    return {key: canonical_value(value) for key, value in sorted(row._mapping.items())
            if value is not None or key not in later}


def to_json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def row_hash(table_name: str, canonical: dict[str, object]) -> str:
    return hashlib.sha256(to_json([table_name, canonical]).encode()).hexdigest()


def entry_hash(prev_hash: str, entry: dict[str, object]) -> str:
    fields = [prev_hash] + [entry[k] for k in ("at", "actor", "action", "table_name", "row_id", "row_hash", "data", "reason")]
    fields[1] = canonical_value(fields[1])
    return hashlib.sha256(to_json(fields).encode()).hexdigest()


def audited_tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in UNAUDITED]


_TABLE_ORDER: dict[str, int] = {}


def _in_dependency_order(table_names: Iterable[str]) -> list[str]:
    """The tables in ``Base.metadata.sorted_tables`` order. The sort is a
    topological sort of every table: done once (again only if a table is
    added), not on every flush."""
    names = list(table_names)
    if any(name not in _TABLE_ORDER for name in names):
        _TABLE_ORDER.clear()
        _TABLE_ORDER.update({t.name: i for i, t in enumerate(Base.metadata.sorted_tables)})
    return sorted((n for n in names if n in _TABLE_ORDER), key=_TABLE_ORDER.__getitem__)


def _fetch_rows(connection: Connection, table: Table, ids: Iterable[int]) -> dict[int, dict]:
    ids = sorted(set(ids))
    found: dict[int, dict] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in connection.execute(select(table).where(table.c.id.in_(chunk))):
            found[row.id] = canonical_row(row, table.name)
    return found


def _lock_chain(connection: Connection) -> str:
    """Serialise writers of the chain and return the newest hash."""
    if connection.dialect.name == "postgresql":
        # Several PCs may write at once: one chain head at a time.
        connection.execute(text("SELECT pg_advisory_xact_lock(7120513)"))
    last = connection.execute(select(AUDIT_TABLE.c.hash).order_by(AUDIT_TABLE.c.id.desc()).limit(1)).scalar()
    return last or GENESIS


HEAD = "_audit_head"  # session.info: (connection, newest hash) this transaction wrote


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction) -> None:
    """The end of the transaction, or of a savepoint (a rolled-back entry must
    not be chained to); not the inner transaction every flush runs in."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(HEAD, None)


def _head(session: Session, connection: Connection) -> str:
    """The chain head: read (and locked) once per transaction; after that the
    transaction holds the lock (PostgreSQL's advisory lock, SQLite's write
    lock) and is the only writer, so the head it wrote last is the head."""
    cached = session.info.get(HEAD)
    if cached is not None and cached[0] is connection:
        return cached[1]
    return _lock_chain(connection)


@event.listens_for(Session, "after_flush")
def _record_flush(session: Session, _flush_context) -> None:
    changes: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    deleted_rows: dict[tuple[str, int], dict] = session.info.pop("_audit_deleted", {})
    for obj in session.new:
        changes[obj.__table__.name]["insert"].add(obj.id)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False) and obj.__table__.name not in UNAUDITED:
            changes[obj.__table__.name]["update"].add(obj.id)
    for (table_name, row_id) in deleted_rows:
        changes[table_name]["delete"].add(row_id)
    if not changes:
        return
    connection = session.connection()
    prev = _head(session, connection)
    actor = session.info.get("actor", "system")
    reason = session.info.get("reason")
    now = clock.now()
    entries = []
    tables = Base.metadata.tables
    for table_name in _in_dependency_order(changes):
        if table_name in UNAUDITED:
            continue
        by_action = changes[table_name]
        current = _fetch_rows(connection, tables[table_name], by_action["insert"] | by_action["update"])
        for action in ("insert", "update", "delete"):
            for row_id in sorted(by_action[action]):
                if action == "delete":
                    data, digest = deleted_rows[(table_name, row_id)], ""
                else:
                    data = current[row_id]
                    digest = row_hash(table_name, data)
                entry = {
                    "at": now,
                    "actor": actor,
                    "action": action,
                    "table_name": table_name,
                    "row_id": row_id,
                    "row_hash": digest,
                    "data": to_json(data),
                    "reason": reason,
                }
                entry["prev_hash"] = prev
                entry["hash"] = prev = entry_hash(prev, entry)
                entries.append(entry)
    if entries:
        connection.execute(insert(AUDIT_TABLE), entries)
        session.info[HEAD] = (connection, prev)


UPGRADE_ACTOR = "数据库升级"


def record_new_columns(connection: Connection, table_name: str, reason: str) -> int:
    """A migration that adds columns to an audited table changes every row's
    canonical form (the new columns appear, empty): log each row's new state
    as an update by the upgrade, with ``reason``, so ``verify`` holds and the
    log says why. Tables are read as they are in the database at this point of
    the migration, not as the newest models declare them. Returns the number
    of rows logged."""
    from sqlalchemy import MetaData, Table

    reflected = MetaData()
    table = Table(table_name, reflected, autoload_with=connection)
    log_table = Table(AUDIT_TABLE.name, reflected, autoload_with=connection)
    prev = _lock_chain(connection)
    now, count, entries = clock.now(), 0, []
    for row in connection.execute(select(table).order_by(table.c.id)):
        data = canonical_row(row, table_name)
        entry = {"at": now, "actor": UPGRADE_ACTOR, "action": "update", "table_name": table_name,
                 "row_id": row.id, "row_hash": row_hash(table_name, data), "data": to_json(data), "reason": reason}
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(prev, entry)
        entries.append(entry)
        count += 1
        if len(entries) >= 1000:
            connection.execute(insert(log_table), entries)
            entries = []
    if entries:
        connection.execute(insert(log_table), entries)
    return count


@event.listens_for(Session, "before_flush")
def _remember_deleted(session: Session, _flush_context, _instances) -> None:
    """Keep the content of rows about to be deleted: the log keeps what was removed."""
    if not session.deleted:
        return
    by_table: dict[str, list[int]] = defaultdict(list)
    for obj in session.deleted:
        if obj.__table__.name not in UNAUDITED:
            by_table[obj.__table__.name].append(obj.id)
    connection = session.connection()
    saved = session.info.setdefault("_audit_deleted", {})
    for table_name, ids in by_table.items():
        for row_id, data in _fetch_rows(connection, Base.metadata.tables[table_name], ids).items():
            saved[(table_name, row_id)] = data


@event.listens_for(Session, "after_rollback")
def _forget_deleted(session: Session) -> None:
    session.info.pop("_audit_deleted", None)


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class Finding:
    table_name: str
    row_id: int | None
    message: str  # Chinese, for the report


def _iter_audit(connection: Connection, batch: int = 5000) -> Iterator:
    last_id = 0
    while True:
        rows = connection.execute(
            select(AUDIT_TABLE).where(AUDIT_TABLE.c.id > last_id).order_by(AUDIT_TABLE.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def verify(connection: Connection) -> list[Finding]:
    """Everything that does not match the audit log, and every electronic
    signature that no longer holds; empty when all is well."""
    findings: list[Finding] = []
    prev = GENESIS
    latest: dict[tuple[str, int], tuple[str, str]] = {}
    for row in _iter_audit(connection):
        entry = {k: getattr(row, k) for k in ("at", "actor", "action", "table_name", "row_id", "row_hash", "data", "reason")}
        if row.prev_hash != prev or entry_hash(row.prev_hash, entry) != row.hash:
            findings.append(
                Finding("audit_log", row.id, f"审计日志第 {row.id} 条与前后记录的哈希链不符：日志被改动或删除过")
            )
            # Resynchronise on the stored hash so one break is reported once.
        prev = row.hash
        latest[(row.table_name, row.row_id)] = (row.action, row.row_hash)
    for table in audited_tables():
        label = _label(table.name)
        seen: set[int] = set()
        for row in connection.execute(select(table).order_by(table.c.id)):
            seen.add(row.id)
            state = latest.get((table.name, row.id))
            if state is None or state[0] == "delete":
                findings.append(Finding(table.name, row.id, f"{label}（编号 {row.id}）不是经本软件写入的"))
            elif row_hash(table.name, canonical_row(row, table.name)) != state[1]:
                findings.append(Finding(table.name, row.id, f"{label}（编号 {row.id}）在本软件之外被修改过"))
        for (table_name, row_id), (action, _digest) in latest.items():
            if table_name == table.name and action != "delete" and row_id not in seen:
                findings.append(Finding(table.name, row_id, f"{label}（编号 {row_id}）在本软件之外被删除"))
    from .signatures import verify_all  # signatures builds on this module

    findings += verify_all(connection)
    return findings


def _label(table_name: str) -> str:
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table_name:
            return getattr(mapper.class_, "__label__", "") or table_name
    return table_name
