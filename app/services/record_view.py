"""What the record window reads: one record as plain data with its amendment
history, and the rows each reference field of a form may name. Qt-free; the
window reads these on the GUI thread when it opens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.i18n import tr
from app.ledgers import Ledger, ledger as ledger_named
from app.models import Amendment

from . import guards

Choices = list[tuple[int, str]]  # (id, display text) of the rows a reference may name
Marks = dict[int, str]  # id -> a state code the choice list shows beside the row (a supplier's standing)


@dataclass(frozen=True)
class AmendmentLine:
    at: dt.datetime
    by: str
    field: str
    old: str | None
    new: str | None
    reason: str


@dataclass
class Snapshot:
    """A record as plain data, read on the GUI thread and handed to the form."""

    values: dict[str, object]
    number: str
    locked: bool
    lock_reason: str | None = None  # why it changes only by amendment (guards.lock_of)
    submitted_at: dt.datetime | None = None
    submitted_by: str | None = None
    amendments: list[AmendmentLine] = field(default_factory=list)
    sealed_in: str | None = None  # 档号 of the sealed archive that holds it: locked too
    version: int | None = None  # row_version read: a save names it (entry.amend, several PCs)


def read_record(session, declaration: Ledger, record_id: int) -> Snapshot:
    row = session.get(declaration.model, record_id)
    if row is None:
        raise UserError(tr("This record no longer exists."))
    values = {name: getattr(row, name) for name in declaration.field_names}
    number = values.get(declaration.number_field) if declaration.number_field else None
    lines = session.execute(
        select(Amendment.created_at, Amendment.created_by, Amendment.field, Amendment.old_value,
               Amendment.new_value, Amendment.reason)
        .where(Amendment.table_name == declaration.model.__table__.name, Amendment.row_id == record_id)
        .order_by(Amendment.created_at, Amendment.id)
    ).all()
    lock = guards.lock_of(session, row)
    sealed = guards.sealed_in(session, declaration.model.__table__.name, record_id)
    return Snapshot(
        values=values,
        number=str(number) if number is not None else str(record_id),
        locked=lock is not None or sealed is not None,
        lock_reason=lock,
        sealed_in=sealed,
        submitted_at=getattr(row, "submitted_at", None),
        submitted_by=getattr(row, "submitted_by", None),
        amendments=[AmendmentLine(*line) for line in lines],
        version=getattr(row, "row_version", None),
    )


# ----------------------------------------------------------------- lookups


def lookup_choices(session: Session, declaration: Ledger) -> dict[str, Choices]:
    """For every reference field: the rows it may name, one query per lookup."""
    by_lookup: dict[tuple[str, str], Choices] = {}
    found = {}
    for f in declaration.fields:
        if f.kind != "ref":
            continue
        key = (f.lookup.ledger, f.lookup.display)
        if key not in by_lookup:
            by_lookup[key] = _choices(session, ledger_named(f.lookup.ledger), f.lookup.display)
        found[f.name] = by_lookup[key]
    return found


def _choices(session: Session, target: Ledger, display: str) -> Choices:
    model = target.model
    # Records (batches, lots, receipts) newest first; master data in entry order.
    order = model.id.desc() if target.date_field else model.id
    shown = target.field(display) if display in target.field_names else None
    rows = session.execute(select(model.id, getattr(model, display)).order_by(order)).all()
    texts = [(row_id, shown.display(value) if shown else str(value or "")) for row_id, value in rows]
    counts: dict[str, int] = {}
    for _row_id, text in texts:
        counts[text] = counts.get(text, 0) + 1
    # Two people of one name stay apart: the row number follows the name.
    return [(row_id, text if counts[text] == 1 else f"{text}（{row_id}）") for row_id, text in texts]


def _supplier_marks(session: Session) -> Marks:
    from . import suppliers

    return suppliers.standings(session)


# Ledgers whose rows carry a state a person must see when choosing one.
MARKERS = {"supplier": _supplier_marks}


def lookup_marks(session: Session, declaration: Ledger) -> dict[str, Marks]:
    """For every reference field into a marked ledger: the state of each row it may name."""
    found: dict[str, Marks] = {}
    cache: dict[str, Marks] = {}
    for f in declaration.fields:
        if f.kind == "ref" and f.lookup.ledger in MARKERS:
            if f.lookup.ledger not in cache:
                cache[f.lookup.ledger] = MARKERS[f.lookup.ledger](session)
            found[f.name] = cache[f.lookup.ledger]
    return found
