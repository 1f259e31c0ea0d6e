"""One lock order for every writer, on both databases (issue 15).

Several PCs write one archive at once (PostgreSQL), or several programs one
SQLite file (the window, the scheduled ``upload --once``, a PC on a shared
folder). What keeps their writes correct:

- A writing session (``acting.Sessions.begin()``: every window task, every
  command) starts its transaction by taking the write lock: ``BEGIN
  IMMEDIATE`` on SQLite (app/db.py; a second writer waits, bounded by the
  busy timeout, instead of failing when its read-only start cannot become a
  write), the audit chain's advisory lock on PostgreSQL. So it reads only
  what the writer before it committed, and its numbers and balances are
  computed from fresh values.
- Every other session takes the chain lock before its first flush
  (``audit``), never after a row lock: one lock order, chain then rows, so
  two PCs never wait for each other (the deadlock of issue 15).
- Stock and quantities are read under a row lock (``lock_rows``) just before
  they are checked and changed, so an over-issue check never uses a value
  loaded earlier in the transaction.
"""

from __future__ import annotations

import re

import logging

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.db import POSTGRES_WRITE_WAIT_SECONDS, WRITING
from app.models import Base

from .audit import lock_chain


def begin_writing(session: Session) -> None:
    """Open the transaction of ``session`` (just begun) as a writer's."""
    connection = session.connection(execution_options={WRITING: True})
    if connection.dialect.name == "postgresql":
        # Bounded, like SQLite's busy timeout: a writer that waits longer for
        # another PC's save gets a message (app/problems.py), not a frozen task.
        connection.execute(text(f"SET LOCAL lock_timeout = '{POSTGRES_WRITE_WAIT_SECONDS}s'"))
    lock_chain(connection)


def lock_rows(session: Session, *objects) -> None:
    """Reload ``objects`` from the database under a row lock (SELECT … FOR
    UPDATE; on SQLite the transaction's write lock already excludes other
    writers), the chain lock first. Pending changes are flushed before, so
    none is lost by the reload."""
    lock_chain(session.connection())
    session.flush()
    for obj in objects:
        session.refresh(obj, with_for_update=True)


# "UNIQUE constraint failed: material_lot.lot_no" (SQLite);
# "Key (lot_no)=(L20261122001) already exists." (PostgreSQL's detail).
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+)\.(\w+)")
_POSTGRES_KEY = re.compile(r"Key \((\w+)\)=\((.*)\) already exists")


def _duplicate(error: IntegrityError) -> tuple[str, str, list] | None:
    """The table, the column and the values a unique violation is about."""
    orig = error.orig
    found = _SQLITE_UNIQUE.search(str(orig))
    if found:
        table_name, column_name = found.groups()
        return table_name, column_name, _values(error, column_name)
    diag = getattr(orig, "diag", None)
    if getattr(orig, "sqlstate", None) == "23505" and diag is not None:
        key = _POSTGRES_KEY.match(diag.message_detail or "")
        if key and diag.table_name:
            return diag.table_name, key.group(1), [key.group(2)]
    return None


_INSERT_COLUMNS = re.compile(r"INSERT INTO \S+ \(([^)]*)\)")


def _values(error: IntegrityError, column_name: str) -> list:
    """The statement's values of ``column_name``: named parameters
    (PostgreSQL's driver), or positional ones in the order of the INSERT's
    column list (SQLite's), one row or several."""
    params = error.params
    rows = params if isinstance(params, list) else [params]
    if all(isinstance(row, dict) for row in rows):
        return [value for row in rows for key, value in row.items()
                if key == column_name or key.startswith(column_name + "__")]
    columns = _INSERT_COLUMNS.search(error.statement or "")
    if columns is None:
        return []
    names = [name.strip().strip('"') for name in columns.group(1).split(",")]
    if column_name not in names:
        return []
    flat = [value for row in rows for value in (row if isinstance(row, (list, tuple)) else [row])]
    return flat[names.index(column_name)::len(names)]


def conflict_message(session: Session, error: IntegrityError) -> str | None:
    """What to tell the user when a number or name the program checked as
    free was taken by someone else's save in the meantime: which value, and
    who saved it; None when ``error`` is not such a conflict. Read on a
    connection of its own: the session's transaction has failed."""
    found = _duplicate(error)
    if found is None:
        return None
    table_name, column_name, values = found
    table = Base.metadata.tables.get(table_name)
    if table is None or column_name not in table.c:
        return None
    label = _label(table_name, column_name)
    again = "本次没有保存，请重新保存（自动编号会另取一个号；自己填写的请改用其他值）。"
    if values and "created_by" in table.c:
        try:
            with session.get_bind().engine.connect() as connection:
                row = connection.execute(
                    select(table.c[column_name], table.c.created_by).where(table.c[column_name].in_(values)).limit(1)
                ).first()
        except SQLAlchemyError:  # the message without the name, rather than a crash over it
            logging.getLogger("db").warning("cannot read who saved %s.%s", table_name, column_name, exc_info=True)
            row = None
        if row is not None:
            return f"「{label}」{row[0]} 刚被 {row[1]} 同时保存的记录占用；{again}"
    return f"「{label}」与另一位用户同时保存的记录重复；{again}"


def _label(table_name: str, column_name: str) -> str:
    from app.ledgers.base import registry

    for declaration in registry().values():
        if declaration.model.__table__.name == table_name and column_name in declaration.field_names:
            return declaration.field(column_name).label
    return column_name
