"""What the release desk shows, read on a worker into plain frozen data:
commodity batches waiting for release (and recently released), the product
batches that can be packed, and for the chosen commodity batch what still
blocks its release, its release inspections and its deliveries; and the
rows a desk action names by number or name."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.i18n import tr
from app.ledgers import ledger
from app.ledgers.choices import COMMODITY_STATUS, VERDICT
from app.models import CommodityBatch, Customer, Delivery, Inspection, Product, ProductBatch, ProductSpec

from . import label_rules
from .batch_view import PersonRow, people
from .common import today
from .distribution import release_blockers
from .quality import StandardItem, standards_for

RECENT_DAYS = 30  # released commodity batches stay on the list this long


@dataclass(frozen=True)
class CommodityRow:
    id: int
    lot_code: str
    product: str
    spec: str
    units: int
    units_on_hand: int
    status: str
    status_label: str
    production_date: dt.date
    blockers: int | None  # None once released


@dataclass(frozen=True)
class Packable:
    """A completed product batch with stock, and the specs it can be packed in."""

    id: int
    batch_no: str
    product: str
    stock: Decimal
    unit: str
    specs: tuple[tuple[int, str, Decimal], ...]  # id, spec, net content per unit


@dataclass(frozen=True)
class CommodityDetail:
    id: int
    lot_code: str
    product: str
    spec: str
    batch_no: str
    units: int
    units_on_hand: int
    status: str
    status_label: str
    production_date: dt.date
    expiry_date: dt.date | None
    label_checked: bool
    released_at: dt.datetime | None
    certificate_no: str | None
    blockers: tuple[str, ...]
    inspections: tuple[tuple[str, str, str, str], ...]  # report no, sampled at, conclusion, label check
    # delivery no, customer, units, sale date, the buyer's confirmation ("" while unconfirmed)
    deliveries: tuple[tuple[str, str, int, dt.date, str], ...]
    release_items: tuple[StandardItem, ...] = ()  # the product's release test items (检验项目标准)
    label: label_rules.LabelRules | None = None  # what the label check looks at, by the edition in force

    @property
    def releasable(self) -> bool:
        return self.status == "packed" and not self.blockers


@dataclass(frozen=True)
class DeskData:
    commodities: tuple[CommodityRow, ...]
    packable: tuple[Packable, ...]
    people: tuple[PersonRow, ...]
    customers: tuple[tuple[int, str], ...]
    today: dt.date
    detail: CommodityDetail | None


def commodity(session: Session, lot_code: str) -> CommodityBatch:
    """The commodity batch with this lot code."""
    found = session.scalar(select(CommodityBatch).where(CommodityBatch.lot_code == lot_code))
    if found is None:
        raise UserError(tr("No commodity batch with lot code {code}", code=lot_code))
    return found


def packing(session: Session, batch_no: str, spec: str) -> tuple[ProductBatch, ProductSpec]:
    """The batch to pack, by its number, and the spec of its product, by name."""
    batch = session.scalar(select(ProductBatch).where(ProductBatch.batch_no == batch_no))
    if batch is None:
        raise UserError(tr("No batch numbered {number}", number=batch_no))
    found = session.scalar(select(ProductSpec).where(ProductSpec.product_id == batch.product_id,
                                                     ProductSpec.spec == spec))
    if found is None:
        raise UserError(tr("The product has no spec {spec}", spec=spec))
    return batch, found


def customer(session: Session, name: str) -> Customer:
    """The customer of this name (surrounding spaces ignored)."""
    found = session.scalar(select(Customer).where(Customer.name == name.strip()))
    if found is None:
        raise UserError(tr("No customer named {name}", name=name))
    return found


def delivery(session: Session, delivery_no: str) -> Delivery:
    found = session.scalar(select(Delivery).where(Delivery.delivery_no == delivery_no))
    if found is None:
        raise UserError(tr("No delivery numbered {number}", number=delivery_no))
    return found


def load(session: Session, commodity_id: int | None) -> DeskData:
    day = today(session)
    since = dt.datetime.combine(day - dt.timedelta(days=RECENT_DAYS), dt.time())
    rows = session.execute(
        select(CommodityBatch, Product.name, ProductSpec.spec)
        .join(ProductSpec, ProductSpec.id == CommodityBatch.spec_id)
        .join(Product, Product.id == ProductSpec.product_id)
        .where(or_(CommodityBatch.status == "packed",
                   (CommodityBatch.status == "released") & (CommodityBatch.released_at >= since)))
        .order_by((CommodityBatch.status != "packed"), CommodityBatch.id.desc())
    ).all()
    commodities = tuple(
        CommodityRow(c.id, c.lot_code, product, spec, c.units, c.units_on_hand, c.status,
                     COMMODITY_STATUS.get(c.status, c.status), c.production_date,
                     len(release_blockers(session, c)) if c.status == "packed" else None)
        for c, product, spec in rows
    )
    return DeskData(
        commodities=commodities,
        packable=tuple(_packable(session)),
        people=people(session),
        customers=tuple((c.id, c.name) for c in session.scalars(select(Customer).order_by(Customer.name))),
        today=day,
        detail=_detail(session, commodity_id) if commodity_id else None,
    )


def _packable(session: Session):
    batches = session.execute(
        select(ProductBatch, Product)
        .join(Product, Product.id == ProductBatch.product_id)
        .where(ProductBatch.status == "completed", ProductBatch.quantity_on_hand > 0, Product.specs.any())
        .order_by(ProductBatch.production_date.desc(), ProductBatch.id.desc())
    ).all()
    for batch, product in batches:
        yield Packable(batch.id, batch.batch_no, product.name, batch.quantity_on_hand, batch.unit,
                       tuple((s.id, s.spec, s.net_content) for s in product.specs))


def _detail(session: Session, commodity_id: int) -> CommodityDetail | None:
    c = session.get(CommodityBatch, commodity_id)
    if c is None:
        return None
    inspections = session.scalars(
        select(Inspection).where(Inspection.commodity_batch_id == c.id, Inspection.kind == "release")
        .order_by(Inspection.sampled_at)
    ).all()
    deliveries = session.execute(
        select(Delivery, Customer.name).join(Customer, Customer.id == Delivery.customer_id)
        .where(Delivery.commodity_batch_id == c.id).order_by(Delivery.id)
    ).all()
    label_check = ledger("inspection").field("label_check_passed").display
    return CommodityDetail(
        id=c.id, lot_code=c.lot_code, product=c.spec.product.name, spec=c.spec.spec,
        batch_no=c.product_batch.batch_no, units=c.units, units_on_hand=c.units_on_hand, status=c.status,
        status_label=COMMODITY_STATUS.get(c.status, c.status), production_date=c.production_date,
        expiry_date=c.expiry_date, label_checked=c.label_checked, released_at=c.released_at,
        certificate_no=c.certificate_no,
        blockers=tuple(release_blockers(session, c)) if c.status == "packed" else (),
        inspections=tuple(
            (i.report_no, i.sampled_at.strftime("%Y-%m-%d %H:%M"), VERDICT.get(i.conclusion, i.conclusion),
             label_check(i.label_check_passed)) for i in inspections
        ),
        deliveries=tuple((d.delivery_no, name, d.units, d.sale_date, _confirmation(d)) for d, name in deliveries),
        release_items=tuple(standards_for(session, "release", product_id=c.spec.product_id)),
        label=label_rules.rules_for(today(session)),
    )


def _confirmation(delivery: Delivery) -> str:
    if not delivery.confirmed:
        return ""
    return f"{delivery.confirmation_no or ''} {delivery.confirmed_on or ''} {delivery.confirmed_by or ''}".strip()
