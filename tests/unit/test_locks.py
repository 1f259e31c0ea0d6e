"""Records change only by amendment once they are final (R5.1): a completed
batch's records, safety records, CCP limits; the feeding keeps the paper's
time and the hand-over; the buyer's confirmation is its own action."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import RecordLocked, RetentionError, UserError, ValidationError
from app.models import Amendment, CCPReading, CriticalControlPoint, Feeding, StockMovement, WaterMonitoring
from app.services import common, distribution, entry, production, safety

from .builders import NOW, base_batch, lot, plant, released_commodity


def amendments(session, row) -> int:
    return session.scalar(select(func.count()).select_from(Amendment).where(
        Amendment.table_name == row.__table__.name, Amendment.row_id == row.id))


def test_records_of_a_completed_batch_change_only_by_amendment(session):
    p = plant(session)
    batch = base_batch(session, p, lot(session, p, p.soy))
    feeding = session.scalars(select(Feeding).where(Feeding.batch_id == batch.id)).one()
    with pytest.raises(RecordLocked, match="已完工锁定"), session.begin_nested():
        feeding.method = "人工投放"
        session.flush()
    common.amend(session, feeding, {"method": "人工投放"}, "按纸质投料单补记")
    assert feeding.method == "人工投放" and amendments(session, feeding) == 1
    with pytest.raises((RecordLocked, RetentionError), match="不能删除"), session.begin_nested():
        session.delete(feeding)
        session.flush()


def test_an_open_batch_records_may_still_be_corrected_in_place(session):
    p = plant(session)
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    feeding = production.feed_lot(session, batch, lot(session, p, p.soy), "10", operator_id=p.person.id)
    feeding.method = "管道泵入"
    session.flush()
    assert feeding.method == "管道泵入" and amendments(session, feeding) == 0


def test_a_deviation_is_corrected_after_completion_without_amendment(session):
    p = plant(session)
    soy = lot(session, p, p.soy)
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    production.feed_lot(session, batch, soy, "10", operator_id=p.person.id)
    reading = production.record_ccp(session, batch, p.boil_ccp, "90", operator_id=p.person.id)
    production.complete_batch(session, batch, "10")
    production.correct_deviation(session, reading, "重新煮浆至 98 ℃", by=p.person.id)
    assert session.get(CCPReading, reading.id).corrective_action == "重新煮浆至 98 ℃"


def test_safety_records_and_ccp_limits_are_locked_once_saved(session):
    p = plant(session)
    water = safety.record(session, "water_monitoring", dict(
        sampled_at="2026-11-20 08:00", sampling_point="车间水龙头", ph="7.1", conclusion="合格", inspector_id=p.person.id))
    with pytest.raises(UserError, match="理由"):
        entry.amend(session, "water_monitoring", water.id, {"ph": "7.2"})
    entry.amend(session, "water_monitoring", water.id, {"ph": "7.2"}, "抄录错误")
    assert session.get(WaterMonitoring, water.id).ph == Decimal("7.2") and amendments(session, water) == 1
    ccp = session.get(CriticalControlPoint, p.boil_ccp.id)
    with pytest.raises(RecordLocked, match="保存后锁定"), session.begin_nested():
        ccp.lower_limit = Decimal("90")
        session.flush()
    common.amend(session, ccp, {"lower_limit": "96"}, "工艺验证后提高下限")
    line = session.scalars(select(Amendment).where(Amendment.table_name == "ccp")).one()
    assert (line.field, line.old_value, line.new_value, line.reason) == ("lower_limit", "95", "96", "工艺验证后提高下限")


def test_feeding_keeps_the_paper_time_and_the_hand_over(session):
    p = plant(session)
    soy = lot(session, p, p.soy)
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    paper = dt.datetime(2026, 11, 18, 7, 30)
    feeding = production.feed_lot(session, batch, soy, "10", operator_id=p.person.id, fed_at=paper,
                                  handed_over_by=p.person.id)
    movement = session.scalars(select(StockMovement).where(StockMovement.batch_id == batch.id)).one()
    assert feeding.fed_at == paper and movement.moved_at == paper
    assert (movement.handed_over_by, movement.received_by) == (p.person.id, p.person.id)
    before = session.scalar(select(func.count()).select_from(Feeding))
    for when, said in ((NOW + dt.timedelta(hours=1), "不能晚于现在"), (dt.datetime(2026, 11, 9, 8, 0), "进货日期")):
        with pytest.raises(ValidationError, match=said) as caught:
            production.feed_lot(session, batch, soy, "1", operator_id=p.person.id, fed_at=when)
        assert caught.value.errors[0].field == "fed_at"
    assert session.scalar(select(func.count()).select_from(Feeding)) == before


def test_the_buyer_confirms_a_delivery_by_its_own_action(session):
    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy))
    with pytest.raises(UserError, match="确认交付"):
        distribution.deliver(session, commodity, p.customer, 5, dict(
            sale_date="2026-11-20", clerk_id=p.person.id, confirmed=True, confirmation_no="QS-0"))
    delivery = distribution.deliver(session, commodity, p.customer, 5, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    for args, field in ((("", "2026-11-20", "李收货"), "confirmation_no"), (("QS-1", "2026-11-19", "李收货"), "confirmed_on"),
                        (("QS-1", "2026-11-21", "李收货"), "confirmed_on"), (("QS-1", "2026-11-20", ""), "confirmed_by")):
        with pytest.raises(ValidationError) as caught:
            distribution.confirm_delivery(session, delivery, *args)
        assert caught.value.errors[0].field == field and not delivery.confirmed
    distribution.confirm_delivery(session, delivery, "QS-1", "2026-11-20", "李收货")
    assert (delivery.confirmed, delivery.confirmation_no, delivery.confirmed_on, delivery.confirmed_by) == (
        True, "QS-1", dt.date(2026, 11, 20), "李收货")
    with pytest.raises(UserError, match="已于 2026-11-20 确认交付"):
        distribution.confirm_delivery(session, delivery, "QS-2", "2026-11-20", "李收货")
