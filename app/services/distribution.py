"""R2.4, R2.6–R2.8: packing, finished-goods store, release, delivery, recall, destruction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.ledgers import ledger
from app.models import (
    CommodityBatch,
    Customer,
    Delivery,
    Destruction,
    FinishedGoodsMovement,
    Inspection,
    ProductBatch,
    ProductSpec,
    Recall,
    RecallProgress,
    Warehouse,
)

from . import archives, holds, users
from .common import actor, create, fail, get_or_fail, next_number, now, submit, today
from .production import _upstream, open_deviations
from .writing import lock_rows


def pack(session: Session, batch: ProductBatch, spec: ProductSpec, units, values: Mapping[str, object]) -> CommodityBatch:
    """Pack a commodity batch from one product batch (G§4(2))."""
    users.require(session, "enter", "commodity_batch")
    held = holds.refusal(session, batch, "包装")
    if held:
        raise fail("product_batch_id", "产品批号", held)
    if batch.status != "completed":
        raise fail("product_batch_id", "产品批号", f"产品批「{batch.batch_no}」未完工或已判不合格/召回，不能包装")
    if spec.product_id != batch.product_id:
        raise fail("spec_id", "规格", f"规格「{spec.spec}」不属于产品「{batch.product.name}」")
    units = ledger("commodity_batch").field("units").convert(units)
    if units is None or units <= 0:
        raise fail("units", "包装数量", "「包装数量」必须大于 0")
    lock_rows(session, batch)  # its stock as another PC may have left it
    used = spec.net_content * units
    if used > (batch.quantity_on_hand or 0):
        raise fail("units", "包装数量", f"{units} 件共需 {used} {batch.unit}，超过产品批「{batch.batch_no}」结存 {batch.quantity_on_hand} {batch.unit}")
    values = dict(values)
    values.setdefault("lot_code", next_number(session, CommodityBatch, "lot_code", f"{batch.batch_no}-", 2))
    values.setdefault("brand", batch.product.brand)
    commodity = create(
        session, "commodity_batch",
        dict(values, product_batch_id=batch.id, spec_id=spec.id, units=units),
        product_quantity_used=used, units_on_hand=units, production_date=batch.production_date,
        expiry_date=batch.expiry_date, status="packed",
    )
    if commodity.packed_to < commodity.packed_from:
        raise fail("packed_to", "包装结束时间", "「包装结束时间」不能早于开始时间")
    batch.quantity_on_hand -= used
    session.flush()
    archives.file_commodity_batch(session, commodity)
    return commodity


def move_goods(session: Session, commodity: CommodityBatch, warehouse: Warehouse, kind: str, units: int, values: Mapping[str, object]) -> FinishedGoodsMovement:
    """R2.6: a movement in the finished-goods store with its running stock."""
    # One movement of a commodity batch at a time: the last balance is read
    # after another PC's movement committed, not before.
    lock_rows(session, commodity)
    last = session.scalar(
        select(FinishedGoodsMovement.balance)
        .where(FinishedGoodsMovement.commodity_batch_id == commodity.id, FinishedGoodsMovement.warehouse_id == warehouse.id)
        .order_by(FinishedGoodsMovement.id.desc()).limit(1)
    ) or 0
    balance = last + units if kind == "in" else last - units
    if balance < 0:
        raise fail("units", "数量", f"出库 {units} 件超过 {warehouse.name} 中批次「{commodity.lot_code}」的库存 {last} 件")
    movement = create(
        session, "finished_goods_movement",
        dict(values, commodity_batch_id=commodity.id, warehouse_id=warehouse.id, kind=kind, units=units),
        balance=balance,
    )
    archives.file_commodity_batch(session, commodity)
    return movement


def release_blockers(session: Session, commodity: CommodityBatch) -> list[str]:
    """What still stands between this commodity batch and the market (R2.5, G§40)."""
    blockers = []
    batch = commodity.product_batch
    held = holds.refusal(session, batch, "放行")
    if held:
        blockers.append(held)
    elif batch.status != "completed":
        blockers.append(f"产品批「{batch.batch_no}」状态为{_status(batch.status)}")
    for reading in open_deviations(session, {batch.id} | _upstream(session, batch.id)):
        # Name the batch: the deviation may sit in an upstream (semi-finished) batch.
        source = batch if reading.batch_id == batch.id else session.get(ProductBatch, reading.batch_id)
        blockers.append(f"产品批「{source.batch_no}」的关键控制点「{reading.ccp.name}」于 "
                        f"{reading.measured_at:%Y-%m-%d %H:%M} 偏离关键限值，尚无纠偏措施")
    passed = session.scalars(
        select(Inspection).where(
            Inspection.commodity_batch_id == commodity.id, Inspection.kind == "release", Inspection.conclusion == "pass"
        )
    ).all()
    if not passed:
        blockers.append("没有合格的出厂检验报告")
    elif not any(i.label_check_passed for i in passed):
        blockers.append("标签符合性查验未通过")
    if not commodity.label_checked:
        blockers.append("包装时未完成标签核对")
    return blockers


def _status(code: str) -> str:
    from app.ledgers.choices import BATCH_STATUS as BATCH_STATUSES

    return "「" + BATCH_STATUSES.get(code, code) + "」"


def release(session: Session, commodity: CommodityBatch, *, by: int, at: dt.datetime | None = None) -> None:
    users.require(session, "release")
    if commodity.status != "packed":
        raise UserError(f"商品批次「{commodity.lot_code}」不是待放行状态")
    blockers = release_blockers(session, commodity)
    if blockers:
        raise UserError(f"商品批次「{commodity.lot_code}」不能放行：" + "；".join(blockers))
    report = session.scalars(
        select(Inspection).where(Inspection.commodity_batch_id == commodity.id, Inspection.kind == "release", Inspection.conclusion == "pass")
        .order_by(Inspection.sampled_at.desc())
    ).first()
    commodity.status = "released"
    commodity.released_at = at or now(session)
    commodity.released_by = by
    commodity.certificate_no = report.report_no
    session.flush()
    submit(session, commodity)
    archives.file_commodity_batch(session, commodity)


def deliver(session: Session, commodity: CommodityBatch, customer: Customer, units, values: Mapping[str, object]) -> Delivery:
    """R2.7: sell released goods to a customer; the art. 51 fields are recorded."""
    users.require(session, "enter", "delivery")
    lock_rows(session, commodity)  # the units another PC may have sold meanwhile
    if commodity.status != "released":
        raise fail("commodity_batch_id", "商品批次", f"商品批次「{commodity.lot_code}」未放行，不能出厂销售")
    units = ledger("delivery").field("units").convert(units)
    if units is None or units <= 0:
        raise fail("units", "数量", "「数量」必须大于 0")
    if units > commodity.units_on_hand:
        raise fail("units", "数量", f"「数量」{units} 件超过商品批次「{commodity.lot_code}」结存 {commodity.units_on_hand} 件")
    given = sorted(name for name in CONFIRMATION if values.get(name) not in (None, "", False))
    if given:
        labels = "、".join(f"「{ledger('delivery').field(name).label}」" for name in given)
        raise UserError(f"{labels}在购货方确认后用“确认交付”记录，不随销售记录填写")
    values = dict(values)
    values.setdefault("delivery_no", next_number(session, Delivery, "delivery_no", f"XS{today(session):%Y%m%d}"))
    values.setdefault("certificate_no", commodity.certificate_no)
    delivery = create(session, "delivery", dict(values, commodity_batch_id=commodity.id, customer_id=customer.id, units=units))
    if delivery.sale_date > today(session):
        raise fail("sale_date", "销售日期", "「销售日期」不能晚于今天")
    if delivery.sale_date < commodity.released_at.date():
        raise fail("sale_date", "销售日期", f"「销售日期」不能早于放行日期 {commodity.released_at:%Y-%m-%d}")
    commodity.units_on_hand -= units
    session.flush()
    submit(session, delivery)
    archives.file_commodity_batch(session, commodity)
    return delivery


CONFIRMATION = ("confirmed", "confirmation_no", "confirmed_on", "confirmed_by")


def confirm_delivery(session: Session, delivery: Delivery, confirmation_no: str, confirmed_on, confirmed_by: str) -> None:
    """The buyer's 交付确认单 came back (G§42(三)): its number, date and the
    buyer's receiver. A confirmed delivery is corrected only by amendment."""
    users.require(session, "enter", "delivery")
    declaration = ledger("delivery")
    if delivery.confirmed:
        raise UserError(f"出厂销售记录「{delivery.delivery_no}」已于 {delivery.confirmed_on or ''} 确认交付；如有错误请使用“更正”")
    cleaned = declaration.clean({"confirmation_no": confirmation_no, "confirmed_on": confirmed_on,
                                 "confirmed_by": confirmed_by}, partial=True)
    for name in ("confirmation_no", "confirmed_on", "confirmed_by"):
        if cleaned.get(name) in (None, ""):
            label = declaration.field(name).label
            raise fail(name, label, f"「{label}」不能为空")
    if cleaned["confirmed_on"] < delivery.sale_date:
        raise fail("confirmed_on", "确认日期", f"「确认日期」不能早于销售日期 {delivery.sale_date}")
    if cleaned["confirmed_on"] > today(session):
        raise fail("confirmed_on", "确认日期", "「确认日期」不能晚于今天")
    delivery.confirmation_no = cleaned["confirmation_no"]
    delivery.confirmed_on = cleaned["confirmed_on"]
    delivery.confirmed_by = cleaned["confirmed_by"]
    delivery.confirmed = True
    session.flush()
    archives.file_commodity_batch(session, delivery.commodity_batch)


def recall(session: Session, batch: ProductBatch, values: Mapping[str, object]) -> Recall:
    """R2.8: recall a product batch: its commodity batches, every delivery of them."""
    users.require(session, "recall")
    values = dict(values)
    values.setdefault("recall_no", next_number(session, Recall, "recall_no", f"ZH{today(session):%Y%m%d}"))
    record = create(session, "recall", dict(values, product_batch_id=batch.id), status="open")
    batch.status = "recalled"
    commodities = session.scalars(
        select(CommodityBatch).where(CommodityBatch.product_batch_id == batch.id).order_by(CommodityBatch.id)
    ).all()
    for commodity in commodities:
        commodity.status = "recalled"
        deliveries = select(Delivery).where(Delivery.commodity_batch_id == commodity.id).order_by(Delivery.id)
        for delivery in session.scalars(deliveries):
            session.add(RecallProgress(
                recall_id=record.id, delivery_id=delivery.id, notified_on=record.started_on, created_by=actor(session),
            ))
    session.flush()
    archives.file_warning(session, batch)
    return record


def record_return(session: Session, progress: RecallProgress, units, on: dt.date) -> None:
    users.require(session, "recall")
    delivery = session.get(Delivery, progress.delivery_id)
    units = ledger("recall_progress").field("units_returned").convert(units)
    if units is None or units < 0 or units > delivery.units:
        raise fail("units_returned", "召回数量", f"「召回数量」应在 0 与发货数量 {delivery.units} 件之间")
    progress.units_returned = units
    progress.returned_on = on
    session.flush()
    archives.file_warning(session, session.get(Recall, progress.recall_id).product_batch)


def close_recall(session: Session, record: Recall, *, regulator_opinion: str, corrective_measures: str) -> None:
    users.require(session, "recall")
    if not corrective_measures or not corrective_measures.strip():
        raise fail("corrective_measures", "整改措施", "「整改措施」不能为空（G§43）")
    record.regulator_opinion = regulator_opinion
    record.corrective_measures = corrective_measures.strip()
    record.status = "closed"
    session.flush()
    submit(session, record)
    archives.file_warning(session, record.product_batch)


def destroy(session: Session, values: Mapping[str, object]) -> Destruction:
    """Destroy recalled or non-conforming goods, with time, place, people, method.
    A lot is destroyed once, and never more than the factory holds of it (in
    stock and returned); all is checked before the record is written."""
    users.require(session, "recall")
    cleaned = ledger("destruction").clean(dict(values))
    batch = get_or_fail(session, ProductBatch, cleaned["product_batch_id"], "product_batch_id", "产品批号")
    if batch.status not in ("recalled", "nonconforming"):
        raise fail("product_batch_id", "产品批号", f"产品批「{batch.batch_no}」未召回或判定不合格，不能按销毁处理")
    commodity = None
    if cleaned.get("commodity_batch_id"):
        commodity = get_or_fail(session, CommodityBatch, cleaned["commodity_batch_id"], "commodity_batch_id", "商品批号")
        lock_rows(session, commodity)
        if commodity.product_batch_id != batch.id:
            raise fail("commodity_batch_id", "商品批号", f"商品批次「{commodity.lot_code}」不属于产品批「{batch.batch_no}」")
    _refuse_second_destruction(session, batch, commodity)
    units = cleaned.get("units")
    if units is not None and units <= 0:
        raise fail("units", "销毁数量", "「销毁数量」必须大于 0")
    if commodity is not None and units:
        there = commodity.units_on_hand + _returned(session, commodity)
        if units > there:
            raise fail("units", "销毁数量", f"「销毁数量」{units} 件超过商品批次「{commodity.lot_code}」在库与召回收回的 {there} 件")
    record = create(session, "destruction", values)
    if commodity is not None:
        commodity.status = "destroyed"
    submit(session, record)
    archives.file_warning(session, batch)
    return record


def _refuse_second_destruction(session: Session, batch: ProductBatch, commodity: CommodityBatch | None) -> None:
    where = (Destruction.commodity_batch_id == commodity.id if commodity is not None
             else (Destruction.product_batch_id == batch.id) & Destruction.commodity_batch_id.is_(None))
    earlier = session.scalars(select(Destruction).where(where).order_by(Destruction.id)).first()
    if earlier is not None:
        what = f"商品批次「{commodity.lot_code}」" if commodity is not None else f"产品批「{batch.batch_no}」"
        raise fail("commodity_batch_id" if commodity is not None else "product_batch_id",
                   "商品批号" if commodity is not None else "产品批号",
                   f"{what}已于 {earlier.destroyed_at:%Y-%m-%d %H:%M} 销毁，不能重复销毁")


def _returned(session: Session, commodity: CommodityBatch) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(RecallProgress.units_returned), 0))
        .join(Delivery, Delivery.id == RecallProgress.delivery_id)
        .where(Delivery.commodity_batch_id == commodity.id)
    )
