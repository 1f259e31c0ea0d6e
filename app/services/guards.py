"""Rules every flush obeys, whoever wrote the code that flushes.

- A submitted (locked) record changes only through ``amend`` (R5.1).
- So does any record filed in a sealed archive (封卷), submitted or not.
- Nothing filed in an archive is deleted before the archive's retention
  date, nor is the archive itself (R3.4, G§49).
- A session that names nobody (``services.acting``) changes nothing that is
  audited: the log must say who did it (R5.1, R5.4).
"""

from __future__ import annotations

import datetime as dt

from functools import cache

from sqlalchemy import and_, event, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app import clock
from app.errors import RecordLocked, RetentionError
from app.models import Archive, ArchiveRecord
from app.models.base import Submittable

from . import acting

AMENDING = "_amending"


def amending(session: Session) -> set[int]:
    """``id()`` of the objects an amendment may change in the current flush."""
    return session.info.setdefault(AMENDING, set())


def describe(obj) -> str:
    """How a user names a record: its ledger's label and number."""
    from app.ledgers import ledger_for_model

    ledger = ledger_for_model(type(obj))
    number = getattr(obj, ledger.number_field, None) if ledger and ledger.number_field else None
    return f"{type(obj).__label__}「{number or obj.id}」"


def _changed_content(obj) -> list[str]:
    """Changed columns, but for the bookkeeping a model lists in ``live_columns``."""
    state = sa_inspect(obj)
    live = getattr(obj, "live_columns", frozenset())
    return [
        attr.key
        for attr in state.mapper.column_attrs
        if attr.key not in live and state.attrs[attr.key].history.has_changes()
    ]


@cache
def _filed_tables() -> frozenset[str]:
    """Tables whose rows an archive may hold (their ledger names an archive)."""
    from app.ledgers import registry

    return frozenset(d.model.__tablename__ for d in registry().values() if d.archive)


def sealed_archives(session: Session, rows: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """(table, row id) -> 档号 of the sealed archive each row is filed in, for
    the rows that are filed in one."""
    by_table: dict[str, list[int]] = {}
    for table_name, row_id in rows:
        if table_name in _filed_tables():
            by_table.setdefault(table_name, []).append(row_id)
    if not by_table:
        return {}
    found = session.execute(
        select(ArchiveRecord.table_name, ArchiveRecord.row_id, Archive.archive_no)
        .join(Archive, Archive.id == ArchiveRecord.archive_id)
        .where(Archive.status == "sealed",
               or_(*(and_(ArchiveRecord.table_name == t, ArchiveRecord.row_id.in_(ids)) for t, ids in by_table.items())))
        .order_by(Archive.archive_no)
    ).all()
    sealed: dict[tuple[str, int], str] = {}
    for table_name, row_id, archive_no in found:
        sealed.setdefault((table_name, row_id), archive_no)
    return sealed


def sealed_in(session: Session, table_name: str, row_id: int) -> str | None:
    """The 档号 of a sealed archive that holds this row, or None."""
    return sealed_archives(session, [(table_name, row_id)]).get((table_name, row_id))


def _was_locked(obj: Submittable) -> bool:
    history = sa_inspect(obj).attrs.submitted_at.history
    before = history.deleted[0] if history.deleted else (history.unchanged[0] if history.unchanged else None)
    return before is not None


def _today(session: Session) -> dt.date:
    # Tests move the clock through session.info; the application never does.
    return session.info.get("today") or clock.today()


@event.listens_for(Session, "before_flush")
def _enforce(session: Session, _flush_context, _instances) -> None:
    from .audit import UNAUDITED

    if acting.of(session) is None and any(
        obj.__table__.name not in UNAUDITED for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        acting.required(session)
    actor = session.info.get("actor")
    for obj in session.new:
        # A row names who entered it even when built without the services.
        if actor and getattr(obj, "created_by", actor) in (None, "system"):
            obj.created_by = actor
    allowed = amending(session)
    for obj in session.dirty:
        if (
            isinstance(obj, Submittable)
            and id(obj) not in allowed
            and _was_locked(obj)
            and _changed_content(obj)
        ):
            raise RecordLocked(f"{describe(obj)}已提交锁定，不能直接修改；请使用“更正”并说明理由")
    _refuse_changes_to_sealed(session, allowed)
    for obj in session.deleted:
        if isinstance(obj, Submittable) and obj.submitted_at is not None:
            raise RecordLocked(f"{describe(obj)}已提交锁定，不能删除")
        _refuse_early_delete(session, obj)


def _refuse_changes_to_sealed(session: Session, allowed: set[int]) -> None:
    changed = [
        obj for obj in session.dirty
        if id(obj) not in allowed and obj.__table__.name in _filed_tables() and _changed_content(obj)
    ]
    if not changed:
        return
    with session.no_autoflush:
        sealed = sealed_archives(session, [(obj.__table__.name, obj.id) for obj in changed])
    for obj in changed:
        archive_no = sealed.get((obj.__table__.name, obj.id))
        if archive_no is not None:
            raise RecordLocked(
                f"{describe(obj)}属于已封卷的档案 {archive_no}，不能直接修改；请使用“更正”并说明理由"
            )


def _refuse_early_delete(session: Session, obj) -> None:
    today = _today(session)
    if isinstance(obj, Archive):
        archives = [obj]
    else:
        archives = session.scalars(
            select(Archive)
            .join(ArchiveRecord, ArchiveRecord.archive_id == Archive.id)
            .where(ArchiveRecord.table_name == obj.__table__.name, ArchiveRecord.row_id == obj.id)
        ).all()
    for archive in archives:
        if archive.retention_until is None or archive.retention_until >= today:
            until = archive.retention_until.isoformat() if archive.retention_until else "（未定）"
            raise RetentionError(
                f"{describe(obj)}属于档案 {archive.archive_no}，保存期限至 {until}，期满前不能删除"
            )
