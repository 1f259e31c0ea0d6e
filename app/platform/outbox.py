"""The transactional outbox (R6.1).

Finalising a record — a receipt accepted, a delivery made, the enterprise
file changed, a recall started or closed — writes an outbox row in the same
transaction: a Session listener watches every flush for the tables in
``elements.SOURCES`` and compares what the record would send now with what
its newest outbox row holds. So no code path can finalise a record without
queueing it, and a rollback takes the outbox row with it.

A record's outbox rows are numbered by version. While the newest one has not
been handed to the platform (pending, or rejected), a change rewrites it in
place; once it is sent or acknowledged, a change queues version + 1 with a
new idempotency key. Keys never change after they are written, so a retry
carries the same key and the platform can recognise a repeat.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from sqlalchemy import and_, event, func, insert, select, update
from sqlalchemy.orm import Session

from app import clock
from app.models import OutboxEntry

from .elements import MODELS, SOURCES

log = logging.getLogger("upload")

TABLE = OutboxEntry.__table__


def key_for(source_table: str, source_id: int, version: int) -> str:
    return f"{source_table}-{source_id}-v{version}"


def encode(payload: dict) -> str:
    def default(value):
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return str(value)  # Decimal: exact, as text

    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=default)


def _now(session: Session) -> dt.datetime:
    return session.info.get("now") or clock.now()


def enqueue(session: Session, row) -> None:
    """Queue (or refresh the queued copy of) one record, in the session's transaction."""
    table_name = row.__table__.name
    kind, build, label = SOURCES[table_name]
    payload = build(session, row)
    if payload is None:
        return
    text = encode(payload)
    connection = session.connection()
    latest = connection.execute(
        select(TABLE.c.id, TABLE.c.version, TABLE.c.status, TABLE.c.payload)
        .where(TABLE.c.source_table == table_name, TABLE.c.source_id == row.id)
        .order_by(TABLE.c.version.desc()).limit(1)
    ).first()
    if latest is not None and latest.payload == text:
        return  # nothing the platform sees has changed
    now = _now(session)
    if latest is not None and latest.status in ("pending", "rejected"):
        # Not with the platform yet: send the corrected content under the same
        # key. The condition is rechecked under the row lock, so a sender that
        # claimed it meanwhile makes us queue a new version instead.
        refreshed = connection.execute(
            update(TABLE)
            .where(TABLE.c.id == latest.id, TABLE.c.status.in_(("pending", "rejected")))
            .values(payload=text, label=str(label(row))[:200])
        ).rowcount
        if refreshed:
            _chain(session, latest.id, "update")
            return
    version = (latest.version + 1) if latest is not None else 1
    inserted = connection.execute(insert(TABLE).values(
        kind=kind, source_table=table_name, source_id=row.id, version=version,
        idempotency_key=key_for(table_name, row.id, version), label=str(label(row))[:200],
        payload=text, status="pending", attempts=0, created_at=now, next_attempt_at=now,
    ))
    _chain(session, inserted.inserted_primary_key[0], "insert")


# What the platform receives is chained into the audit log (the sender's
# churn — status, attempts, leases, receipts — is not: see audit.UNAUDITED).
CONTENT = ("kind", "source_table", "source_id", "version", "idempotency_key", "payload")


def _chain(session: Session, row_id: int, action: str) -> None:
    from app.services import audit  # services import this module for its listener

    connection = session.connection()
    row = connection.execute(select(*(TABLE.c[name] for name in CONTENT)).where(TABLE.c.id == row_id)).one()
    audit.append(connection, session.info, TABLE.name, row_id, action, dict(row._mapping))


@event.listens_for(Session, "after_flush")
def _queue_finalised(session: Session, _flush_context) -> None:
    rows = [obj for obj in session.new if obj.__table__.name in SOURCES]
    rows += [
        obj for obj in session.dirty
        if obj.__table__.name in SOURCES and session.is_modified(obj, include_collections=False)
    ]
    for row in sorted(rows, key=lambda r: (r.__table__.name, r.id)):
        enqueue(session, row)


# ------------------------------------------------------------ status panel

def counts(session: Session) -> dict[str, int]:
    found = dict(session.execute(select(TABLE.c.status, func.count()).group_by(TABLE.c.status)).all())
    return {status: found.get(status, 0) for status in ("pending", "sent", "acknowledged", "rejected")}


def oldest_waiting(session: Session) -> dt.datetime | None:
    """When the oldest record not yet acknowledged was queued (rejected ones wait for the user)."""
    return session.scalar(select(func.min(TABLE.c.created_at)).where(TABLE.c.status.in_(("pending", "sent"))))


def rows(session: Session, statuses: tuple[str, ...] = ("pending", "sent", "rejected"), limit: int = 500) -> list[dict]:
    query = (
        select(TABLE.c.id, TABLE.c.kind, TABLE.c.label, TABLE.c.version, TABLE.c.idempotency_key, TABLE.c.status,
               TABLE.c.attempts, TABLE.c.created_at, TABLE.c.next_attempt_at, TABLE.c.acknowledged_at,
               TABLE.c.receipt_id, TABLE.c.reason)
        .where(TABLE.c.status.in_(statuses)).order_by(TABLE.c.created_at, TABLE.c.id).limit(limit)
    )
    return [dict(row._mapping) for row in session.execute(query)]


def retry(session: Session, ids: list[int]) -> int:
    """Queue rejected records again after correction, with what they say now."""
    from app.services import users  # services import this module for its listener

    count = 0
    for row in session.execute(select(TABLE).where(TABLE.c.id.in_(ids), TABLE.c.status == "rejected")).all():
        users.require(session, "enter", row.source_table)
        source = session.get(MODELS[row.source_table], row.source_id)
        built = SOURCES[row.source_table][1](session, source) if source is not None else None
        changed = session.execute(
            update(TABLE).where(and_(TABLE.c.id == row.id, TABLE.c.status == "rejected")).values(
                status="pending", payload=encode(built) if built is not None else row.payload,
                attempts=0, next_attempt_at=_now(session), reason=None,
            )
        ).rowcount
        if changed:
            _chain(session, row.id, "update")
        count += changed
    log.info("%d rejected records queued again", count)
    return count


# ------------------------------------------------------------ tamper check

EDITED = "队列中的内容与审计日志记下的不符（在本软件之外被改动过），没有发送；请核对原记录后点“重新排队”"


def edited(connection, ids=None) -> set[int]:
    """The outbox rows (all, or ``ids``) whose content is not what the audit
    log recorded when the program wrote it: never sent, reported by ``verify``."""
    from app.services import audit

    log_table = audit.AUDIT_TABLE
    query = select(*(TABLE.c[name] for name in CONTENT), TABLE.c.id)
    entries = select(log_table.c.row_id, log_table.c.row_hash).where(log_table.c.table_name == TABLE.name)
    if ids is not None:
        query = query.where(TABLE.c.id.in_(ids))
        entries = entries.where(log_table.c.row_id.in_(ids))
    logged = dict(connection.execute(entries.order_by(log_table.c.id)).all())  # the newest entry wins
    found = set()
    for row in connection.execute(query):
        content = {name: audit.canonical_value(getattr(row, name)) for name in CONTENT}
        if logged.get(row.id) != audit.row_hash(TABLE.name, content):
            found.add(row.id)
    return found
