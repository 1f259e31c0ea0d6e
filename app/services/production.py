"""R2.3: product batches — feeding of lots and of other batches, CCP readings,
process records, completion — each write filed in the batch's product archive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.ledgers import ledger
from app.models import (
    AdditiveUse,
    CCPReading,
    CriticalControlPoint,
    Feeding,
    MaterialLot,
    Person,
    Product,
    ProductBatch,
)

from . import archives, holds, receiving, users
from .common import actor, create, fail, get_or_fail, next_number, now, submit
from .writing import lock_rows

BATCH_RECORD_LEDGERS = (
    "process_record",
    "cleaning_record",
    "sterilisation_record",
    "intermediate_storage",
    "packaging_record",
)
# G§31: the parameter each sterilisation method must record, besides time.
STERILISATION_PARAMETER = {
    "high_pressure": ("pressure_mpa", "工作压力"),
    "low_temperature": ("temperature_c", "杀菌温度"),
    "pasteurisation": ("temperature_c", "杀菌温度"),
    "uht": ("temperature_c", "杀菌温度"),
    "uv": ("wavelength_nm", "紫外线波长"),
}


def start_batch(session: Session, values: Mapping[str, object]) -> ProductBatch:
    users.require(session, "enter", "product_batch")
    values = dict(values)
    values.setdefault("unit", "kg")
    product = get_or_fail(session, Product, values.get("product_id"), "product_id", "产品")
    production_date = ledger("product_batch").field("production_date").convert(values.get("production_date"))
    if not values.get("batch_no") and production_date:
        values["batch_no"] = next_number(session, ProductBatch, "batch_no", f"{product.code}{production_date:%Y%m%d}", 2)
    batch = create(session, "product_batch", values, status="open", quantity_on_hand=None)
    archives.file_product_batch(session, batch)
    return batch


def _open(batch: ProductBatch) -> None:
    if batch.status != "open":
        raise UserError(f"产品批「{batch.batch_no}」已完工或已处置，不能再记录投料")


def _feeding_time(session: Session, fed_at, after: dt.datetime | None, after_what: str) -> dt.datetime:
    """The time the paper record gives (now when none is given): not in the
    future, not before the source existed."""
    fed_at = ledger("feeding").field("fed_at").convert(fed_at) if fed_at is not None else now(session)
    if fed_at > now(session):
        raise fail("fed_at", "投料时间", "「投料时间」不能晚于现在")
    if after is not None and fed_at < after:
        raise fail("fed_at", "投料时间", f"「投料时间」不能早于{after_what}（{after:%Y-%m-%d %H:%M}）")
    return fed_at


def feed_lot(
    session: Session, batch: ProductBatch, lot: MaterialLot, quantity, *, operator_id: int,
    fed_at: dt.datetime | None = None, method: str | None = None, purpose: str | None = None,
    handed_over_by: int | None = None,
) -> Feeding:
    """Issue material from a lot and feed it into the batch (G§22): the
    hand-over from the store (发料人 → the operator, 领料人) is the stock line."""
    users.require(session, "enter", "feeding")
    lock_rows(session, batch)  # not completed by another PC meanwhile
    _open(batch)
    received = lot.receipt.receipt_date if lot.receipt is not None else None
    fed_at = _feeding_time(session, fed_at, dt.datetime.combine(received, dt.time()) if received else None,
                           f"物料批次「{lot.lot_no}」的进货日期")
    quantity = ledger("feeding").field("quantity").convert(quantity)
    if quantity is None:
        raise fail("quantity", "使用数量", "「使用数量」不能为空")
    if handed_over_by is not None:
        get_or_fail(session, Person, handed_over_by, "handed_over_by", "发料人")
    receiving.issue(session, lot, quantity, fed_at, batch_id=batch.id, received_by=operator_id,
                    handed_over_by=handed_over_by)
    feeding = Feeding(
        batch_id=batch.id, material_lot_id=lot.id, quantity=quantity, unit=lot.unit,
        method=method, fed_at=fed_at, operator_id=operator_id, created_by=actor(session),
    )
    session.add(feeding)
    session.flush()
    if lot.material.is_additive:
        # G§26: additives have a ledger of their own.
        session.add(AdditiveUse(
            batch_id=batch.id, material_lot_id=lot.id, feeding_id=feeding.id, quantity=quantity,
            unit=lot.unit, purpose=purpose, used_at=fed_at, operator_id=operator_id, created_by=actor(session),
        ))
        session.flush()
    archives.file_product_batch(session, batch)
    return feeding


def _upstream(session: Session, batch_id: int) -> set[int]:
    seen: set[int] = set()
    frontier = {batch_id}
    while frontier:
        rows = session.scalars(
            select(Feeding.source_batch_id).where(Feeding.batch_id.in_(frontier), Feeding.source_batch_id.is_not(None))
        ).all()
        frontier = set(rows) - seen
        seen |= frontier
    return seen


def feed_batch(
    session: Session, batch: ProductBatch, source: ProductBatch, quantity, *, operator_id: int,
    fed_at: dt.datetime | None = None, method: str | None = None,
) -> Feeding:
    """Feed another product batch (semi-finished, intermediate) into this one:
    mixing batches makes a new batch (G§4(1))."""
    users.require(session, "enter", "feeding")
    lock_rows(session, batch, source)  # both as another PC may have left them
    _open(batch)
    fed_at = _feeding_time(session, fed_at, source.finished_at, f"产品批「{source.batch_no}」的完工时间")
    quantity = ledger("feeding").field("quantity").convert(quantity)
    label = "投入产品批"
    if source.id == batch.id or batch.id in _upstream(session, source.id):
        raise fail("source_batch_id", label, f"产品批「{source.batch_no}」不能投入它自己或它的上游批次")
    held = holds.refusal(session, source, "投入其他批次")
    if held:
        raise fail("source_batch_id", label, held)
    if source.status != "completed":
        raise fail("source_batch_id", label, f"产品批「{source.batch_no}」未完工或已判不合格/召回，不能投料")
    if quantity is None or quantity <= 0:
        raise fail("quantity", "数量", "「数量」必须大于 0")
    if quantity > (source.quantity_on_hand or 0):
        raise fail("quantity", "数量", f"「数量」{quantity} 超过产品批「{source.batch_no}」的结存 {source.quantity_on_hand} {source.unit}")
    source.quantity_on_hand -= quantity
    feeding = Feeding(
        batch_id=batch.id, source_batch_id=source.id, quantity=quantity, unit=source.unit,
        method=method, fed_at=fed_at, operator_id=operator_id, created_by=actor(session),
    )
    session.add(feeding)
    session.flush()
    archives.file_product_batch(session, batch)
    return feeding


def record_ccp(
    session: Session, batch: ProductBatch, ccp: CriticalControlPoint, value, *, operator_id: int,
    measured_at: dt.datetime | None = None,
) -> CCPReading:
    """A reading outside the critical limits is a deviation that blocks release
    until a corrective action is recorded."""
    users.require(session, "enter", "ccp_reading")
    if batch.status != "open":
        raise UserError(f"产品批「{batch.batch_no}」已完工或已处置，不能再记录关键控制点监控")
    if ccp.product_id != batch.product_id:
        raise fail("ccp_id", "关键控制点", f"关键控制点「{ccp.name}」不属于产品「{batch.product.name}」")
    value = ledger("ccp_reading").field("value").convert(value)
    if value is None:
        raise fail("value", "监测值", "「监测值」不能为空")
    deviation = (ccp.lower_limit is not None and value < ccp.lower_limit) or (
        ccp.upper_limit is not None and value > ccp.upper_limit
    )
    reading = CCPReading(
        batch_id=batch.id, ccp_id=ccp.id, measured_at=measured_at or now(session), value=value,
        deviation=deviation, operator_id=operator_id, created_by=actor(session),
    )
    session.add(reading)
    session.flush()
    archives.file_product_batch(session, batch)
    return reading


def correct_deviation(session: Session, reading: CCPReading, action: str, *, by: int, at: dt.datetime | None = None) -> None:
    # A corrective action is decided by someone who may amend records, not by
    # the operator who read the deviation (G§31, HACCP).
    users.require(session, "amend")
    if not reading.deviation:
        raise UserError("该监控记录在关键限值内，无需纠偏")
    if not action or not action.strip():
        raise fail("corrective_action", "纠偏措施", "「纠偏措施」不能为空")
    reading.corrective_action = action.strip()
    reading.corrected_by = by
    reading.corrected_at = at or now(session)
    session.flush()


def open_deviations(session: Session, batch_ids) -> list[CCPReading]:
    return list(session.scalars(
        select(CCPReading)
        .where(CCPReading.batch_id.in_(list(batch_ids)), CCPReading.deviation.is_(True), CCPReading.corrective_action.is_(None))
        .order_by(CCPReading.measured_at)
    ))


def add_record(session: Session, ledger_key: str, batch: ProductBatch, values: Mapping[str, object]):
    """Process, cleaning, sterilisation, intermediate storage or packaging record."""
    if ledger_key not in BATCH_RECORD_LEDGERS:
        raise ValueError(ledger_key)
    values = dict(values, batch_id=batch.id)
    if ledger_key == "sterilisation_record":
        method = values.get("method")
        needed = STERILISATION_PARAMETER.get(method)
        if needed and values.get(needed[0]) in (None, ""):
            from app.ledgers.choices import STERILISATION_METHOD as STERILISATION_METHODS

            raise fail(needed[0], needed[1], f"{STERILISATION_METHODS.get(method, method)}须记录「{needed[1]}」")
    record = create(session, ledger_key, values)
    if ledger_key == "packaging_record":
        if record.used + record.wasted > record.issued:
            raise fail("used", "使用数量", "「使用数量」与「损耗数量」之和不能超过「领取数量」")
        lot = get_or_fail(session, MaterialLot, record.material_lot_id, "material_lot_id", "包装材料批次")
        receiving.issue(session, lot, record.issued, record.recorded_at, batch_id=batch.id)
    archives.file_product_batch(session, batch)
    return record


def complete_batch(
    session: Session, batch: ProductBatch, output_quantity, loss_quantity=0, *, finished_at: dt.datetime | None = None,
) -> None:
    """Close production: output on hand, expiry from the shelf life, record locked."""
    users.require(session, "enter", "product_batch")
    lock_rows(session, batch)  # no feeding of another PC slips in after the check
    _open(batch)
    declaration = ledger("product_batch")
    output = declaration.field("output_quantity").convert(output_quantity)
    loss = declaration.field("loss_quantity").convert(loss_quantity) or Decimal(0)
    if not batch.feedings:
        raise fail("feedings", "投料记录", f"产品批「{batch.batch_no}」没有投料记录，不能完工")
    if output is None or output <= 0:
        raise fail("output_quantity", "产出数量", "「产出数量」必须大于 0")
    if loss < 0:
        raise fail("loss_quantity", "损耗数量", "「损耗数量」不能为负数")
    batch.output_quantity = output
    batch.loss_quantity = loss
    batch.quantity_on_hand = output
    batch.finished_at = finished_at or now(session)
    shelf_life = batch.product.shelf_life_days
    batch.expiry_date = batch.production_date + dt.timedelta(days=shelf_life) if shelf_life else None
    batch.status = "completed"
    session.flush()
    submit(session, batch)
    archives.file_product_batch(session, batch)


def mix_batches(session: Session, values: Mapping[str, object], sources, *, operator_id: int) -> ProductBatch:
    """Start a new batch from several batches of the same kind (G§4(1))."""
    batch = start_batch(session, values)
    for source, quantity in sources:
        feed_batch(session, batch, source, quantity, operator_id=operator_id, method="混批")
    return batch
