"""Rules every flush obeys, whoever wrote the code that flushes.

- A locked record changes only through ``amend`` (R5.1): a submitted one,
  a record of a completed batch, a safety-management record once saved, the
  critical limits of a CCP (``lock_of`` says which and why), and any record
  filed in a sealed archive (封卷).
- Nothing filed in an archive is deleted before the archive's retention
  date, nor is the archive itself (R3.4, G§49). An attachment counts as
  filed wherever its record is filed, and is never deleted from a submitted
  record (R3.6): it is looked up through its record rather than listed in
  ``archive_record``, so a scan added after filing — even to a closed
  archive — is covered the moment it is saved, without touching the archive.
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
from app.errors import RecordLocked, RetentionError, UserError
from app.models import Archive, ArchiveRecord, Attachment
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
    live = getattr(obj, "live_columns", frozenset()) | LIVE_COLUMNS.get(obj.__table__.name, frozenset())
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


# The records of a product batch (G§20–33): once the batch is completed they
# are part of a finished record and change only by amendment.
BATCH_RECORDS = frozenset({
    "feeding", "ccp_reading", "process_record", "cleaning_record", "sterilisation_record",
    "intermediate_storage", "packaging_record", "additive_use", "retained_sample",
})
# Safety-management records (G§19, G§27–30) are signed paper the moment they
# are written; CCP limits are what every reading is judged by (R5.1, S§4).
LOCKED_ON_SAVE = frozenset({
    "water_monitoring", "equipment_upkeep", "workshop_cleanliness", "storage_condition_record",
    "near_expiry_handling", "environment_reading", "ccp",
})
# Columns the services keep current on a locked row (a deviation is corrected
# after the reading; the batch record is bookkeeping, not signed content).
LIVE_COLUMNS = {"ccp_reading": frozenset({"corrective_action", "corrected_at", "corrected_by"})}


def lock_of(session: Session, obj) -> str | None:
    """Why ``obj`` (as stored before this flush) changes only by amendment; None if it may be edited."""
    table = obj.__table__.name
    if isinstance(obj, Submittable):
        return "已提交锁定" if _was_locked(obj) else None
    if sa_inspect(obj).transient or sa_inspect(obj).pending:
        return None
    if table in LOCKED_ON_SAVE:
        return "保存后锁定"
    if table in BATCH_RECORDS:
        from app.models import ProductBatch

        batch_id = sa_inspect(obj).attrs.batch_id.history
        batch_id = (batch_id.deleted or batch_id.unchanged or batch_id.added or [None])[0]
        with session.no_autoflush:
            batch = session.get(ProductBatch, batch_id) if batch_id is not None else None
        if batch is not None and batch.submitted_at is not None:
            return f"所属产品批「{batch.batch_no}」已完工锁定"
    return None


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
    _refuse_changes_to_sealed(session, allowed)  # the strongest lock speaks first
    for obj in session.dirty:
        if id(obj) in allowed or not _changed_content(obj):
            continue
        why = lock_of(session, obj)
        if why:
            raise RecordLocked(f"{describe(obj)}{why}，不能直接修改；请使用“更正”并说明理由")
    for obj in session.deleted:
        _refuse_early_delete(session, obj)  # the archive's retention speaks first (G§49)
        why = lock_of(session, obj)
        if why:
            raise RecordLocked(f"{describe(obj)}{why}，不能删除")


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
    refusal = deletion_refusal(session, obj)
    if refusal is not None:
        raise refusal


def deletion_refusal(session: Session, obj) -> UserError | None:
    """Why ``obj`` may not be deleted now, or None when it may."""
    if isinstance(obj, Attachment):
        return attachment_refusal(session, obj)
    archives = [obj] if isinstance(obj, Archive) else _holding(session, obj.__table__.name, obj.id)
    archive = _kept_by(archives, _today(session))
    if archive is None:
        return None
    return RetentionError(f"{describe(obj)}属于档案 {archive.archive_no}，保存期限至 {_until(archive)}，期满前不能删除")


def attachment_refusal(session: Session, attachment: Attachment) -> UserError | None:
    """An attachment stays as long as its record must: never removed from a
    submitted record, nor before the retention of an archive holding it or
    its record ends."""
    return refusal_for(session, attachment.id, attachment.filename, attachment.ledger, attachment.record_id)


def refusal_for(
    session: Session, attachment_id: int | None, filename: str, ledger_key: str | None, record_id: int | None,
) -> UserError | None:
    """``attachment_refusal`` from plain values: a list of attachments is
    judged without loading their content."""
    name = f"附件「{filename}」"
    archives = _holding(session, "attachment", attachment_id) if attachment_id is not None else []
    owner = None
    if ledger_key and record_id is not None:
        record = _record_of(session, ledger_key, record_id)
        owner = describe(record) if record is not None else f"记录（编号 {record_id}）"
        if isinstance(record, Submittable) and record.submitted_at is not None:
            return RecordLocked(f"{name}属于已提交锁定的{owner}，不能删除；附错的文件请在附件说明中注明")
        archives += _holding(session, ledger_key, record_id)
    archive = _kept_by(archives, _today(session))
    if archive is None:
        return None
    where = f"所属的{owner}已归入" if owner else "属于"
    return RetentionError(f"{name}{where}档案 {archive.archive_no}，保存期限至 {_until(archive)}，期满前不能删除")


def _record_of(session: Session, ledger_key: str, record_id: int):
    from app.ledgers import registry

    declaration = registry().get(ledger_key)
    return session.get(declaration.model, record_id) if declaration is not None else None


def _holding(session: Session, table_name: str, row_id: int) -> list[Archive]:
    return list(session.scalars(
        select(Archive)
        .join(ArchiveRecord, ArchiveRecord.archive_id == Archive.id)
        .where(ArchiveRecord.table_name == table_name, ArchiveRecord.row_id == row_id)
    ))


def _kept_by(archives: list[Archive], today: dt.date) -> Archive | None:
    """The first archive whose retention has not ended (None: permanent)."""
    return next((a for a in archives if a.retention_until is None or a.retention_until >= today), None)


def _until(archive: Archive) -> str:
    return archive.retention_until.isoformat() if archive.retention_until else "（永久）"
