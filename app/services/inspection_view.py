"""What the inspection entry window shows, read into plain frozen data: what
can be sampled for each kind, the sampling slip's facts about the chosen
subject with the test items its standard prescribes, and what a saved report
did (its verdict, the hold on its batch, the warning archive)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.i18n import tr
from app.ledgers import ledger
from app.ledgers.choices import BATCH_STATUS, INSPECTION_KIND, MATERIAL_LOT_STATUS, PRODUCT_KIND, RECEIPT_DECISION, VERDICT
from app.models import (
    Archive, CommodityBatch, IncomingInspection, Inspection, Material, MaterialLot, Product, ProductBatch, User,
)

from . import holds, label_rules, limits
from .batch_view import PersonRow, people, sample_rows
from .common import now
from .quality import StandardItem, limit_of, standards_for

RECENT = 150  # receipts and batches offered besides the open ones
BATCH_KINDS = ("in_process", "semi_finished", "finished")


@dataclass(frozen=True)
class BatchChoice:
    id: int
    text: str
    status: str
    product_kind: str

    def fits(self, kind: str) -> bool:
        """Whether this batch is one a ``kind`` inspection is made of (G§36–39)."""
        if kind == "in_process":
            return self.status == "open"
        if kind == "semi_finished":
            return self.status != "open" and self.product_kind != "finished"
        return self.status != "open" and self.product_kind == "finished"


@dataclass(frozen=True)
class EntryData:
    people: tuple[PersonRow, ...]
    me: int | None  # the staff member the logged-in user is
    receipts: tuple[tuple[int, str], ...]
    batches: tuple[BatchChoice, ...]
    commodities: tuple[tuple[int, str], ...]
    waters: tuple[tuple[int, str], ...]
    now: dt.datetime


@dataclass(frozen=True)
class Subject:
    """The sampling slip's facts about what is sampled, and what to test it for."""

    kind: str
    key: int | None
    facts: tuple[tuple[str, str], ...]
    specs: tuple[str, ...]
    spec: str | None
    standards: tuple[StandardItem, ...]
    batch_id: int | None
    sample: dict | None  # defaults of a retained sample; None when none is kept for this kind
    samples: tuple[str, ...]  # retained samples already kept
    earlier: tuple[str, ...]  # earlier reports of this subject
    hold: str | None
    label: label_rules.LabelRules | None


@dataclass(frozen=True)
class Outcome:
    id: int
    report_no: str
    kind: str
    passed: bool
    failed: tuple[str, ...]  # each failing item with its limit
    hold: str | None  # the batch is held: why
    warning_archive_id: int | None
    batch_no: str | None
    lot_stopped: str | None  # the material lot a failed incoming inspection stopped


# ------------------------------------------------------------------ entry


def entry_data(session: Session, user_id: int | None, *, batch_id: int | None = None,
               commodity_id: int | None = None, receipt_id: int | None = None) -> EntryData:
    """The lists of the window; the subject it was opened for is always among them."""
    me = session.scalar(select(User.person_id).where(User.id == user_id)) if user_id is not None else None
    receipts = session.execute(
        select(IncomingInspection.id, IncomingInspection.receipt_no, Material.name, IncomingInspection.supplier_lot,
               IncomingInspection.receipt_date)
        .join(Material, Material.id == IncomingInspection.material_id)
        .where(or_(IncomingInspection.id.in_(select(IncomingInspection.id).order_by(IncomingInspection.id.desc())
                                             .limit(RECENT).scalar_subquery()),
                   IncomingInspection.id == receipt_id))
        .order_by(IncomingInspection.receipt_date.desc(), IncomingInspection.id.desc())
    ).all()
    recent = select(ProductBatch.id).order_by(ProductBatch.id.desc()).limit(RECENT).scalar_subquery()
    batches = session.execute(
        select(ProductBatch.id, ProductBatch.batch_no, ProductBatch.status, Product.name, Product.kind)
        .join(Product, Product.id == ProductBatch.product_id)
        .where(or_(ProductBatch.status == "open", ProductBatch.id.in_(recent), ProductBatch.id == batch_id))
        .order_by(ProductBatch.production_date.desc(), ProductBatch.id.desc())
    ).all()
    commodities = session.execute(
        select(CommodityBatch.id, CommodityBatch.lot_code, Product.name)
        .join(ProductBatch, ProductBatch.id == CommodityBatch.product_batch_id)
        .join(Product, Product.id == ProductBatch.product_id)
        .where(or_(CommodityBatch.status == "packed", CommodityBatch.id == commodity_id))
        .order_by(CommodityBatch.id.desc())
    ).all()
    waters = session.execute(select(Material.id, Material.name).where(Material.category == "water")
                             .order_by(Material.code)).all()
    return EntryData(
        people=people(session), me=me,
        receipts=tuple((r.id, f"{r.receipt_no} {r.name} {r.supplier_lot} {r.receipt_date}") for r in receipts),
        batches=tuple(BatchChoice(b.id, f"{b.batch_no} {b.name} · {BATCH_STATUS.get(b.status, b.status)}", b.status,
                                  b.kind) for b in batches),
        commodities=tuple((c.id, f"{c.lot_code} {c.name}") for c in commodities),
        waters=tuple((w.id, w.name) for w in waters),
        now=now(session).replace(second=0, microsecond=0),
    )


def subject(session: Session, kind: str, key: int | None) -> Subject:
    """The facts of what is sampled and the items its standard prescribes."""
    if kind == "incoming":
        return _receipt(session, _need(session, IncomingInspection, key))
    if kind == "release":
        return _commodity(session, _need(session, CommodityBatch, key))
    if kind in BATCH_KINDS:
        return _batch(session, kind, _need(session, ProductBatch, key))
    return _water(session, session.get(Material, key) if key is not None else None)


def _need(session: Session, model: type, key: int | None):
    found = session.get(model, key) if key is not None else None
    if found is None:
        raise UserError(tr("Choose what was sampled first."))
    return found


def _earlier(session: Session, *conditions) -> tuple[str, ...]:
    reports = session.scalars(select(Inspection).where(*conditions).order_by(Inspection.sampled_at.desc()).limit(5))
    return tuple(f"{r.report_no} {INSPECTION_KIND.get(r.kind, r.kind)} {r.sampled_at:%Y-%m-%d %H:%M} "
                 f"{VERDICT.get(r.conclusion, r.conclusion)}" for r in reports)


def _samples(session: Session, batch_id: int) -> tuple[str, ...]:
    return tuple(f"{s.kept_on} {s.name} {s.spec} {s.quantity} · {s.location} · {tr('dispose on')} {s.disposal_date}"
                 for s in sample_rows(session, batch_id))


def _sample_defaults(batch: ProductBatch, spec: str | None, day: dt.date) -> dict:
    return {"name": batch.product.name, "spec": spec, "production_date": batch.production_date, "kept_on": day,
            "disposal_date": batch.expiry_date + dt.timedelta(days=1) if batch.expiry_date else None,
            "unit": "件"}


def _receipt(session: Session, receipt: IncomingInspection) -> Subject:
    lot = session.scalar(select(MaterialLot).where(MaterialLot.receipt_id == receipt.id))
    field = ledger("incoming_inspection").field
    display = field("quantity").display
    facts = [
        (field("material_id").label, receipt.material.name),
        (field("spec").label, receipt.spec or ""),
        (field("supplier_id").label, receipt.supplier.name),
        (field("supplier_lot").label, receipt.supplier_lot),
        (field("production_date").label, str(receipt.production_date)),
        (field("quantity").label, f"{display(receipt.quantity)} {receipt.unit}"),
        (field("receipt_date").label, str(receipt.receipt_date)),
        (field("decision").label, RECEIPT_DECISION.get(receipt.decision, receipt.decision)),
    ]
    if lot is not None:
        facts.append((tr("Material lot"), f"{lot.lot_no}（{MATERIAL_LOT_STATUS.get(lot.status, lot.status)}）"))
    return Subject(
        kind="incoming", key=receipt.id, facts=tuple(facts), specs=tuple(s for s in (receipt.spec,) if s),
        spec=receipt.spec, standards=tuple(standards_for(session, "incoming", material_id=receipt.material_id)),
        batch_id=None, sample=None, samples=(), earlier=_earlier(session, Inspection.receipt_id == receipt.id),
        hold=None, label=None,
    )


def _batch_facts(batch: ProductBatch) -> list[tuple[str, str]]:
    field = ledger("product_batch").field
    facts = [
        (field("product_id").label, f"{batch.product.name}（{PRODUCT_KIND.get(batch.product.kind, batch.product.kind)}）"),
        (field("batch_no").label, batch.batch_no),
        (field("production_date").label, str(batch.production_date)),
        (field("status").label, BATCH_STATUS.get(batch.status, batch.status)),
    ]
    if batch.output_quantity is not None:
        facts.append((field("output_quantity").label, f"{field('output_quantity').display(batch.output_quantity)} {batch.unit}"))
    if batch.expiry_date is not None:
        facts.append((field("expiry_date").label, str(batch.expiry_date)))
    return facts


def _batch(session: Session, kind: str, batch: ProductBatch) -> Subject:
    specs = tuple(s.spec for s in batch.product.specs)
    spec = specs[0] if len(specs) == 1 else None
    day = now(session).date()
    return Subject(
        kind=kind, key=batch.id, facts=tuple(_batch_facts(batch)), specs=specs, spec=spec,
        standards=tuple(standards_for(session, kind, product_id=batch.product_id)), batch_id=batch.id,
        sample=_sample_defaults(batch, spec, day) if kind != "in_process" else None,
        samples=_samples(session, batch.id), earlier=_earlier(session, Inspection.batch_id == batch.id),
        hold=holds.hold_reason(session, batch), label=None,
    )


def _commodity(session: Session, commodity: CommodityBatch) -> Subject:
    batch = commodity.product_batch
    field = ledger("commodity_batch").field
    facts = [
        (field("lot_code").label, commodity.lot_code),
        (tr("Product"), commodity.spec.product.name),
        (field("spec_id").label, commodity.spec.spec),
        (field("product_batch_id").label, batch.batch_no),
        (field("production_date").label, str(commodity.production_date)),
        (field("expiry_date").label, str(commodity.expiry_date or "—")),
        (field("units").label, str(commodity.units)),
        (field("brand").label, commodity.brand or ""),
    ]
    if commodity.spec.gtin:
        facts.append((ledger("product_spec").field("gtin").label, commodity.spec.gtin))
    day = now(session).date()
    return Subject(
        kind="release", key=commodity.id, facts=tuple(facts), specs=(commodity.spec.spec,), spec=commodity.spec.spec,
        standards=tuple(standards_for(session, "release", product_id=batch.product_id)), batch_id=batch.id,
        sample=_sample_defaults(batch, commodity.spec.spec, day), samples=_samples(session, batch.id),
        earlier=_earlier(session, Inspection.commodity_batch_id == commodity.id),
        hold=holds.hold_reason(session, batch), label=label_rules.rules_for(day),
    )


def _water(session: Session, material: Material | None) -> Subject:
    facts = []
    if material is not None:
        field = ledger("material").field
        facts = [(field("name").label, material.name), (field("spec").label, material.spec or ""),
                 (field("standard").label, material.standard or "")]
    return Subject(
        kind="water", key=material.id if material else None, facts=tuple(facts), specs=(), spec=None,
        standards=tuple(standards_for(session, "water", material_id=material.id if material else None)),
        batch_id=None, sample=None, samples=(),
        earlier=_earlier(session, Inspection.kind == "water", Inspection.batch_id.is_(None)), hold=None, label=None,
    )


# ------------------------------------------------------------------ after saving


def outcome(session: Session, inspection_id: int) -> Outcome:
    report = session.get(Inspection, inspection_id)
    failed = tuple(
        f"{item.item}：" + (limits.explain(limit_of({n: getattr(item, n) for n in ("limit_min", "limit_max", "unit",
                                                                                  "expected")}), item.result)
                           if item.limit_min is not None or item.limit_max is not None or item.expected
                           else f"{item.result}（{item.requirement or tr('judged by the inspector')}）")
        for item in report.items if item.verdict == "fail"
    )
    batch = session.get(ProductBatch, report.batch_id) if report.batch_id else None
    hold = holds.hold_reason(session, batch) if batch is not None and report.conclusion == "fail" else None
    archive = session.scalar(select(Archive.id).where(Archive.kind == "warning", Archive.product_batch_id == batch.id)) \
        if hold else None
    stopped = None
    if report.kind == "incoming" and report.conclusion == "fail":
        lot = session.scalar(select(MaterialLot).where(MaterialLot.receipt_id == report.receipt_id))
        if lot is not None and lot.status == "rejected":
            stopped = tr("Material lot {lot} is stopped (rejected): it cannot be issued to production.", lot=lot.lot_no)
    return Outcome(report.id, report.report_no, report.kind, report.conclusion == "pass", failed, hold, archive,
                   batch.batch_no if batch else None, stopped)
