"""The last check before a row reaches the database: every value written by
any service fits its column (issue 15).

Forms, importers and services validate through the ledger declarations
(``Field.convert`` applies the field's bounds). Some values are set by a
service directly — a running balance, an attachment's file name, a user's
name — and a few tables have no ledger. This flush listener holds them to the
same column bounds (``app.ledgers.bounds``), so that SQLite never keeps what
PostgreSQL would refuse with an internal error: the user reads which field,
in Chinese, and nothing is written.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Column, event, inspect
from sqlalchemy.orm import Session

from app.errors import ValidationError
from app.ledgers import bounds, ledger_for_model


@cache
def _limits(column: Column) -> bounds.Bounds:
    return bounds.of_column(column)


def _label(model: type, name: str) -> str:
    declaration = ledger_for_model(model)
    if declaration is not None and name in declaration.field_names:
        return declaration.field(name).label
    return name


@event.listens_for(Session, "before_flush")
def _within_bounds(session: Session, _flush_context, _instances) -> None:
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            column = attr.columns[0]
            if column.table is not state.mapper.local_table:
                continue
            if not state.pending and not state.attrs[attr.key].history.added:
                continue  # an unchanged value was checked when it was written
            value = state.dict.get(attr.key)
            reason = bounds.check(value, _limits(column))
            if reason:
                label = _label(type(obj), attr.key)
                raise ValidationError.single(attr.key, label, f"「{label}」{reason}")
