"""R1.2: the qualified-supplier database and the check made at every receipt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationError
from app.ledgers import ledger
from app.ledgers.choices import DOCUMENT_KIND as SUPPLIER_DOCUMENT_KINDS
from app.models import Material, PlatformCheck, Supplier, SupplierDocument, SupplierDocumentMaterial

from . import users
from .common import create, fail, today

# Documents that licence a supplier to supply goods (G§16(3), (5), (6)).
LICENCE_KINDS = ("food_production_licence", "food_trade_licence", "industrial_product_licence", "slaughter_certificate")


def add_supplier(session: Session, values: Mapping[str, object]) -> Supplier:
    return create(session, "supplier", values, status="pending")


def add_document(
    session: Session, supplier: Supplier, values: Mapping[str, object], material_ids: Iterable[int] = ()
) -> SupplierDocument:
    cleaned = ledger("supplier_document").clean(dict(values, supplier_id=supplier.id))
    if cleaned["valid_from"] and cleaned["valid_to"] and cleaned["valid_to"] < cleaned["valid_from"]:
        raise fail("valid_to", "有效期至", "「有效期至」不能早于「有效期自」")
    document = create(session, "supplier_document", cleaned)
    for material_id in sorted(set(material_ids)):
        if session.get(Material, material_id) is None:
            raise fail("materials", "涵盖物料", f"「涵盖物料」中的物料（编号 {material_id}）不存在")
        session.add(SupplierDocumentMaterial(document_id=document.id, material_id=material_id))
    session.flush()
    session.refresh(document, ["covered"])
    return document


def record_platform_check(session: Session, supplier: Supplier, values: Mapping[str, object]) -> PlatformCheck:
    return create(session, "platform_check", dict(values, supplier_id=supplier.id))


def qualify(session: Session, supplier: Supplier, *, by: str, on: dt.date | None = None) -> None:
    """Admit a supplier to the qualified list (G§14–15): a valid business
    licence and a check on a third-party public platform are on file."""
    users.require(session, "qualify")
    on = on or today(session)
    licences = [d for d in supplier.documents if d.kind == "business_licence" and _valid_on(d, on)]
    if not licences:
        raise fail("documents", "资质证件", f"供应商「{supplier.name}」没有在有效期内的营业执照，不能列为合格供方")
    checks = session.scalars(select(PlatformCheck).where(PlatformCheck.supplier_id == supplier.id)).all()
    if not checks:
        raise fail("platform_checks", "第三方平台查证", f"供应商「{supplier.name}」还没有第三方公示平台查证记录，不能列为合格供方")
    supplier.status = "qualified"
    supplier.qualified_on = on
    supplier.qualified_by = by
    session.flush()


def _valid_on(document: SupplierDocument, day: dt.date) -> bool:
    return (document.valid_from is None or document.valid_from <= day) and (
        document.valid_to is None or day <= document.valid_to
    )


def _name(document: SupplierDocument) -> str:
    return f"{SUPPLIER_DOCUMENT_KINDS.get(document.kind, document.kind)} {document.number}"


def check_can_deliver(session: Session, supplier: Supplier, material: Material, day: dt.date) -> None:
    """Refuse a delivery the supplier is not licensed for on that day (G§16)."""
    if supplier.status != "qualified":
        raise fail("supplier_id", "供货者", f"供应商「{supplier.name}」不是合格供方，不能收货")
    if material.category in ("agricultural", "water"):
        return  # 食用农产品: origin certificate or purchase voucher instead (G§16(1))
    licences = [d for d in supplier.documents if d.kind in LICENCE_KINDS]
    if not licences:
        raise fail("supplier_id", "供货者", f"供应商「{supplier.name}」没有登记生产经营许可证，不能供应「{material.name}」")
    covering = [d for d in licences if d.covers(material.id)]
    if not covering:
        names = "、".join(_name(d) for d in licences)
        raise fail("supplier_id", "供货者", f"供应商「{supplier.name}」的{names}未涵盖物料「{material.name}」，不能收货")
    if not any(_valid_on(d, day) for d in covering):
        latest = max(covering, key=lambda d: d.valid_to or dt.date.max)
        if latest.valid_from and day < latest.valid_from:
            raise fail("supplier_id", "供货者", f"供应商「{supplier.name}」的{_name(latest)}自 {latest.valid_from} 起才生效，不能收货")
        raise fail("supplier_id", "供货者", f"供应商「{supplier.name}」的{_name(latest)}已于 {latest.valid_to} 过期，不能收货")


def expiring_documents(session: Session, within_days: int = 30) -> list[SupplierDocument]:
    """Licences that end within the coming days (R7.3 alert)."""
    limit = today(session) + dt.timedelta(days=within_days)
    return list(
        session.scalars(
            select(SupplierDocument)
            .where(SupplierDocument.valid_to.is_not(None), SupplierDocument.valid_to <= limit)
            .order_by(SupplierDocument.valid_to)
        )
    )
