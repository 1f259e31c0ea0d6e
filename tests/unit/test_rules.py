"""The rules of issue 2 §4, each on SQLite and PostgreSQL.

A rule violation raises a user-facing error naming the field in Chinese, and
the caller's transaction is rolled back, so nothing is written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import UserError, ValidationError
from app.models import AdditiveUse, IncomingInspection, MaterialLot, SupplierDocument
from app.services import common, distribution, production, receiving

from .builders import base_batch, lot, packed_commodity, plant, receipt_values, release_inspection, released_commodity


def rows(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def refused(session, call, *args, **kwargs) -> UserError:
    """Run a service call that must be refused, in a savepoint that is then
    rolled back the way the application's transaction would be."""
    savepoint = session.begin_nested()
    with pytest.raises(UserError) as caught:
        call(*args, **kwargs)
    savepoint.rollback()
    return caught.value


# ------------------------------------------------------------- suppliers


def test_expired_licence_refuses_delivery_and_names_the_licence(session):
    p = plant(session)
    session.get(SupplierDocument, p.licence_id).valid_to = dt.date(2026, 11, 1)
    before = rows(session, IncomingInspection)
    error = refused(session, receiving.receive, session, receipt_values(p, p.soy, receipt_date="2026-11-10"))
    assert "SC10123010000011" in error.message and "2026-11-01" in error.message and "过期" in error.message
    assert error.errors[0].field == "supplier_id"
    assert rows(session, IncomingInspection) == before


def test_licence_valid_on_receipt_date_is_accepted_even_if_expired_since(session):
    p = plant(session)
    session.get(SupplierDocument, p.licence_id).valid_to = dt.date(2026, 11, 10)
    material_lot = lot(session, p, p.soy, receipt_date="2026-11-10")
    assert material_lot.status == "available"


def test_licence_not_covering_the_material_refuses_delivery(session):
    p = plant(session)
    salt = common.create(session, "material", dict(code="M099", name="食用盐", category="raw", unit="kg"))
    error = refused(session, receiving.receive, session, receipt_values(p, salt))
    assert "SC10123010000011" in error.message and "未涵盖" in error.message and "食用盐" in error.message


def test_unqualified_supplier_cannot_deliver(session):
    p = plant(session)
    p.supplier.status = "suspended"
    error = refused(session, receiving.receive, session, receipt_values(p, p.soy))
    assert "不是合格供方" in error.message


# ------------------------------------------------------------ dates, numbers


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        (dict(receipt_date="2026-11-21"), "receipt_date", "不能晚于今天"),
        (dict(production_date="2026-11-11"), "production_date", "不能晚于进货日期"),
        (dict(shelf_life_days=None, expiry_date="2026-10-01"), "expiry_date", "必须晚于生产日期"),
        (dict(quantity="-5"), "quantity", "「数量」"),
        (dict(quantity="abc"), "quantity", "应为数字"),
        (dict(production_date="2026-02-30"), "production_date", "应为日期"),
    ],
)
def test_dates_and_quantities_must_make_sense(session, overrides, field, words):
    p = plant(session)
    before = rows(session, MaterialLot)
    error = refused(session, receiving.receive, session, receipt_values(p, p.soy, **overrides))
    assert isinstance(error, ValidationError)
    assert any(e.field == field and words in e.message for e in error.errors), error.message
    assert rows(session, MaterialLot) == before


def test_credit_code_and_gtin_check_characters(session):
    plant(session)
    bad_code = refused(session, common.create, session, "customer", dict(
        name="某超市", address="上海", phone="021-1", credit_code="91310115MA1K4F8L3X",
    ))
    assert "统一社会信用代码" in bad_code.message and "校验" in bad_code.message
    product = session.scalar(select(production.Product).where(production.Product.code == "P02"))
    bad_gtin = refused(session, common.create, session, "product_spec", dict(
        product_id=product.id, spec="1L", net_content="1", gtin="6901234567891",
    ))
    assert "校验" in bad_gtin.message and bad_gtin.errors[0].field == "gtin"
    licence = refused(session, common.create, session, "enterprise", dict(
        name="x", credit_code="91310115MA1K4F8L3Q", address="x", licence_no="SC123", fonds_code="0002",
    ))
    assert any(e.field == "licence_no" for e in licence.errors)


def test_documents_the_material_needs_are_required(session):
    p = plant(session)
    p.soy.is_gmo = True
    error = refused(session, receiving.receive, session, receipt_values(p, p.soy))
    assert any(e.field == "gmo_cert_no" for e in error.errors)
    no_cert = refused(session, receiving.receive, session, receipt_values(p, p.sugar, certificate_no=None))
    assert any(e.field == "certificate_no" for e in no_cert.errors)


# ------------------------------------------------------------------ issuing


def test_issue_never_more_than_on_hand_and_bulk_ledger_closes_at_zero(session):
    p = plant(session)
    soy = lot(session, p, p.soy, quantity="100")
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    error = refused(session, production.feed_lot, session, batch, soy, "100.001", operator_id=p.person.id)
    assert "超过" in error.message and "100" in error.message
    production.feed_lot(session, batch, soy, "60", operator_id=p.person.id)
    production.feed_lot(session, batch, soy, "40", operator_id=p.person.id)
    assert soy.quantity_on_hand == 0 and soy.status == "closed"
    balances = [m.balance for m in sorted(soy_movements(session, soy), key=lambda m: m.id)]
    assert balances == [Decimal(100), Decimal(40), Decimal(0)]


def soy_movements(session, material_lot):
    from app.models import StockMovement

    return session.scalars(select(StockMovement).where(StockMovement.lot_id == material_lot.id)).all()


def test_expired_or_rejected_lot_cannot_be_issued(session):
    p = plant(session)
    expired = lot(session, p, p.sugar, shelf_life_days=None, expiry_date="2026-11-15", supplier_lot="S-1")
    rejected = lot(session, p, p.sugar, decision="rejected", supplier_lot="S-2")
    assert rejected.status == "rejected"
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    old = refused(session, production.feed_lot, session, batch, expired, "1", operator_id=p.person.id)
    assert "过期" in old.message and expired.lot_no in old.message
    bad = refused(session, production.feed_lot, session, batch, rejected, "1", operator_id=p.person.id)
    assert "拒收" in bad.message


def test_additive_feeding_goes_to_the_additive_ledger(session):
    p = plant(session)
    gdl = lot(session, p, p.additive, quantity="5", supplier_lot="GDL-1")
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    production.feed_lot(session, batch, gdl, "0.3", operator_id=p.person.id, purpose="凝固剂")
    uses = session.scalars(select(AdditiveUse).where(AdditiveUse.batch_id == batch.id)).all()
    assert [(u.quantity, u.purpose) for u in uses] == [(Decimal("0.3"), "凝固剂")]


# -------------------------------------------------------- CCP and release


def test_ccp_deviation_blocks_release_until_corrected(session):
    p = plant(session)
    soy = lot(session, p, p.soy)
    base = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    production.feed_lot(session, base, soy, "100", operator_id=p.person.id)
    reading = production.record_ccp(session, base, p.boil_ccp, "92", operator_id=p.person.id)
    assert reading.deviation
    production.complete_batch(session, base, "100")
    commodity = packed_commodity(session, p, base)
    release_inspection(session, p, commodity)
    blockers = distribution.release_blockers(session, commodity)
    assert len(blockers) == 1 and "煮浆" in blockers[0] and "纠偏" in blockers[0]
    error = refused(session, distribution.release, session, commodity, by=p.person.id)
    assert "煮浆" in error.message
    production.correct_deviation(session, reading, "延长煮浆时间并复测至 97 ℃", by=p.person.id)
    distribution.release(session, commodity, by=p.person.id)
    assert commodity.status == "released" and commodity.certificate_no


def test_release_needs_passed_release_inspection_and_label_check(session):
    p = plant(session)
    commodity = packed_commodity(session, p, base_batch(session, p, lot(session, p, p.soy)))
    assert distribution.release_blockers(session, commodity) == ["没有合格的出厂检验报告"]
    release_inspection(session, p, commodity, label_ok=False)
    assert distribution.release_blockers(session, commodity) == ["标签符合性查验未通过"]
    release_inspection(session, p, commodity)
    assert distribution.release_blockers(session, commodity) == []


def test_failed_inspection_makes_batch_nonconforming_with_warning_archive(session):
    from app.models import Archive

    p = plant(session)
    commodity = packed_commodity(session, p, base_batch(session, p, lot(session, p, p.soy)), units=10)
    milk = commodity.product_batch
    release_inspection(session, p, commodity, verdict="fail")
    assert milk.status == "nonconforming"
    warning = session.scalar(select(Archive).where(Archive.kind == "warning", Archive.product_batch_id == milk.id))
    assert warning is not None and warning.entries[0].ledger == "inspection"
    assert refused(session, distribution.release, session, commodity, by=p.person.id)


def test_inspection_conclusion_must_match_items(session):
    from app.services import quality

    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    error = refused(session, quality.inspect, session, dict(
        kind="semi_finished", batch_id=base.id, sampled_at="2026-11-18 15:00", conclusion="pass", inspector_id=p.person.id,
        reviewer_id=p.reviewer.id,
    ), [dict(item="蛋白质", result="2.1 g/100mL", verdict="fail")])
    assert "蛋白质" in error.message and error.errors[0].field == "conclusion"


# ------------------------------------------------------------- delivery


def test_delivery_needs_release_and_stock(session):
    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy), units=100)
    delivery = distribution.deliver(session, commodity, p.customer, 60, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    assert delivery.certificate_no == commodity.certificate_no and commodity.units_on_hand == 40
    error = refused(session, distribution.deliver, session, commodity, p.customer, 41, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    assert "超过" in error.message and error.errors[0].field == "units"


def test_mixing_cannot_take_more_than_the_source_batch_has(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy), quantity="80")
    milk = production.start_batch(session, dict(product_id=p.milk.id, production_date="2026-11-19"))
    error = refused(session, production.feed_batch, session, milk, base, "81", operator_id=p.person.id)
    assert base.batch_no in error.message and "结存" in error.message


def test_complete_needs_feeding(session):
    p = plant(session)
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    error = refused(session, production.complete_batch, session, batch, "10")
    assert "投料" in error.message


# ------------------------------------------------- store, recall, destruction


def test_finished_goods_store_keeps_running_stock(session):
    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy), units=100)
    common_values = dict(moved_at="2026-11-19 12:00", status="合格待售", handed_over_by=p.person.id)
    distribution.move_goods(session, commodity, p.store, "in", 100, common_values)
    out = distribution.move_goods(session, commodity, p.store, "out", 30, common_values)
    assert out.balance == 70
    error = refused(session, distribution.move_goods, session, commodity, p.store, "out", 71, common_values)
    assert "70" in error.message and p.store.name in error.message


def test_recall_reaches_every_delivery_and_ends_in_destruction(session):
    from app.models import Archive, RecallProgress

    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy), units=100)
    other = common.create(session, "customer", dict(name="华东学校食堂", address="上海市闵行区", phone="021-60000000"))
    for customer, units in ((p.customer, 30), (other, 20)):
        distribution.deliver(session, commodity, customer, units, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    batch = commodity.product_batch
    record = distribution.recall(session, batch, dict(started_on="2026-11-20", reason="消费者投诉异味", manager_id=p.person.id))
    assert batch.status == commodity.status == "recalled"
    progress = session.scalars(select(RecallProgress).where(RecallProgress.recall_id == record.id)).all()
    assert len(progress) == 2
    for row in progress:
        distribution.record_return(session, row, 20, dt.date(2026, 11, 20))
    error = refused(session, distribution.close_recall, session, record, regulator_opinion="同意", corrective_measures=" ")
    assert "整改措施" in error.message
    distribution.close_recall(session, record, regulator_opinion="同意召回方案", corrective_measures="更换密封圈并加强巡检")
    distribution.destroy(session, dict(
        product_batch_id=batch.id, commodity_batch_id=commodity.id, recall_id=record.id, destroyed_at="2026-11-20 15:00",
        place="厂区无害化处理间", method="破袋后无害化处理", units=90, people="王质检", supervisors="区市场监管所 李某",
    ))
    assert commodity.status == "destroyed"
    warning = session.scalar(select(Archive).where(Archive.kind == "warning", Archive.product_batch_id == batch.id))
    assert [e.ledger for e in warning.entries] == ["recall", "recall_progress", "destruction"]


def test_destruction_needs_a_recalled_or_nonconforming_batch(session):
    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy), units=100)
    error = refused(session, distribution.destroy, session, dict(
        product_batch_id=commodity.product_batch_id, destroyed_at="2026-11-20 15:00", place="x", method="x", people="x",
    ))
    assert "未召回" in error.message


def test_no_ccp_reading_after_completion(session):
    p = plant(session)
    batch = base_batch(session, p, lot(session, p, p.soy))
    error = refused(session, production.record_ccp, session, batch, p.boil_ccp, "98", operator_id=p.person.id)
    assert batch.batch_no in error.message and "已完工" in error.message
