"""R2.1–R2.2: receive and inspect a delivery into a material lot; the stock ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationError, FieldError
from app.ledgers import ledger
from app.models import IncomingInspection, Material, MaterialLot, StockMovement, Supplier

from . import users
from .audit import canonical_value
from .writing import lock_rows
from .common import actor, fail, get_or_fail, next_number, submit, today
from .suppliers import check_can_deliver


def receive(session: Session, values: Mapping[str, object]) -> IncomingInspection:
    """Record an incoming inspection; an accepted one becomes a material lot.

    A rejected delivery is kept as a lot too, marked rejected, so that it can
    never be issued and its return is on the ledger.
    """
    users.require(session, "enter", "incoming_inspection")
    declaration = ledger("incoming_inspection")
    values = dict(values)
    values.setdefault("receipt_no", next_number(session, IncomingInspection, "receipt_no", f"JH{today(session):%Y%m%d}"))
    cleaned = declaration.clean(values)
    material = get_or_fail(session, Material, cleaned["material_id"], "material_id", "物料")
    supplier = get_or_fail(session, Supplier, cleaned["supplier_id"], "supplier_id", "供货者")
    if not cleaned.get("expiry_date") and cleaned.get("shelf_life_days"):
        cleaned["expiry_date"] = cleaned["production_date"] + dt.timedelta(days=cleaned["shelf_life_days"])
    _check_dates(session, cleaned)
    check_can_deliver(session, supplier, material, cleaned["receipt_date"])
    if cleaned["decision"] == "accepted":
        _check_documents(material, cleaned)
    receipt = IncomingInspection(**cleaned, created_by=actor(session))
    session.add(receipt)
    session.flush()
    lot = MaterialLot(
        lot_no=next_number(session, MaterialLot, "lot_no", f"L{cleaned['receipt_date']:%Y%m%d}"),
        material_id=material.id,
        supplier_id=supplier.id,
        receipt_id=receipt.id,
        supplier_lot=receipt.supplier_lot,
        quantity_received=receipt.quantity,
        quantity_on_hand=receipt.quantity,
        unit=receipt.unit,
        production_date=receipt.production_date,
        expiry_date=receipt.expiry_date,
        status="available" if receipt.decision == "accepted" else "rejected",
        warehouse_id=receipt.warehouse_id,
        created_by=actor(session),
    )
    session.add(lot)
    session.flush()
    _move(session, lot, "receipt", receipt.quantity, dt.datetime.combine(receipt.receipt_date, dt.time(8, 0)))
    submit(session, receipt)
    return receipt


def _check_dates(session: Session, cleaned: dict) -> None:
    errors = []
    if cleaned["receipt_date"] > today(session):
        errors.append(FieldError("receipt_date", "进货日期", "「进货日期」不能晚于今天"))
    if cleaned["production_date"] > cleaned["receipt_date"]:
        errors.append(FieldError("production_date", "生产日期", "「生产日期」不能晚于进货日期"))
    expiry = cleaned.get("expiry_date")
    if expiry is not None and expiry <= cleaned["production_date"]:
        errors.append(FieldError("expiry_date", "到期日期", "「到期日期」必须晚于生产日期"))
    elif expiry is not None and cleaned["decision"] == "accepted" and expiry < cleaned["receipt_date"]:
        errors.append(FieldError("expiry_date", "到期日期", f"物料已于 {expiry} 过期，不能合格接收"))
    if errors:
        raise ValidationError(errors)


def _check_documents(material: Material, cleaned: dict) -> None:
    """The vouchers G§16 asks for before goods are accepted."""
    errors = []
    if not cleaned.get("certificate_no") and not cleaned.get("own_test_summary"):
        errors.append(FieldError("certificate_no", "合格证明编号", "「合格证明编号」为空：无合格证明的原料须按标准自行检验并填写「自检结果」"))
    needs = (
        (material.needs_quarantine, "quarantine_cert_no", "检疫合格证明编号"),
        (material.is_imported, "import_cert_no", "入境货物检验检疫证明编号"),
        (material.is_gmo, "gmo_cert_no", "农业转基因生物安全证书编号"),
    )
    for needed, field, label in needs:
        if needed and not cleaned.get(field):
            errors.append(FieldError(field, label, f"物料「{material.name}」须索取「{label}」"))
    if errors:
        raise ValidationError(errors)


def _move(session: Session, lot: MaterialLot, kind: str, quantity: Decimal, at: dt.datetime, **extra) -> StockMovement:
    """One line of the running ledger; receipts positive, issues negative.
    An issue's caller has locked the lot and checked the quantity against
    its fresh stock (``lock_rows``)."""
    if kind != "receipt":
        lot.quantity_on_hand -= quantity
        if lot.quantity_on_hand == 0 and lot.status == "available":
            lot.status = "closed"  # G§18: the running ledger closes at zero stock
    movement = StockMovement(
        lot_id=lot.id,
        moved_at=at,
        kind=kind,
        quantity=quantity if kind == "receipt" else -quantity,
        balance=lot.quantity_on_hand,
        created_by=actor(session),
        **extra,
    )
    session.add(movement)
    session.flush()
    return movement


def check_issuable(lot: MaterialLot, quantity: Decimal, day: dt.date) -> None:
    label = "物料批次"
    if lot.status == "rejected":
        raise fail("material_lot_id", label, f"物料批次「{lot.lot_no}」进货查验不合格（拒收），不能发放")
    if lot.status in ("closed", "written_off"):
        raise fail("material_lot_id", label, f"物料批次「{lot.lot_no}」已结清，没有库存")
    if lot.expiry_date is not None and lot.expiry_date < day:
        raise fail("material_lot_id", label, f"物料批次「{lot.lot_no}」已于 {lot.expiry_date} 过期，不能发放")
    if quantity <= 0:
        raise fail("quantity", "数量", "「数量」必须大于 0")
    if quantity > lot.quantity_on_hand:
        raise fail("quantity", "数量", f"「数量」{quantity} 超过物料批次「{lot.lot_no}」的库存 {lot.quantity_on_hand} {lot.unit}")


def issue(session: Session, lot: MaterialLot, quantity: Decimal, at: dt.datetime, *, batch_id: int | None, **extra) -> StockMovement:
    # The stock another PC may have issued from since the lot was loaded.
    lock_rows(session, lot)
    check_issuable(lot, quantity, at.date())
    return _move(session, lot, "issue", quantity, at, batch_id=batch_id, **extra)


def write_off(session: Session, lot: MaterialLot, quantity: Decimal, at: dt.datetime, note: str) -> StockMovement:
    """Return a rejected lot, or discard an expired one; the ledger still balances."""
    if not note or not note.strip():
        raise fail("note", "说明", "「说明」不能为空：请写明退货或报废的原因")
    lock_rows(session, lot)
    if quantity <= 0 or quantity > lot.quantity_on_hand:
        raise fail("quantity", "数量", f"「数量」应在 0 与库存 {lot.quantity_on_hand} {lot.unit} 之间")
    movement = _move(session, lot, "write_off", quantity, at, note=note.strip())
    if lot.quantity_on_hand == 0:
        lot.status = "written_off" if lot.status != "closed" else lot.status
        session.flush()
    return movement


# What a receipt says that its lot repeats.
_COPIED_TO_LOT = ("supplier_lot", "production_date", "expiry_date")
# What made the lot what it is: changed only while nothing was taken from it.
_DEFINES_LOT = ("material_id", "supplier_id", "unit", "decision")


def carry_amendment_to_lot(session: Session, receipt: IncomingInspection, cleaned: dict) -> None:
    """Apply an amendment of a receipt to its lot and stock ledger, or refuse it."""
    changed = {k for k, v in cleaned.items() if canonical_value(getattr(receipt, k)) != canonical_value(v)}
    lot = session.scalar(select(MaterialLot).where(MaterialLot.receipt_id == receipt.id))
    if lot is None or not changed:
        return
    defining = changed & set(_DEFINES_LOT)
    if defining:
        labels = "、".join(ledger("incoming_inspection").field(name).label for name in sorted(defining))
        raise fail(sorted(defining)[0], labels, f"进货查验记录「{receipt.receipt_no}」的{labels}不能更正：请作退货或报损处理后重新登记")
    if "quantity" in changed:
        lock_rows(session, lot)  # no issue of the old quantity slips in meanwhile
        moved = session.scalars(select(StockMovement).where(StockMovement.lot_id == lot.id).order_by(StockMovement.id)).all()
        if len(moved) > 1:
            raise fail("quantity", "数量", f"物料批次「{lot.lot_no}」已有领用或报损，不能再更正进货数量")
        lot.quantity_received = lot.quantity_on_hand = cleaned["quantity"]
        moved[0].quantity = moved[0].balance = cleaned["quantity"]
    for name in _COPIED_TO_LOT:
        if name in changed:
            setattr(lot, name, cleaned[name])
