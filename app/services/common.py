"""Helpers every service uses: create through a ledger, submit, amend, numbering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.errors import UserError, ValidationError
from app.ledgers import ledger, ledger_for_model
from app.models import Amendment
from app.models.base import Submittable

from . import users
from .audit import canonical_value, lock_chain
from .guards import amending, describe


def actor(session: Session) -> str:
    return session.info.get("actor", "system")


def now(session: Session) -> dt.datetime:
    return session.info.get("now") or clock.now()


def today(session: Session) -> dt.date:
    return session.info.get("today") or now(session).date()


def fail(field: str, label: str, message: str) -> ValidationError:
    return ValidationError.single(field, label, message)


def create(session: Session, ledger_key: str, values: Mapping[str, object], **computed):
    """Validate ``values`` through the ledger's declaration and add a new row.

    ``computed`` are values the service sets itself (balances, statuses); they
    override whatever the caller passed under the same names.
    """
    users.require(session, "enter", ledger_key)
    declaration = ledger(ledger_key)
    cleaned = declaration.clean({**values, **computed})
    if hasattr(declaration.model, "created_by"):
        cleaned["created_by"] = actor(session)
    obj = declaration.model(**cleaned)
    session.add(obj)
    session.flush()
    return obj


def get_or_fail(session: Session, model: type, obj_id: int | None, field: str, label: str):
    obj = session.get(model, obj_id) if obj_id is not None else None
    if obj is None:
        raise fail(field, label, f"「{label}」不存在")
    return obj


def find_by_number(session: Session, model: type, number: str):
    declaration = ledger_for_model(model)
    column = getattr(model, declaration.number_field)
    obj = session.scalar(select(model).where(column == number))
    if obj is None:
        raise UserError(f"找不到{model.__label__}「{number}」")
    return obj


def submit(session: Session, obj: Submittable) -> None:
    """Lock a record: from now on it changes only by amendment."""
    if obj.submitted_at is None:
        obj.submitted_at = now(session)
        obj.submitted_by = actor(session)
        session.flush()


def amend(session: Session, obj, changes: Mapping[str, object], reason: str) -> list[Amendment]:
    """Change a locked record — submitted (``Submittable``), or filed in a
    sealed archive, whatever its kind — keeping the original values, who,
    when and why."""
    users.require(session, "amend")
    if not reason or not reason.strip():
        raise fail("reason", "更正理由", "「更正理由」不能为空")
    declaration = ledger_for_model(type(obj))
    cleaned = declaration.clean(dict(changes), partial=True)
    if obj.__table__.name == "incoming_inspection":
        # The lot made from a receipt must say what the receipt says.
        from .receiving import carry_amendment_to_lot

        carry_amendment_to_lot(session, obj, cleaned)
    amendments = []
    for name, new in cleaned.items():
        old = getattr(obj, name)
        if canonical_value(old) == canonical_value(new):
            continue
        amendments.append(
            Amendment(
                table_name=obj.__table__.name,
                row_id=obj.id,
                field=name,
                old_value=None if old is None else str(canonical_value(old)),
                new_value=None if new is None else str(canonical_value(new)),
                reason=reason.strip(),
                created_by=actor(session),
                created_at=now(session),  # the session's clock: after or before sealing, it says which
            )
        )
        setattr(obj, name, new)
    if not amendments:
        raise UserError(f"{describe(obj)}没有需要更正的内容")
    session.add_all(amendments)
    allowed = amending(session)
    allowed.add(id(obj))
    session.info["reason"] = reason.strip()
    try:
        session.flush()
    finally:
        allowed.discard(id(obj))
        session.info.pop("reason", None)
    return amendments


def starts_with(column, prefix: str):
    """``column`` begins with ``prefix``, as a range the column's index answers
    (a LIKE 'prefix%' reads every row: SQLite's LIKE ignores case, PostgreSQL's
    needs a C collation; a million sale lines made each new number cost 80 ms)."""
    if not prefix:
        return column.is_not(None)
    return (column >= prefix) & (column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def next_number(session: Session, model: type, column_name: str, prefix: str, width: int = 3) -> str:
    """The next free ``prefix`` + zero-padded sequence number for a column.

    Counted under the audit chain's lock, which every writer holds until it
    commits (services.writing): two PCs saving at once get two numbers, the
    second counted after the first one's row is committed."""
    lock_chain(session.connection())
    column = getattr(model, column_name)
    count = session.scalar(select(func.count()).select_from(model).where(starts_with(column, prefix))) or 0
    while True:
        count += 1
        candidate = f"{prefix}{count:0{width}d}"
        if session.scalar(select(model.id).where(column == candidate)) is None:
            return candidate
