"""Rules every flush obeys, whoever wrote the code that flushes.

- A submitted (locked) record changes only through ``amend`` (R5.1).
- Nothing filed in an archive is deleted before the archive's retention
  date, nor is the archive itself (R3.4, G§49).
- A session that names nobody (``services.acting``) changes nothing that is
  audited: the log must say who did it (R5.1, R5.4).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select
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


def _changed_content(obj: Submittable) -> list[str]:
    state = sa_inspect(obj)
    return [
        attr.key
        for attr in state.mapper.column_attrs
        if attr.key not in obj.live_columns and state.attrs[attr.key].history.has_changes()
    ]


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
    for obj in session.deleted:
        if isinstance(obj, Submittable) and obj.submitted_at is not None:
            raise RecordLocked(f"{describe(obj)}已提交锁定，不能删除")
        _refuse_early_delete(session, obj)


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
