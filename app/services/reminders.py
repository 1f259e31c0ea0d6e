"""R7.3 alerts the home page shows: documents and stock that run out, samples
and archives whose time is up, deviations nobody has answered.

Each function is a provider for ``services.alerts`` (``(session, today) ->
Iterable[Alert]``); the windows are declared here once so the tests name
the same thresholds the user reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from app.ledgers.choices import ARCHIVE_KIND, DOCUMENT_KIND, RETENTION
from app.models import (
    Archive,
    CCPReading,
    CriticalControlPoint,
    Material,
    MaterialLot,
    Person,
    ProductBatch,
    RetainedSample,
    Supplier,
    SupplierDocument,
)

from .alerts import ALERT, DUE, NOTICE, OVERDUE, Alert

# A document is mentioned 90 days ahead, urged 30 days ahead (R7.3).
DOCUMENT_WINDOWS = (30, 60, 90)
LOT_EXPIRY_DAYS = 30          # material in stock that expires within a month
SAMPLE_DUE_DAYS = 7           # retained samples to take out of the store this week
# Retained samples have no disposal record of their own: one whose date passed
# more than a month ago is taken as disposed, so the list does not grow forever.
SAMPLE_OVERDUE_DAYS = 30
ARCHIVE_RETENTION_DAYS = 90   # the destruction list looks one quarter ahead


def _document_severity(valid_to: dt.date, today: dt.date) -> str | None:
    days = (valid_to - today).days
    if days < 0:
        return OVERDUE
    if days <= DOCUMENT_WINDOWS[0]:
        return DUE
    return NOTICE if days <= DOCUMENT_WINDOWS[-1] else None


def _document_when(valid_to: dt.date, today: dt.date) -> str:
    days = (valid_to - today).days
    if days < 0:
        return f"已于 {valid_to} 过期"
    return f"将于 {valid_to} 到期（还有 {days} 天）"


def supplier_documents(session: Session, today: dt.date) -> Iterator[Alert]:
    """Supplier licences ending within 90 days, or ended and not renewed: a
    newer document of the same kind from the same supplier answers an old one."""
    newer = aliased(SupplierDocument)
    renewed = select(newer.id).where(newer.supplier_id == SupplierDocument.supplier_id,
                                     newer.kind == SupplierDocument.kind,
                                     newer.valid_to > SupplierDocument.valid_to).exists()
    limit = today + dt.timedelta(days=DOCUMENT_WINDOWS[-1])
    rows = session.execute(
        select(SupplierDocument.id, SupplierDocument.kind, SupplierDocument.number, SupplierDocument.valid_to,
               Supplier.name)
        .join(Supplier, Supplier.id == SupplierDocument.supplier_id)
        .where(SupplierDocument.valid_to.is_not(None), SupplierDocument.valid_to <= limit, ~renewed,
               Supplier.status != "suspended")
        .order_by(SupplierDocument.valid_to))
    for doc_id, kind, number, valid_to, supplier in rows:
        yield Alert("licence_expiring",
                    f"供应商「{supplier}」的{DOCUMENT_KIND.get(kind, kind)}（{number}）{_document_when(valid_to, today)}",
                    _document_severity(valid_to, today), ALERT, valid_to, "SupplierDocument", doc_id, "purchaser")


def health_certificates(session: Session, today: dt.date) -> Iterator[Alert]:
    """Health certificates of staff still employed, ending within 90 days or ended."""
    limit = today + dt.timedelta(days=DOCUMENT_WINDOWS[-1])
    rows = session.execute(
        select(Person.id, Person.name, Person.health_cert_no, Person.health_cert_valid_to)
        .where(Person.active.is_(True), Person.health_cert_valid_to.is_not(None),
               Person.health_cert_valid_to <= limit)
        .order_by(Person.health_cert_valid_to))
    for person_id, name, number, valid_to in rows:
        yield Alert("health_certificate_expiring",
                    f"{name}的健康证{f'（{number}）' if number else ''}{_document_when(valid_to, today)}",
                    _document_severity(valid_to, today), ALERT, valid_to, "Person", person_id, "safety_manager")


def lots_near_expiry(session: Session, today: dt.date) -> Iterator[Alert]:
    """Material lots with stock left that expire within 30 days (or have expired)."""
    limit = today + dt.timedelta(days=LOT_EXPIRY_DAYS)
    rows = session.execute(
        select(MaterialLot.id, MaterialLot.lot_no, MaterialLot.expiry_date, MaterialLot.quantity_on_hand,
               MaterialLot.unit, Material.name)
        .join(Material, Material.id == MaterialLot.material_id)
        .where(MaterialLot.status == "available", MaterialLot.quantity_on_hand > 0,
               MaterialLot.expiry_date.is_not(None), MaterialLot.expiry_date <= limit)
        .order_by(MaterialLot.expiry_date))
    for lot_id, lot_no, expiry, quantity, unit, material in rows:
        expired = expiry < today
        when = f"已于 {expiry} 过期" if expired else f"将于 {expiry} 到期"
        yield Alert("lot_near_expiry", f"原料「{material}」批 {lot_no} 库存 {quantity:g}{unit}，{when}",
                    OVERDUE if expired else DUE, ALERT, expiry, "MaterialLot", lot_id, "warehouse_keeper")


def samples_for_disposal(session: Session, today: dt.date) -> Iterator[Alert]:
    """Retained samples whose keeping ends this week, or ended in the last month."""
    rows = session.execute(
        select(RetainedSample.id, RetainedSample.name, RetainedSample.disposal_date, RetainedSample.location,
               ProductBatch.batch_no)
        .join(ProductBatch, ProductBatch.id == RetainedSample.batch_id)
        .where(RetainedSample.disposal_date <= today + dt.timedelta(days=SAMPLE_DUE_DAYS),
               RetainedSample.disposal_date >= today - dt.timedelta(days=SAMPLE_OVERDUE_DAYS))
        .order_by(RetainedSample.disposal_date))
    for sample_id, name, disposal, location, batch_no in rows:
        overdue = disposal < today
        when = f"应于 {disposal} 处理，已过期" if overdue else f"应于 {disposal} 处理"
        yield Alert("sample_disposal", f"留样「{name}」（批 {batch_no}，{location}）{when}",
                    OVERDUE if overdue else DUE, ALERT, disposal, "RetainedSample", sample_id, "inspector")


def archives_retention_ending(session: Session, today: dt.date) -> Iterator[Alert]:
    """The destruction list: archives whose retention period ends within a quarter."""
    rows = session.execute(
        select(Archive.id, Archive.archive_no, Archive.kind, Archive.retention_code, Archive.retention_until)
        .where(Archive.retention_until.is_not(None),
               Archive.retention_until <= today + dt.timedelta(days=ARCHIVE_RETENTION_DAYS))
        .order_by(Archive.retention_until))
    for archive_id, number, kind, code, until in rows:
        ended = until <= today
        when = f"保管期限（{RETENTION.get(code, code)}）{'已于' if ended else '将于'} {until} 届满，列入鉴定销毁清单"
        yield Alert("archive_retention_ending", f"{ARCHIVE_KIND.get(kind, kind)} {number} {when}",
                    DUE if ended else NOTICE, ALERT, until, "Archive", archive_id, "quality_manager")


def unanswered_deviations(session: Session, today: dt.date) -> Iterator[Alert]:
    """CCP readings out of their limits with no corrective action written."""
    rows = session.execute(
        select(CCPReading.id, CCPReading.measured_at, CCPReading.value, CriticalControlPoint.name,
               CriticalControlPoint.unit, ProductBatch.batch_no)
        .join(CriticalControlPoint, CriticalControlPoint.id == CCPReading.ccp_id)
        .join(ProductBatch, ProductBatch.id == CCPReading.batch_id)
        .where(CCPReading.deviation.is_(True), or_(CCPReading.corrective_action.is_(None),
                                                    func.trim(CCPReading.corrective_action) == ""))
        .order_by(CCPReading.measured_at))
    for reading_id, at, value, point, unit, batch_no in rows:
        yield Alert("deviation_unanswered",
                    f"批 {batch_no} 的关键控制点「{point}」于 {at:%Y-%m-%d %H:%M} 偏离（{value:g}{unit}），尚无纠偏措施",
                    OVERDUE, ALERT, at.date(), "CCPReading", reading_id, "technician")

