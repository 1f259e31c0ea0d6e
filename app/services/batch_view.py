"""What the batch workbench shows, read on a worker into plain frozen data,
and the batch or lot a workbench action names by number.

No ORM object leaves ``load``: the widgets get ids, strings, decimals and
dates (architecture.md: hand ids and plain data to the UI)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.errors import UserError
from app.i18n import tr
from app.ledgers import ledger
from app.ledgers.choices import BATCH_STATUS, INSPECTION_KIND, PRODUCT_KIND, VERDICT
from app.models import (
    CCPReading,
    CleaningRecord,
    CriticalControlPoint,
    Feeding,
    FormulaItem,
    Inspection,
    Material,
    MaterialLot,
    Person,
    ProcessRecord,
    ProcessStep,
    Product,
    ProductBatch,
    ProductionLine,
    RetainedSample,
    SterilisationRecord,
)
from . import holds
from .common import today

NEAR_EXPIRY_DAYS = 14  # G§19: lots this close to their expiry are flagged
RECENT_BATCHES = 60
# Records listed under 过程记录, with the field that dates them.
RECORDS = (
    (ProcessRecord, "process_record", "recorded_at"),
    (SterilisationRecord, "sterilisation_record", "started_at"),
    (CleaningRecord, "cleaning_record", "cleaned_at"),
)
HIDDEN_IN_SUMMARY = {"batch_id", "operator_id", "recorded_at", "started_at", "cleaned_at"}


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str
    post: str
    team: str | None

    @property
    def text(self) -> str:
        return f"{self.name}（{self.team}）" if self.team else self.name


@dataclass(frozen=True)
class Source:
    """A material lot or a completed product batch that can be fed."""

    kind: str  # "lot" or "batch"
    id: int
    number: str
    name: str
    stock: Decimal
    unit: str
    expiry: dt.date | None
    state: str  # "ok", "near", "expired"


@dataclass(frozen=True)
class FeedingRow:
    fed_at: dt.datetime
    number: str
    name: str
    quantity: Decimal
    unit: str
    operator: str
    method: str


@dataclass(frozen=True)
class CCPRow:
    id: int
    name: str
    parameter: str
    lower: Decimal | None
    upper: Decimal | None
    unit: str
    frequency: str
    corrective_action: str

    @property
    def limits(self) -> str:
        value = ledger("ccp_reading").field("value").display
        if self.lower is not None and self.upper is not None:
            return f"{value(self.lower)}～{value(self.upper)} {self.unit}"
        if self.lower is not None:
            return f"≥ {value(self.lower)} {self.unit}"
        if self.upper is not None:
            return f"≤ {value(self.upper)} {self.unit}"
        return ""


@dataclass(frozen=True)
class ReadingRow:
    id: int
    measured_at: dt.datetime
    ccp: str
    value: Decimal
    unit: str
    limits: str
    deviation: bool
    operator: str
    corrective_action: str | None
    corrected_by: str | None

    @property
    def open_deviation(self) -> bool:
        return self.deviation and not self.corrective_action


@dataclass(frozen=True)
class RecordRow:
    at: dt.datetime
    title: str
    summary: str
    operator: str


@dataclass(frozen=True)
class InspectionRow:
    id: int
    report_no: str
    kind: str
    sampled_at: dt.datetime
    conclusion: str
    passed: bool
    inspector: str


@dataclass(frozen=True)
class SampleRow:
    kept_on: dt.date
    name: str
    spec: str
    quantity: str
    location: str
    disposal_date: dt.date


@dataclass(frozen=True)
class BatchDetail:
    id: int
    batch_no: str
    product_id: int
    product: str
    product_kind: str
    status: str
    status_label: str
    production_date: dt.date
    line: str
    team: str
    unit: str
    output: Decimal | None
    loss: Decimal | None
    finished_at: dt.datetime | None
    expiry_date: dt.date | None
    fed: tuple[tuple[str, Decimal], ...]  # total fed per unit
    sterilisation_method: str | None
    sources: tuple[Source, ...]
    feedings: tuple[FeedingRow, ...]
    ccps: tuple[CCPRow, ...]
    readings: tuple[ReadingRow, ...]
    records: tuple[RecordRow, ...]
    inspections: tuple[InspectionRow, ...] = ()
    samples: tuple[SampleRow, ...] = ()
    hold: str | None = None  # why a batch that failed its inspection is held

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def open_deviations(self) -> int:
        return sum(1 for r in self.readings if r.open_deviation)

    def fed_in(self, unit: str) -> Decimal:
        return dict(self.fed).get(unit, Decimal(0))


@dataclass(frozen=True)
class WorkbenchData:
    batches: tuple[tuple[int, str], ...]  # id, "BJ2026112201 · 豆浆基料 · 生产中"
    products: tuple[tuple[int, str], ...]
    lines: tuple[tuple[int, str], ...]
    people: tuple[PersonRow, ...]
    today: dt.date
    detail: BatchDetail | None


def people(session: Session) -> tuple[PersonRow, ...]:
    return tuple(
        PersonRow(p.id, p.name, p.post, p.team)
        for p in session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.employee_no))
    )


def batch_to_show(session: Session, wanted: int | str | None) -> int | None:
    """The id of the batch a screen asks for by id or by number; None: the
    newest batch in production, if any."""
    if wanted is None:  # on opening: the batch in production, if any
        wanted = session.scalar(select(ProductBatch.id).where(ProductBatch.status == "open")
                                .order_by(ProductBatch.id.desc()).limit(1))
    if isinstance(wanted, str):
        number, wanted = wanted, session.scalar(select(ProductBatch.id).where(ProductBatch.batch_no == wanted))
        if wanted is None:
            raise UserError(tr("No batch numbered {number}", number=number))
    return wanted


def feed_source(session: Session, number: str) -> MaterialLot | ProductBatch:
    """What a number names for feeding: a material lot, else a product batch."""
    lot = session.scalar(select(MaterialLot).where(MaterialLot.lot_no == number))
    if lot is not None:
        return lot
    source = session.scalar(select(ProductBatch).where(ProductBatch.batch_no == number))
    if source is None:
        raise UserError(tr("No lot or batch numbered {number}", number=number))
    return source


def load(session: Session, batch_id: int | None, show_all: bool = False) -> WorkbenchData:
    staff = people(session)
    names = {p.id: p.name for p in staff}
    open_or_recent = (
        select(ProductBatch.id)
        .order_by(ProductBatch.id.desc())
        .limit(RECENT_BATCHES)
        .scalar_subquery()
    )
    batches = session.execute(
        select(ProductBatch.id, ProductBatch.batch_no, Product.name, ProductBatch.status)
        .join(Product, Product.id == ProductBatch.product_id)
        .where(or_(ProductBatch.status == "open", ProductBatch.id.in_(open_or_recent)))
        .order_by(ProductBatch.production_date.desc(), ProductBatch.id.desc())
    ).all()
    day = today(session)
    return WorkbenchData(
        batches=tuple((b.id, f"{b.batch_no} · {b.name} · {BATCH_STATUS.get(b.status, b.status)}") for b in batches),
        products=tuple((p.id, f"{p.name}（{PRODUCT_KIND.get(p.kind, p.kind)}）") for p in session.scalars(
            select(Product).order_by(Product.code))),
        lines=tuple((line.id, line.name)
                    for line in session.scalars(select(ProductionLine).order_by(ProductionLine.code))),
        people=staff,
        today=day,
        detail=_detail(session, batch_id, names, day, show_all) if batch_id else None,
    )


def _detail(session: Session, batch_id: int, names: dict[int, str], day: dt.date, show_all: bool) -> BatchDetail | None:
    batch = session.get(ProductBatch, batch_id)
    if batch is None:
        return None
    feedings = session.scalars(
        select(Feeding).where(Feeding.batch_id == batch.id).order_by(Feeding.fed_at, Feeding.id)
        .options(selectinload(Feeding.material_lot).selectinload(MaterialLot.material),
                 selectinload(Feeding.source_batch).selectinload(ProductBatch.product))
    ).all()
    fed: dict[str, Decimal] = defaultdict(Decimal)
    for f in feedings:
        fed[f.unit] += f.quantity
    ccps = [
        CCPRow(c.id, c.name, c.parameter, c.lower_limit, c.upper_limit, c.unit, c.frequency or "",
               c.corrective_action or "")
        for c in session.scalars(select(CriticalControlPoint).where(CriticalControlPoint.product_id == batch.product_id)
                                 .order_by(CriticalControlPoint.id))
    ]
    by_ccp = {c.id: c for c in ccps}
    readings = session.scalars(
        select(CCPReading).where(CCPReading.batch_id == batch.id).order_by(CCPReading.measured_at, CCPReading.id)
    ).all()
    method = session.scalar(
        select(ProcessStep.sterilisation_method)
        .where(ProcessStep.product_id == batch.product_id, ProcessStep.sterilisation_method.is_not(None))
        .order_by(ProcessStep.seq).limit(1)
    )
    line = session.get(ProductionLine, batch.line_id) if batch.line_id else None
    return BatchDetail(
        id=batch.id, batch_no=batch.batch_no, product_id=batch.product_id, product=batch.product.name,
        product_kind=PRODUCT_KIND.get(batch.product.kind, batch.product.kind), status=batch.status,
        status_label=BATCH_STATUS.get(batch.status, batch.status), production_date=batch.production_date,
        line=line.name if line else "", team=batch.team or "", unit=batch.unit, output=batch.output_quantity,
        loss=batch.loss_quantity, finished_at=batch.finished_at, expiry_date=batch.expiry_date,
        fed=tuple(sorted(fed.items())), sterilisation_method=method,
        sources=tuple(_sources(session, batch, day, show_all)) if batch.status == "open" else (),
        feedings=tuple(_feeding_row(f, names) for f in feedings),
        ccps=tuple(ccps),
        readings=tuple(  # record_ccp only takes the product's own CCPs
            ReadingRow(
                r.id, r.measured_at, by_ccp[r.ccp_id].name, r.value, by_ccp[r.ccp_id].unit, by_ccp[r.ccp_id].limits,
                r.deviation, names.get(r.operator_id, ""), r.corrective_action, names.get(r.corrected_by),
            )
            for r in readings
        ),
        records=tuple(_records(session, batch.id, names)),
        inspections=tuple(_inspections(session, batch.id, names)),
        samples=tuple(sample_rows(session, batch.id)),
        hold=holds.hold_reason(session, batch),
    )


def _inspections(session: Session, batch_id: int, names: dict[int, str]):
    for r in session.scalars(select(Inspection).where(Inspection.batch_id == batch_id)
                             .order_by(Inspection.sampled_at, Inspection.id)):
        yield InspectionRow(r.id, r.report_no, INSPECTION_KIND.get(r.kind, r.kind), r.sampled_at,
                            VERDICT.get(r.conclusion, r.conclusion), r.conclusion == "pass", names.get(r.inspector_id, ""))


def sample_rows(session: Session, batch_id: int) -> list[SampleRow]:
    """The batch's retained samples (留样), as the workbench and the inspection window list them."""
    display = ledger("retained_sample").field("quantity").display
    return [SampleRow(s.kept_on, s.name, s.spec or "", f"{display(s.quantity)} {s.unit}", s.location, s.disposal_date)
            for s in session.scalars(select(RetainedSample).where(RetainedSample.batch_id == batch_id)
                                     .order_by(RetainedSample.kept_on, RetainedSample.id))]


def _feeding_row(f: Feeding, names: dict[int, str]) -> FeedingRow:
    if f.material_lot is not None:
        number, name = f.material_lot.lot_no, f.material_lot.material.name
    else:
        number, name = f.source_batch.batch_no, f.source_batch.product.name
    return FeedingRow(f.fed_at, number, name, f.quantity, f.unit, names.get(f.operator_id, ""), f.method or "")


def _state(expiry: dt.date | None, day: dt.date) -> str:
    if expiry is None:
        return "ok"
    if expiry < day:
        return "expired"
    return "near" if (expiry - day).days <= NEAR_EXPIRY_DAYS else "ok"


def _sources(session: Session, batch: ProductBatch, day: dt.date, show_all: bool):
    """Lots of the product's formula materials in stock (rejected and closed lots
    are never offered), then completed batches with stock that may be mixed in."""
    formula = session.execute(
        select(FormulaItem.material_id, FormulaItem.component_product_id)
        .where(FormulaItem.product_id == batch.product_id)
    ).all()
    materials = {m for m, _ in formula if m is not None}
    products = {p for _, p in formula if p is not None} | {batch.product_id}
    everything = show_all or not formula
    lots = select(MaterialLot, Material).join(Material, Material.id == MaterialLot.material_id).where(
        MaterialLot.status == "available", MaterialLot.quantity_on_hand > 0
    )
    if not everything:
        lots = lots.where(MaterialLot.material_id.in_(materials))
    for lot, material in session.execute(lots.order_by(Material.code, MaterialLot.expiry_date, MaterialLot.id)):
        yield Source("lot", lot.id, lot.lot_no, material.name, lot.quantity_on_hand, lot.unit, lot.expiry_date,
                     _state(lot.expiry_date, day))
    others = select(ProductBatch, Product).join(Product, Product.id == ProductBatch.product_id).where(
        ProductBatch.status == "completed", ProductBatch.quantity_on_hand > 0, ProductBatch.id != batch.id
    )
    if not everything:
        others = others.where(ProductBatch.product_id.in_(products))
    for other, product in session.execute(others.order_by(ProductBatch.production_date, ProductBatch.id)):
        yield Source("batch", other.id, other.batch_no, product.name, other.quantity_on_hand, other.unit,
                     other.expiry_date, _state(other.expiry_date, day))


def _records(session: Session, batch_id: int, names: dict[int, str]):
    rows = []
    for model, key, at_field in RECORDS:
        declaration = ledger(key)
        for record in session.scalars(select(model).where(model.batch_id == batch_id)):
            parts = [
                f"{f.label}：{f.display(getattr(record, f.name))}"
                for f in declaration.fields
                if f.name not in HIDDEN_IN_SUMMARY and f.kind != "ref" and getattr(record, f.name) not in (None, "")
            ]
            rows.append(RecordRow(getattr(record, at_field), declaration.title, "；".join(parts),
                                  names.get(record.operator_id, "")))
    return sorted(rows, key=lambda r: r.at)
