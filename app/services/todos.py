"""To-dos on the home page: records waiting for a signature, batches held
and why, archives ready to seal. Providers for ``services.alerts``.

A to-do names the post that is to act (``Alert.role``); a record a post of
several may sign is listed once per post, the home page keeps one line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.ledgers import registry
from app.ledgers.choices import ARCHIVE_KIND
from app.models import Archive, ArchiveRecord, ProductBatch, Signature

from . import holds, sealing, signatures, users
from .alerts import DUE, NOTICE, OVERDUE, TODO, Alert

SIGN_DAYS = 30        # records of the last month still missing a signature
GROUP_FROM = 6        # more rows than this of one ledger make one line that opens the ledger


def _posts_signing(meaning: str, ledger_key: str) -> list[str]:
    """Who may give ``meaning``; the author's own signature (操作, 编制) only
    by a post that enters that ledger — a purchaser signs no production record."""
    authored = meaning in signatures.REVIEW_OF["复核"]
    return [role for role in users.ROLES if users.may_sign((role,), meaning)
            and (not authored or users.may((role,), "enter", ledger_key))]


def _waiting(session: Session, declaration, since: dt.date) -> dict[str, tuple[int, list]]:
    """Rows of one ledger dated since ``since`` by the first meaning they still
    lack (signatures are given in their declared order): how many, and — when
    fewer than GROUP_FROM — their id, date and number. Counted in SQL: a month
    of a big ledger is thousands of rows."""
    model = declaration.model
    date_column = getattr(model, declaration.date_field)
    start = dt.datetime.combine(since, dt.time()) if date_column.type.python_type is dt.datetime else since
    shown = [model.id, date_column]
    if declaration.number_field:
        shown.append(getattr(model, declaration.number_field))

    def signed(meaning: str):
        return select(Signature.id).where(Signature.table_name == model.__table__.name, Signature.row_id == model.id,
                                          Signature.meaning == meaning).exists()

    waiting: dict[str, tuple[int, list]] = {}
    earlier: list = []
    for meaning in declaration.signatures:
        conditions = [date_column >= start, *earlier, ~signed(meaning)]
        count = session.scalar(select(func.count()).select_from(model).where(*conditions))
        if count:
            rows = [] if count >= GROUP_FROM else session.execute(
                select(*shown).where(*conditions).order_by(date_column, model.id)).all()
            waiting[meaning] = (count, rows)
        earlier.append(signed(meaning))
    return waiting


def awaiting_signature(session: Session, today: dt.date) -> Iterator[Alert]:
    """Records of the last month whose next signature is missing, for the posts that may give it."""
    since = today - dt.timedelta(days=SIGN_DAYS)
    for declaration in registry().values():
        if not declaration.signatures or not declaration.date_field:
            continue
        for meaning, (count, rows) in _waiting(session, declaration, since).items():
            lines = []
            if count >= GROUP_FROM:
                lines.append((f"{declaration.title}：{count} 条近 {SIGN_DAYS} 天的记录待「{meaning}」签名",
                              None, None))
            else:
                for row in rows:
                    day = getattr(row, declaration.date_field)
                    day = day.date() if isinstance(day, dt.datetime) else day
                    lines.append((f"{sealing.record_name(declaration, row)}待「{meaning}」签名", day, row.id))
            for title, day, row_id in lines:
                for post in _posts_signing(meaning, declaration.key):
                    yield Alert("awaiting_signature", title, DUE, TODO, day, declaration.model.__name__, row_id, post)


def held_batches(session: Session, today: dt.date) -> Iterator[Alert]:
    """Batches held as nonconforming, with the reason and where their disposal is filed."""
    for batch in session.scalars(select(ProductBatch).where(ProductBatch.status == holds.HELD)
                                 .order_by(ProductBatch.production_date)):
        yield Alert("batch_held", holds.hold_reason(session, batch), OVERDUE, TODO, batch.production_date,
                    "ProductBatch", batch.id, "quality_manager")


def archives_ready(session: Session, today: dt.date) -> Iterator[Alert]:
    """Open archives with nothing left on their checklist: they can be sealed.

    The full checklist reads every filed record; an archive holding a record
    that needs signatures and has none at all is passed over without it."""
    signed_tables = [d.model.__table__.name for d in registry().values() if d.signatures]
    unsigned = (select(ArchiveRecord.archive_id)
                .where(ArchiveRecord.table_name.in_(signed_tables),
                       ~select(Signature.id).where(Signature.table_name == ArchiveRecord.table_name,
                                                   Signature.row_id == ArchiveRecord.row_id).exists()))
    ready: dict[str, list[Archive]] = {}
    for archive in session.scalars(select(Archive).where(Archive.status != "sealed", Archive.id.not_in(unsigned))
                                   .order_by(Archive.archive_no)):
        if not sealing.checklist(session, archive):
            ready.setdefault(archive.kind, []).append(archive)
    lines = []
    for kind, archives in ready.items():
        name = ARCHIVE_KIND.get(kind, kind)
        if len(archives) >= GROUP_FROM:  # one line that opens the archive browser, as for signatures
            lines.append((f"{name}：{len(archives)} 份材料齐全，可以封卷", None))
        else:
            lines += [(f"{name} {a.archive_no} 材料齐全，可以封卷", a.id) for a in archives]
    for title, archive_id in lines:
        for post in [role for role, allowed in users.PERMISSIONS.items() if "seal" in allowed]:
            yield Alert("archive_ready", title, NOTICE, TODO, None, "Archive", archive_id, post)
