"""Reading rows that someone may have edited behind the program's back.

A date column holding "abc" or a quantity holding "x1" (SQLite keeps what it
is given) makes SQLAlchemy raise while it converts the row. ``verify`` must
report that value and go on to every other finding, so rows are read here in
batches and, when a batch cannot be converted, one by one and column by
column: the unreadable values come back as ``Unreadable`` with the raw text,
everything else as ordinary rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import String, Table, select, type_coerce
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import DBAPIError

BATCH = 2000


@dataclass
class Unreadable:
    """A row with at least one value the column's type cannot hold."""

    id: int
    values: dict[str, object] = field(default_factory=dict)  # the columns that could be read
    bad: dict[str, str] = field(default_factory=dict)  # column -> raw text as stored


def rows(connection: Connection, table: Table, batch: int = BATCH) -> Iterator[Row | Unreadable]:
    """Every row of ``table`` in id order; a row that cannot be converted comes as ``Unreadable``."""
    last = None
    while True:
        query = select(table).order_by(table.c.id).limit(batch)
        if last is not None:
            query = query.where(table.c.id > last)
        try:
            chunk: list[Row | Unreadable] = list(connection.execute(query).all())
        except DBAPIError:
            raise  # the database itself failed: not a value to report
        except Exception:  # noqa: BLE001 — a value SQLAlchemy cannot convert; found below, row by row
            chunk = list(_one_by_one(connection, table, last, batch))
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].id


def _one_by_one(connection: Connection, table: Table, after, batch: int) -> Iterator[Row | Unreadable]:
    query = select(table.c.id).order_by(table.c.id).limit(batch)
    if after is not None:
        query = query.where(table.c.id > after)
    for row_id in connection.execute(query).scalars().all():
        try:
            yield connection.execute(select(table).where(table.c.id == row_id)).one()
        except DBAPIError:
            raise
        except Exception:  # noqa: BLE001 — see rows()
            yield _columns(connection, table, row_id)


def _columns(connection: Connection, table: Table, row_id: int) -> Unreadable:
    found = Unreadable(row_id)
    for column in table.columns:
        try:
            found.values[column.name] = connection.execute(select(column).where(table.c.id == row_id)).scalar()
        except DBAPIError:
            raise
        except Exception:  # noqa: BLE001 — see rows()
            raw = connection.execute(select(type_coerce(column, String)).where(table.c.id == row_id)).scalar()
            found.bad[column.name] = shorten(raw)
    return found


def shorten(value: object, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
