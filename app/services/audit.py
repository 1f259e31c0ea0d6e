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
UNAUDITED = {"audit_log", "alembic_version", "platform_outbox", "platform_schedule", "backup_run"}


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


# Columns that are not what was recorded: the version counter every update
# bumps (models.base.Recorded) — hashing it would only make the rows kept
# before it existed disagree with their entries and signatures.
NOT_CONTENT = frozenset({"row_version"})


def canonical_row(row, table_name: str | None = None) -> dict[str, object]:
    later = added_later(table_name) if table_name else frozenset()
    return {key: canonical_value(value) for key, value in sorted(row._mapping.items())
            if (value is not None or key not in later) and key not in NOT_CONTENT}


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


CHAIN_LOCK = 7120513


def lock_chain(connection: Connection) -> None:
    """Serialise writers of the chain (PostgreSQL: several PCs may write at
    once, one chain head at a time). Taken before any row lock of the
    transaction — at the begin of a writing session, before each flush —
    so that every writer takes its locks in one order (chain, then rows)
    and two never wait for each other. Held to the end of the transaction;
    taking it again is cheap. SQLite needs nothing: its writer holds the
    whole file."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})"))


def _lock_chain(connection: Connection) -> str:
    """Serialise writers of the chain and return the newest hash."""
    lock_chain(connection)
    last = connection.execute(select(AUDIT_TABLE.c.hash).order_by(AUDIT_TABLE.c.id.desc()).limit(1)).scalar()
    return last or GENESIS


HEAD = "_audit_head"  # session.info: (connection, newest hash) this transaction wrote


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction) -> None:
    """The end of the transaction, or of a savepoint (a rolled-back entry must
    not be chained to); not the inner transaction every flush runs in."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(HEAD, None)


def _head(info: dict | None, connection: Connection) -> str:
    """The chain head: read (and locked) once per transaction; after that the
    transaction holds the lock (PostgreSQL's advisory lock, SQLite's write
    lock) and is the only writer, so the head it wrote last is the head.
    Every writer of the chain in a session passes its ``session.info`` and
    leaves the new head there (``_wrote``)."""
    cached = info.get(HEAD) if info is not None else None
    if cached is not None and cached[0] is connection:
        return cached[1]
    return _lock_chain(connection)


def _wrote(info: dict | None, connection: Connection, head: str) -> None:
    if info is not None:
        info[HEAD] = (connection, head)
        info["_audit_wrote"] = True  # the application's sessions then move the local anchor


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
    prev = _head(session.info, connection)
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
        _wrote(session.info, connection, prev)


def append(connection: Connection, info: dict, table_name: str, row_id: int, action: str, data: dict) -> None:
    """One entry for a row written outside the ORM (the upload queue's
    content, see app/platform/outbox.py), chained like every other."""
    prev = _head(info, connection)
    data = {key: canonical_value(value) for key, value in data.items()}
    entry = {"at": clock.now(), "actor": info.get("actor", "system"), "action": action, "table_name": table_name,
             "row_id": row_id, "row_hash": row_hash(table_name, data), "data": to_json(data), "reason": info.get("reason")}
    entry["prev_hash"] = prev
    entry["hash"] = entry_hash(prev, entry)
    connection.execute(insert(AUDIT_TABLE), [entry])
    _wrote(info, connection, entry["hash"])


def insert_audited(connection: Connection, table: Table, rows: list[dict], actor: str,
                   reason: str | None = None, info: dict | None = None) -> list[int]:
    """Insert many rows at once (Core, not one ORM object each) and log each
    one as the flush listener would, in the same transaction: a device file of
    100,000 readings is written in seconds and ``verify`` still holds. Returns
    the new ids in the order of ``rows``."""
    ids = _insert_many(connection, table, rows)
    prev = _head(info, connection)
    now = clock.now()
    for start in range(0, len(ids), 5000):
        chunk = ids[start: start + 5000]
        current = _fetch_rows(connection, table, chunk)
        entries = []
        for row_id in chunk:
            data = current[row_id]
            entry = {"at": now, "actor": actor, "action": "insert", "table_name": table.name, "row_id": row_id,
                     "row_hash": row_hash(table.name, data), "data": to_json(data), "reason": reason}
            entry["prev_hash"] = prev
            entry["hash"] = prev = entry_hash(prev, entry)
            entries.append(entry)
        connection.execute(insert(AUDIT_TABLE), entries)
    _wrote(info, connection, prev)
    return ids


def _insert_many(connection: Connection, table: Table, rows: list[dict]) -> list[int]:
    """The ids of ``rows`` once inserted, in their order. (RETURNING in
    parameter order costs SQLite one statement per row and PostgreSQL a
    sentinel per batch.) SQLite: the rows go in by one executemany and their
    ids are read back: the ids above the largest one this transaction saw.
    No other writer can come between: SQLite has one writer at a time, and a
    transaction whose snapshot another has since changed cannot write at all
    (WAL), so the insert would fail instead."""
    from sqlalchemy import func

    if connection.dialect.name == "postgresql":
        # The ids are drawn from the table's sequence first (other PCs may
        # insert meanwhile: the sequence never hands one out twice), then the
        # rows go in with them, without RETURNING.
        ids = list(connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)}).scalars())
        connection.execute(insert(table), [dict(row, id=row_id) for row, row_id in zip(rows, ids)])
        return ids
    before = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar()
    connection.execute(insert(table), rows)
    ids = list(connection.execute(select(table.c.id).where(table.c.id > before).order_by(table.c.id)).scalars())
    if len(ids) != len(rows):
        raise RuntimeError(f"{table.name}: {len(rows)} rows inserted, {len(ids)} found")
    return ids


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
def _lock_before_rows(session: Session, _flush_context, _instances) -> None:
    """The chain lock before the flush writes (and so locks) any row: taken
    only after, two PCs each held a row the other's flush needed and each
    waited for the chain the other held (issue 15)."""
    if session.new or session.deleted or any(obj.__table__.name not in UNAUDITED for obj in session.dirty):
        lock_chain(session.connection())


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
    session.info.pop("_audit_wrote", None)


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class Finding:
    table_name: str
    row_id: int | None
    message: str  # Chinese, for the report


def verify(connection: Connection, anchor: str | None = None) -> list[Finding]:
    """Everything that does not match the audit log, every electronic
    signature that no longer holds, every value outside its domain, missing
    append-only triggers, edited upload payloads and a chain shorter than its
    anchors; empty when all is well. A value that cannot even be read is one
    finding among the others: the report is always complete. With ``anchor``
    (a head hash printed on a paper volume) the chain up to that entry must
    still be the one that was printed."""
    findings: list[Finding] = []
    latest = _verify_chain(connection, findings)
    for table in audited_tables():
        _verify_rows(connection, table, latest, findings)
    from . import tamper  # the checks beyond the chain build on this module

    findings += tamper.beyond_the_chain(connection, anchor)
    return findings


def _verify_chain(connection: Connection, findings: list[Finding]) -> dict:
    """Recompute the chain; return each row's newest logged state."""
    from .safe_read import Unreadable, rows

    prev = GENESIS
    latest: dict[tuple[str, int], tuple[str, str | None]] = {}
    for row in rows(connection, AUDIT_TABLE):
        if isinstance(row, Unreadable):
            findings.append(Finding("audit_log", row.id, f"审计日志第 {row.id} 条存有无法识别的值（"
                                    + _bad_values(AUDIT_TABLE.name, row.bad) + "）：日志被改动过"))
            values = row.values
            prev = values.get("hash") or prev
            if values.get("table_name") is not None and values.get("row_id") is not None:
                latest[(values["table_name"], values["row_id"])] = ("unknown", None)
            continue
        entry = {k: getattr(row, k) for k in ("at", "actor", "action", "table_name", "row_id", "row_hash", "data", "reason")}
        try:
            intact = row.prev_hash == prev and entry_hash(row.prev_hash, entry) == row.hash
        except (TypeError, ValueError):  # a value of a type the log never holds
            intact = False
        if not intact:
            findings.append(
                Finding("audit_log", row.id, f"审计日志第 {row.id} 条与前后记录的哈希链不符：日志被改动或删除过")
            )
            # Resynchronise on the stored hash so one break is reported once.
        prev = row.hash
        latest[(row.table_name, row.row_id)] = (row.action, row.row_hash)
    return latest


def _verify_rows(connection: Connection, table: Table, latest: dict, findings: list[Finding]) -> None:
    from .safe_read import Unreadable, rows

    label = _label(table.name)
    seen: set[int] = set()
    for row in rows(connection, table):
        seen.add(row.id)
        state = latest.get((table.name, row.id))
        if isinstance(row, Unreadable):
            findings.append(Finding(table.name, row.id, f"{label}（编号 {row.id}）存有无法识别的值（"
                                    + _bad_values(table.name, row.bad) + "）：在本软件之外被修改过"))
        elif state is None or state[0] == "delete":
            findings.append(Finding(table.name, row.id, f"{label}（编号 {row.id}）不是经本软件写入的"))
        elif state[0] == "unknown":
            continue  # its log entry is unreadable, reported above
        elif _row_digest(table.name, row) != state[1]:
            changed = _changed_columns(connection, table.name, row)
            which = "（" + "、".join(f"「{column_label(table.name, c)}」" for c in changed) + "）" if changed else ""
            findings.append(Finding(table.name, row.id, f"{label}（编号 {row.id}）在本软件之外被修改过{which}"))
    for (table_name, row_id), (action, _digest) in latest.items():
        if table_name == table.name and action not in ("delete", "unknown") and row_id not in seen:
            findings.append(Finding(table.name, row_id, f"{label}（编号 {row_id}）在本软件之外被删除"))


def _changed_columns(connection: Connection, table_name: str, row) -> list[str]:
    """The columns that differ from the row's newest logged state (read only for
    a changed row, through the log's (table_name, row_id) index)."""
    logged = connection.execute(
        select(AUDIT_TABLE.c.data).where(AUDIT_TABLE.c.table_name == table_name, AUDIT_TABLE.c.row_id == row.id)
        .order_by(AUDIT_TABLE.c.id.desc()).limit(1)).scalar()
    try:
        before = json.loads(logged)
        now = canonical_row(row, table_name)
    except (TypeError, ValueError, ArithmeticError):
        return []
    return sorted(key for key in set(before) | set(now) if before.get(key) != now.get(key))


def _row_digest(table_name: str, row) -> str | None:
    try:
        return row_hash(table_name, canonical_row(row, table_name))
    except (TypeError, ValueError, ArithmeticError):  # e.g. a value of a type no column holds
        return None


def column_label(table_name: str, column: str) -> str:
    """The ledger's Chinese label of a column where one is declared, else its name."""
    from app.ledgers import registry

    ledger = registry().get(table_name)
    for field in (ledger.fields if ledger is not None else ()):
        if field.name == column:
            return field.label
    return _BOOKKEEPING.get(column, column)


# The mixins' columns (models/base.py), which no ledger declares as a field.
_BOOKKEEPING = {"created_at": "录入时间", "created_by": "录入人", "submitted_at": "提交时间", "submitted_by": "提交人"}


def _bad_values(table_name: str, bad: dict[str, str]) -> str:
    return "，".join(f"「{column_label(table_name, column)}」为「{raw}」" for column, raw in bad.items())


def _label(table_name: str) -> str:
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table_name:
            return getattr(mapper.class_, "__label__", "") or table_name
    return table_name
