"""R3: file every record in its archive, number archives, keep retention dates.

An archive's catalogue is derived from the records that belong to it; the
services call ``file_*`` whenever a batch's records change, and the
catalogue is brought up to date in place (only real changes reach the audit
log).

Filing the row just written costs the same in a batch of 3,000 readings as
in an empty one: a flush listener remembers the rows a session inserts, and
when every new row of the archive's batch is one of ``APPENDED`` whose
material the catalogue already has, those rows are appended to it (their
archive records added, the entry's ids, date, pages and people brought
forward) without reading the batch's other rows. Anything else — the first
row of a ledger, an inspection, a batch that is no longer open, a call with
no new row — rebuilds the catalogue from ``_product_materials`` as before, so
a completed batch's archive is always the full derivation.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.ledgers import ledger
from app.models import (
    Archive,
    ArchiveRecord,
    CatalogueEntry,
    CommodityBatch,
    Enterprise,
    Person,
    ProductBatch,
    ReadingImport,
)

from . import settings
from .common import now, today

KIND_CODES = {"product": "CP", "commodity": "SP", "warning": "JS", "safety": "AQ"}
KIND_TITLES = {"product": "产品质量技术档案", "commodity": "商品质量技术档案", "warning": "食品安全警示档案", "safety": "安全管理档案"}
RETENTION_YEARS = {"D10": 10, "D30": 30, "Y": None}
ROWS_PER_PAGE = 20


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def legal_minimum(production_date: dt.date, expiry_date: dt.date | None) -> dt.date:
    """G§49: six months after the shelf life ends, or two years without one."""
    if expiry_date is not None:
        return add_months(expiry_date, 6)
    return add_months(production_date, 24)


def retention_until(code: str, filed_on: dt.date, production_date: dt.date, expiry_date: dt.date | None) -> dt.date | None:
    """The later of the legal minimum and the end of the 保管期限; None = permanent."""
    years = RETENTION_YEARS[code]
    if years is None:
        return None
    return max(legal_minimum(production_date, expiry_date), add_months(filed_on, 12 * years))


def next_archive_no(session: Session, kind: str, year: int, code: str) -> str:
    from .common import starts_with

    enterprise = session.scalar(select(Enterprise).limit(1))
    pattern = settings.get(session, "archive_no_pattern")
    values = {"全宗号": enterprise.fonds_code if enterprise else "0001", "年度": year, "保管期限": code, "类别": KIND_CODES[kind]}
    prefix = pattern.split("{案卷号")[0].format_map(values)
    used = session.scalar(select(func.count()).select_from(Archive).where(starts_with(Archive.archive_no, prefix))) or 0
    while True:
        used += 1
        candidate = pattern.format_map(values | {"案卷号": used})
        if session.scalar(select(Archive.id).where(Archive.archive_no == candidate)) is None:
            return candidate


def _open_archive(session: Session, kind: str, title: str, production_date: dt.date, expiry: dt.date | None, **links) -> Archive:
    code = settings.get(session, "retention_codes")[kind]
    filed_on = today(session)
    archive = Archive(
        created_at=now(session),  # the filing date the retention date counts from
        archive_no=next_archive_no(session, kind, production_date.year, code),
        kind=kind,
        title=title,
        retention_code=code,
        retention_until=retention_until(code, filed_on, production_date, expiry),
        **links,
    )
    session.add(archive)
    session.flush()
    return archive


# --------------------------------------------------------------- materials


@dataclass(frozen=True)
class Material:
    """One material of a volume: the rows of one ledger (or one document)."""

    ledger: str
    rows: Sequence
    title: str
    doc_no: str | None = None
    pages: int | None = None


def _rows(session: Session, ledger_key: str, column: str, value) -> list:
    model = ledger(ledger_key).model
    return list(session.scalars(select(model).where(getattr(model, column) == value).order_by(model.id)))


def _product_materials(session: Session, batch: ProductBatch) -> list[Material]:
    from app.models import Inspection

    materials = [Material("product_batch", [batch], f"{batch.product.name}产品批生产记录（批号 {batch.batch_no}）")]
    for key, column in (
        ("stock_movement", "batch_id"),
        ("feeding", "batch_id"),
        ("additive_use", "batch_id"),
        ("ccp_reading", "batch_id"),
        ("process_record", "batch_id"),
        ("cleaning_record", "batch_id"),
        ("sterilisation_record", "batch_id"),
        ("intermediate_storage", "batch_id"),
        ("packaging_record", "batch_id"),
    ):
        rows = _rows(session, key, column, batch.id)
        if rows:
            title = "原辅料发放报表" if key == "stock_movement" else ledger(key).title
            materials.append(Material(key, rows, title))
        if key == "stock_movement":
            materials += _receipt_materials(session, batch)
    for inspection in session.scalars(
        select(Inspection).where(Inspection.batch_id == batch.id, Inspection.commodity_batch_id.is_(None)).order_by(Inspection.sampled_at)
    ):
        materials.append(_inspection_material(inspection))
    rows = _rows(session, "retained_sample", "batch_id", batch.id)
    if rows:
        materials.append(Material("retained_sample", rows, ledger("retained_sample").title))
    return materials


def lots_used(session: Session, batch_id: int) -> list[int]:
    """Ids of every material lot a batch used: issued, fed (additives too) or
    packed (G§17, G§22, G§26, G§33)."""
    from app.models import AdditiveUse, Feeding, PackagingRecord, StockMovement

    ids: set[int] = set()
    for column, condition in (
        (StockMovement.lot_id, StockMovement.batch_id == batch_id),
        (Feeding.material_lot_id, Feeding.batch_id == batch_id),
        (AdditiveUse.material_lot_id, AdditiveUse.batch_id == batch_id),
        (PackagingRecord.material_lot_id, PackagingRecord.batch_id == batch_id),
    ):
        ids |= {i for i in session.scalars(select(column).where(condition)) if i is not None}
    return sorted(ids)


def _receipt_materials(session: Session, batch: ProductBatch) -> list[Material]:
    """The incoming inspections (进货查验记录, with the certificates recorded on
    them and their scans) of every lot the batch used, and the factory's own
    inspection reports of those lots (G§35: they are the lot's certificate).

    Filed, not cited: the guideline lists 进货查验 among the contents of the
    quality technical archive (G§14–18; only G§19's storage records go to
    the safety archive), a certificate belongs to one lot of material
    (G§16(7)), and the inspector reading one product volume must reach the
    supplier's lot without a second volume. A bulk lot used by many batches is
    the same row filed in each of their archives, never a copy; the
    supplier's licences stay in the qualified-supplier database (G§17: shared
    by link) and semi-finished batches fed in are cited by 互见号 (G§46).
    """
    from app.models import IncomingInspection, Inspection, MaterialLot

    lot_ids = lots_used(session, batch.id)
    if not lot_ids:
        return []
    receipts = list(session.scalars(
        select(IncomingInspection).join(MaterialLot, MaterialLot.receipt_id == IncomingInspection.id)
        .where(MaterialLot.id.in_(lot_ids)).distinct()
        .order_by(IncomingInspection.receipt_date, IncomingInspection.id)
    ))
    materials = [Material("incoming_inspection", receipts, f"原辅料进货查验记录（{len(lot_ids)} 个物料批次）")]
    reports = session.scalars(
        select(Inspection).where(Inspection.receipt_id.in_([r.id for r in receipts])).order_by(Inspection.sampled_at)
    )
    materials += [_inspection_material(report) for report in reports]
    return materials


def _inspection_material(inspection) -> Material:
    from app.ledgers.choices import INSPECTION_KIND as INSPECTION_KINDS

    kind = INSPECTION_KINDS.get(inspection.kind, inspection.kind)
    pages = 1 + max(0, math.ceil((len(inspection.items) - 15) / 25))
    return Material("inspection", [inspection], f"{kind}报告", inspection.report_no, pages)


def _responsible(session: Session, rows: Sequence) -> str:
    """责任者: the people named on the rows, else the enterprise."""
    people_fields = {
        f.name for key in {r.__table__.name for r in rows} for f in ledger(key).fields
        if f.lookup is not None and f.lookup.ledger == "person"
    }
    ids: list[int] = []
    for row in rows:
        for name in sorted(people_fields):
            value = getattr(row, name, None)
            if value is not None and value not in ids:
                ids.append(value)
    names = [session.get(Person, pid).name for pid in ids[:3]]
    if names:
        return "、".join(names) + ("等" if len(ids) > 3 else "")
    enterprise = session.scalar(select(Enterprise).limit(1))
    return enterprise.name if enterprise else ""


def _row_date(row) -> dt.date | None:
    declaration = ledger(row.__table__.name)
    value = getattr(row, declaration.date_field) if declaration.date_field else None
    return value.date() if isinstance(value, dt.datetime) else value


def _sync(session: Session, archive: Archive, materials: list[Material]) -> None:
    wanted_records = {(row.__table__.name, row.id) for m in materials for row in m.rows}
    have = {(r.table_name, r.row_id): r for r in session.scalars(select(ArchiveRecord).where(ArchiveRecord.archive_id == archive.id))}
    if archive.status == "sealed" and wanted_records - have.keys():
        _refuse_new_material(archive, materials, wanted_records - have.keys())
    for key in sorted(wanted_records - have.keys()):
        session.add(ArchiveRecord(archive_id=archive.id, table_name=key[0], row_id=key[1]))
    entries = {e.seq: e for e in session.scalars(select(CatalogueEntry).where(CatalogueEntry.archive_id == archive.id))}
    for seq, material in enumerate(materials, start=1):
        dates = [d for d in (_row_date(r) for r in material.rows) if d is not None]
        values = dict(
            ledger=material.ledger,
            record_ids=",".join(str(r.id) for r in material.rows),
            doc_no=material.doc_no,
            title=material.title,
            responsible=_responsible(session, material.rows),
            date=min(dates) if dates else None,
            pages=material.pages or max(1, math.ceil(len(material.rows) / ROWS_PER_PAGE)),
        )
        entry = entries.pop(seq, None)
        if entry is None:
            session.add(CatalogueEntry(archive_id=archive.id, seq=seq, **values))
        else:
            for name, value in values.items():
                if getattr(entry, name) != value:
                    setattr(entry, name, value)
    for surplus in entries.values():
        session.delete(surplus)
    session.flush()


class ArchiveSealed(UserError):
    """A write would add material to a sealed archive."""


def _refuse_new_material(archive: Archive, materials: list[Material], new: set) -> None:
    """A sealed volume takes no new material: after sealing a change is only
    an amendment of what it holds (GB/T 9705, R5.1)."""
    from .guards import describe

    row = next(r for m in materials for r in m.rows if (r.__table__.name, r.id) in new)
    sealed = f"于 {archive.closed_at:%Y-%m-%d} " if archive.closed_at else ""
    raise ArchiveSealed(
        f"档案 {archive.archive_no} 已{sealed}封卷，不能再收录{describe(row)}；封卷后只能更正卷内已有的记录"
    )


# --------------------------------------------------------------- appending

# Ledgers whose new row changes nothing in a volume but its own material, at
# its end (rows of a batch or of a commodity batch, filed in id order). A ledger
# whose row adds or changes another material must not be here.
APPENDED = frozenset({
    "stock_movement", "feeding", "additive_use", "ccp_reading", "process_record", "cleaning_record",
    "sterilisation_record", "intermediate_storage", "packaging_record", "retained_sample",
    "finished_goods_movement", "delivery",
})
PENDING = "archives.inserted"  # session.info: rows inserted and not filed yet


@event.listens_for(Session, "after_flush")
def _remember_inserts(session: Session, _flush_context) -> None:
    if DEFERRED in session.info:
        return  # everything is filed in full when the deferral ends
    rows = [obj for obj in session.new if hasattr(obj, "batch_id") or hasattr(obj, "commodity_batch_id")]
    if rows:
        session.info.setdefault(PENDING, []).extend(rows)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_inserts(session: Session, *_args) -> None:
    session.info.pop(PENDING, None)


def _take_inserted(session: Session, column: str, owner_id: int) -> list:
    """The rows inserted since the last filing that belong to ``owner_id`` by ``column``."""
    pending = session.info.get(PENDING) or []
    mine = [row for row in pending if getattr(row, column, None) == owner_id]
    if mine:
        session.info[PENDING] = [row for row in pending if getattr(row, column, None) != owner_id]
    return mine


def _appended(session: Session, archive: Archive, rows: list) -> bool:
    """File ``rows`` at the end of their materials; False (nothing done) when they
    cannot all be: then the caller rebuilds the catalogue."""
    if not rows or any(row.__table__.name not in APPENDED for row in rows):
        return False
    if archive.status == "sealed" or _brings_new_lots(session, archive, rows):
        return False  # the full filing refuses a sealed volume, or files the new lots' receipts
    by_ledger: dict[str, list] = {}
    for row in sorted(rows, key=lambda r: r.id):
        by_ledger.setdefault(row.__table__.name, []).append(row)
    entries = {e.ledger: e for e in session.scalars(select(CatalogueEntry).where(
        CatalogueEntry.archive_id == archive.id, CatalogueEntry.ledger.in_(sorted(by_ledger)),
        CatalogueEntry.doc_no.is_(None)))}
    if entries.keys() != by_ledger.keys():
        return False  # the first row of a ledger makes a new material: its place comes from the list
    # Everything read first, then written: one flush (one round of audit entries) for all.
    responsible = {key: _responsible_after(session, entries[key].responsible, rows) for key, rows in by_ledger.items()}
    for ledger_key, new_rows in by_ledger.items():
        entry = entries[ledger_key]
        for row in new_rows:
            session.add(ArchiveRecord(archive_id=archive.id, table_name=ledger_key, row_id=row.id))
        entry.record_ids = ",".join(filter(None, (entry.record_ids, *(str(row.id) for row in new_rows))))
        dates = [d for d in (_row_date(r) for r in new_rows) if d is not None]
        if dates and (entry.date is None or min(dates) < entry.date):
            entry.date = min(dates)
        pages = max(1, math.ceil((entry.record_ids.count(",") + 1) / ROWS_PER_PAGE))
        if pages != entry.pages:
            entry.pages = pages
        if responsible[ledger_key] != entry.responsible:
            entry.responsible = responsible[ledger_key]
    session.flush()
    return True


# Rows that name a material lot: a lot the volume does not hold yet brings its
# incoming inspection into the product archive (_receipt_materials).
LOT_COLUMNS = {"stock_movement": "lot_id", "feeding": "material_lot_id", "additive_use": "material_lot_id",
               "packaging_record": "material_lot_id"}


def _brings_new_lots(session: Session, archive: Archive, rows: list) -> bool:
    from app.models import MaterialLot

    lot_ids = {getattr(row, LOT_COLUMNS[row.__table__.name]) for row in rows if row.__table__.name in LOT_COLUMNS}
    lot_ids.discard(None)
    if not lot_ids or archive.kind != "product":
        return False
    receipts = set(session.scalars(select(MaterialLot.receipt_id).where(MaterialLot.id.in_(sorted(lot_ids)))))
    filed = set(session.scalars(select(ArchiveRecord.row_id).where(
        ArchiveRecord.archive_id == archive.id, ArchiveRecord.table_name == "incoming_inspection",
        ArchiveRecord.row_id.in_(sorted(receipts)))))
    return bool(receipts - filed)


def _responsible_after(session: Session, shown: str, rows: Sequence) -> str:
    """``_responsible`` of a material's rows with ``rows`` appended, from what it
    showed before: the first three people in filing order, then 等 (people are
    told apart by their names here)."""
    if shown.endswith("等"):
        return shown
    added = _responsible(session, rows)
    if added == shown:
        return shown
    enterprise = session.scalar(select(Enterprise.name).limit(1)) or ""
    names = [] if shown == enterprise else shown.split("、")
    for name in ([] if added == enterprise else added.removesuffix("等").split("、")):
        if name not in names:
            names.append(name)
    if not names:
        return enterprise
    return "、".join(names[:3]) + ("等" if len(names) > 3 or added.endswith("等") and len(names) >= 3 else "")


# ------------------------------------------------------------------- deferral

DEFERRED = "archives.deferred"  # session.info: (kind, batch id) -> archive to bring up to date at the end
FILING_ORDER = {"product": 0, "commodity": 1, "warning": 2}


@contextmanager
def filed_at_the_end(session: Session) -> Iterator[None]:
    """A bulk load (the demo factory replaying twelve weeks): inside the block
    each ``file_*`` call opens its archive when it is new — numbers are given
    in the same order — and remembers it; when the block ends, every archive
    remembered is filed once, in full (the derivation a completed batch always
    gets), instead of after every record. Nothing inside may seal an archive
    or read a catalogue."""
    if DEFERRED in session.info:
        yield
        return
    session.info[DEFERRED] = {}
    try:
        yield
        wanted = session.info[DEFERRED]
    finally:
        session.info.pop(DEFERRED, None)
    session.info.pop(PENDING, None)
    filing = {"product": (ProductBatch, file_product_batch), "commodity": (CommodityBatch, file_commodity_batch),
              "warning": (ProductBatch, file_warning)}
    for kind, row_id in sorted(wanted, key=lambda key: (FILING_ORDER[key[0]], key[1])):
        model, file = filing[kind]
        file(session, session.get(model, row_id))


def _deferred(session: Session, kind: str, row_id: int, archive: Archive) -> bool:
    """Inside ``filed_at_the_end``: remember the archive to file; True."""
    wanted = session.info.get(DEFERRED)
    if wanted is None:
        return False
    wanted[(kind, row_id)] = archive  # held here: the session's identity map holds it only weakly
    return True


def _remembered(session: Session, kind: str, row_id: int) -> Archive | None:
    """Inside ``filed_at_the_end``, the archive already opened for this batch (no query)."""
    return (session.info.get(DEFERRED) or {}).get((kind, row_id))


# ------------------------------------------------------------------- filing


def product_archive(session: Session, batch: ProductBatch) -> Archive | None:
    remembered = _remembered(session, "product", batch.id)
    if remembered is not None:
        return remembered
    return session.scalar(select(Archive).where(Archive.kind == "product", Archive.product_batch_id == batch.id))


def commodity_archive(session: Session, commodity: CommodityBatch) -> Archive | None:
    remembered = _remembered(session, "commodity", commodity.id)
    if remembered is not None:
        return remembered
    return session.scalar(select(Archive).where(Archive.kind == "commodity", Archive.commodity_batch_id == commodity.id))


def file_product_batch(session: Session, batch: ProductBatch) -> Archive:
    """R3.1: one product archive per product batch, kept up to date."""
    archive = product_archive(session, batch)
    inserted = _take_inserted(session, "batch_id", batch.id)
    if archive is None:
        title = f"{batch.product.name} 批号{batch.batch_no} {KIND_TITLES['product']}"
        archive = _open_archive(session, "product", title, batch.production_date, batch.expiry_date, product_batch_id=batch.id)
    else:
        if batch.expiry_date is not None:
            _keep_retention(session, archive, batch.production_date, batch.expiry_date)
        if batch.status == "open" and _appended(session, archive, inserted):
            return archive
    if _deferred(session, "product", batch.id, archive):
        return archive
    _sync(session, archive, _product_materials(session, batch))
    return archive


def _keep_retention(session: Session, archive: Archive, production: dt.date, expiry: dt.date | None) -> None:
    """A retention date only ever moves later (the expiry may be set after filing)."""
    if archive.retention_until is None:
        return
    wanted = retention_until(archive.retention_code, archive.created_at.date(), production, expiry)
    if wanted is not None and wanted > archive.retention_until:
        archive.retention_until = wanted


def file_commodity_batch(session: Session, commodity: CommodityBatch) -> Archive:
    """R3.2: the commodity archive, citing its product archive through an index."""
    from app.models import Delivery, FinishedGoodsMovement, Inspection

    # The product archive is kept current by every product-side write; nothing
    # filed here belongs to it, so only find it (file it if it is missing).
    archive = commodity_archive(session, commodity)
    inserted = _take_inserted(session, "commodity_batch_id", commodity.id)
    if archive is not None and _appended(session, archive, inserted):
        return archive
    cited = product_archive(session, commodity.product_batch) or file_product_batch(session, commodity.product_batch)
    if archive is None:
        product = commodity.product_batch.product
        title = f"{product.name} {commodity.spec.spec} 批次{commodity.lot_code} {KIND_TITLES['commodity']}"
        archive = _open_archive(
            session, "commodity", title, commodity.production_date, commodity.expiry_date,
            commodity_batch_id=commodity.id, product_batch_id=commodity.product_batch_id, cites_archive_id=cited.id,
        )
    if _deferred(session, "commodity", commodity.id, archive):
        return archive
    materials = [Material("commodity_batch", [commodity], f"商品批次包装记录（{commodity.lot_code}）")]
    for inspection in session.scalars(select(Inspection).where(Inspection.commodity_batch_id == commodity.id).order_by(Inspection.sampled_at)):
        materials.append(_inspection_material(inspection))
    for model, key in ((FinishedGoodsMovement, "finished_goods_movement"), (Delivery, "delivery")):
        rows = list(session.scalars(select(model).where(model.commodity_batch_id == commodity.id).order_by(model.id)))
        if rows:
            materials.append(Material(key, rows, ledger(key).title))
    _sync(session, archive, materials)
    return archive


def file_warning(session: Session, batch: ProductBatch) -> Archive:
    """R3.3: one warning archive per non-conforming or recalled batch."""
    from app.models import Destruction, Inspection, RecallCustomer, RecallProgress, RecallScope

    archive = session.scalar(select(Archive).where(Archive.kind == "warning", Archive.product_batch_id == batch.id))
    if archive is None:
        title = f"{batch.product.name} 批号{batch.batch_no} {KIND_TITLES['warning']}"
        archive = _open_archive(
            session, "warning", title, batch.production_date, batch.expiry_date,
            product_batch_id=batch.id,
            # Only found (filed if missing): a sealed product archive takes no new material.
            cites_archive_id=(product_archive(session, batch) or file_product_batch(session, batch)).id,
        )
    if _deferred(session, "warning", batch.id, archive):
        return archive
    materials: list[Material] = []
    for inspection in session.scalars(
        select(Inspection).where(Inspection.batch_id == batch.id, Inspection.conclusion == "fail").order_by(Inspection.sampled_at)
    ):
        materials.append(_inspection_material(inspection))
    recalls = recalls_of(session, batch.id)
    if recalls:
        ids = [r.id for r in recalls]
        materials.append(Material("recall", recalls, ledger("recall").title))
        for model in (RecallScope, RecallCustomer, RecallProgress):
            rows = list(session.scalars(select(model).where(model.recall_id.in_(ids)).order_by(model.id)))
            if rows:
                key = model.__tablename__
                materials.append(Material(key, rows, ledger(key).title))
    destructions = list(session.scalars(select(Destruction).where(Destruction.product_batch_id == batch.id).order_by(Destruction.id)))
    if destructions:
        materials.append(Material("destruction", destructions, ledger("destruction").title))
    _sync(session, archive, materials)
    return archive


def recalls_of(session: Session, batch_id: int) -> list:
    """The recalls of a batch: started from it, or with its goods in their scope."""
    from app.models import Recall, RecallScope

    in_scope = select(RecallScope.recall_id).where(RecallScope.product_batch_id == batch_id,
                                                   RecallScope.commodity_batch_id.is_not(None))
    return list(session.scalars(select(Recall).where(
        (Recall.product_batch_id == batch_id) | Recall.id.in_(in_scope)).order_by(Recall.id)))


SAFETY_LEDGERS = (
    "water_monitoring",
    "equipment_upkeep",
    "workshop_cleanliness",
    "storage_condition_record",
    "near_expiry_handling",
    "environment_reading",
    # R7.4: the internal audit of the traceability system (services.internal_audit).
    "internal_audit",
    "incident",
    "corrective_action",
    "reading_import",
)


def file_safety_month(session: Session, year: int, month: int) -> Archive:
    """R3.8: the safety-management records of one month, as one archive."""
    period = f"{year:04d}-{month:02d}"
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    archive = session.scalar(select(Archive).where(Archive.kind == "safety", Archive.period == period))
    if archive is None:
        archive = _open_archive(session, "safety", f"{year}年{month}月 {KIND_TITLES['safety']}", last, None, period=period)
    materials = []
    for key in SAFETY_LEDGERS:
        declaration = ledger(key)
        model, column = declaration.model, getattr(declaration.model, declaration.date_field)
        upper = last + dt.timedelta(days=1)
        query = select(model).where(column >= first, column < upper)
        if key == "environment_reading":
            # A device file's readings are filed as their import (the kept
            # file and its record), not one by one: a logger writes 40,000 a month.
            query = query.where(model.source_file_id.is_(None)
                                | model.source_file_id.not_in(select(ReadingImport.attachment_id)))
        rows = list(session.scalars(query.order_by(column, model.id)))
        if rows:
            materials.append(Material(key, rows, f"{declaration.title}（{period}）"))
    materials += _water_inspections(session, first, last + dt.timedelta(days=1))
    _sync(session, archive, materials)
    return archive


# ------------------------------------------------------------------ periods


def between(session: Session, first: dt.date, last: dt.date) -> list[tuple[int, str]]:
    """(id, 档号) of the archives whose batch was made, or whose month lies,
    between ``first`` and ``last`` (inclusive), in 档号 order: what printing
    and sealing a period take."""
    from sqlalchemy import or_

    if last < first:
        raise UserError(f"结束日期 {last} 早于开始日期 {first}")
    batches = select(ProductBatch.id).where(ProductBatch.production_date.between(first, last))
    lots = select(CommodityBatch.id).where(CommodityBatch.production_date.between(first, last))
    months = [f"{y:04d}-{m:02d}" for y, m in _months(first, last)]
    rows = session.execute(
        select(Archive.id, Archive.archive_no).where(or_(
            Archive.kind.in_(("product", "warning")) & Archive.product_batch_id.in_(batches),
            (Archive.kind == "commodity") & Archive.commodity_batch_id.in_(lots),
            (Archive.kind == "safety") & Archive.period.in_(months),
        )).order_by(Archive.archive_no)
    ).all()
    return [(row.id, row.archive_no) for row in rows]


def _months(first: dt.date, last: dt.date):
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def month_span(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a month written YYYY-MM."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        raise UserError(f"月份「{text}」应写成 YYYY-MM，如 2026-10") from None


def _water_inspections(session: Session, first: dt.date, upper: dt.date) -> list[Material]:
    """G§27, G§37: laboratory tests of production water belong to the safety
    archive of their month, unless one names a batch (special foods)."""
    from app.models import Inspection

    return [_inspection_material(inspection) for inspection in session.scalars(
        select(Inspection).where(Inspection.kind == "water", Inspection.batch_id.is_(None),
                                 Inspection.sampled_at >= first, Inspection.sampled_at < upper)
        .order_by(Inspection.sampled_at, Inspection.id)
    )]
