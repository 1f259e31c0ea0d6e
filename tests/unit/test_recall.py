"""Issue 13: a recall started from a trace with its scope frozen, progress per
customer, effectiveness, destruction guards and the close with the quality
manager's signature; the alerts it gives the home page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import PermissionDenied, UserError
from app.models import Archive, Base, CatalogueEntry, RecallCustomer, RecallScope, Signature
from app.services import alerts, common, distribution, recall, settings, users

from .builders import PASSWORD, lot, plant, released_commodity, staff


@pytest.fixture(autouse=True)
def quick_passwords(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def sold(session):
    """100 packs released; three customers bought 30, 20 and 10."""
    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy), units=100)
    school = common.create(session, "customer", dict(name="华东学校食堂", address="上海市闵行区", phone="021-60000000",
                                                     contact_person="赵老师"))
    shop = common.create(session, "customer", dict(name="街角便利店", address="上海市徐汇区", phone="021-70000000"))
    for customer, units in ((p.customer, 30), (school, 20), (shop, 10)):
        distribution.deliver(session, commodity, customer, units, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    return p, commodity


def started(session, p, commodity, level="三级"):
    return recall.start(session, commodity.lot_code, dict(level=level, reason="胀袋", source="客户投诉",
                                                           manager_id=p.person.id))


def snapshot(session) -> dict[str, int]:
    session.flush()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def customer_rows(session, record) -> dict[str, RecallCustomer]:
    return {r.name: r for r in session.scalars(select(RecallCustomer).where(RecallCustomer.recall_id == record.id))}


def test_start_freezes_the_scope_with_contacts_and_quantities(session, sold):
    p, commodity = sold
    record = started(session, p, commodity)
    assert record.query == commodity.lot_code and record.level == "三级"
    # 三级: notify within 72 h, finish within 30 working days (2026-11-20 is a Friday).
    assert record.notify_by == dt.datetime(2026, 11, 23, 16, 0)
    assert record.finish_by == dt.date(2027, 1, 1)
    scope = session.scalars(select(RecallScope).where(RecallScope.recall_id == record.id)).all()
    assert {s.number for s in scope} == {commodity.lot_code, commodity.product_batch.batch_no}
    lot_row = next(s for s in scope if s.commodity_batch_id)
    assert (lot_row.quantity, lot_row.in_stock) == (100, 40)
    rows = customer_rows(session, record)
    assert {n: r.units_shipped for n, r in rows.items()} == {"联华超市浦东店": 30, "华东学校食堂": 20, "街角便利店": 10}
    assert rows["华东学校食堂"].contact_person == "赵老师" and rows["华东学校食堂"].phone == "021-60000000"
    # Frozen: a later change of the customer's contacts does not change the recall.
    session.get(type(p.customer), rows["华东学校食堂"].customer_id).phone = "021-69999999"
    session.flush()
    assert customer_rows(session, record)["华东学校食堂"].phone == "021-60000000"
    assert commodity.status == "recalled" and commodity.product_batch.status == "recalled"
    assert recall.levels(session)["一级"] == (24, 10)


def test_deadlines_are_data_the_factory_changes(session, sold):
    p, commodity = sold
    settings.put(session, "recall_levels", {"一级": [12, 5], "二级": [48, 20], "三级": [72, 30]})
    record = started(session, p, commodity, level="一级")
    assert record.notify_by == dt.datetime(2026, 11, 21, 4, 0) and record.finish_by == dt.date(2026, 11, 27)
    with pytest.raises(UserError, match="召回级别与期限"):
        settings.put(session, "recall_levels", {"一级": [-1, 5]})


def test_a_second_open_recall_of_the_same_batch_and_an_unknown_level_are_refused(session, sold):
    p, commodity = sold
    before = snapshot(session)
    with pytest.raises(UserError, match="「召回级别」应为一级、二级、三级之一"):
        started(session, p, commodity, level="四级")
    assert snapshot(session) == before
    record = started(session, p, commodity)
    with pytest.raises(UserError, match=f"已在召回「{record.recall_no}」中"):
        started(session, p, commodity)


def test_progress_effectiveness_and_silent_customers(session, sold):
    p, commodity = sold
    record = started(session, p, commodity)
    rows = customer_rows(session, record)
    lianhua, school = rows["联华超市浦东店"], rows["华东学校食堂"]
    recall.notify(session, lianhua.id, "2026-11-20 15:00", "电话", "王质检")
    recall.confirm(session, lianhua.id, "2026-11-20")
    recall.account(session, lianhua.id, returned=25, held=3, destroyed=2)
    recall.notify(session, school.id, "2026-11-20 15:30", "传真", "王质检")
    recall.account(session, school.id, returned=10)
    state = recall.progress(session, record.id)
    by_name = {c.name: c for c in state.customers}
    assert by_name["联华超市浦东店"].effectiveness == Decimal("1")
    assert by_name["华东学校食堂"].effectiveness == Decimal("0.5")
    assert state.effectiveness == Decimal("0.6667") and recall.percent(state.effectiveness) == "66.7%"
    assert not any(c.silent for c in state.customers)  # the 72 hours are not over
    later = recall.progress(session, record.id, at=dt.datetime(2026, 11, 24, 9, 0))
    assert {c.name for c in later.customers if c.silent} == {"华东学校食堂", "街角便利店"}
    # The returns are on the deliveries: a destruction counts them per lot.
    assert distribution._returned(session, commodity) == 35


def test_bad_progress_is_refused_and_changes_nothing(session, sold):
    p, commodity = sold
    record = started(session, p, commodity)
    lianhua = customer_rows(session, record)["联华超市浦东店"]
    recall.account(session, lianhua.id, returned=5)
    before = snapshot(session)
    with pytest.raises(UserError, match="「退回数量」不能为负数"):
        recall.account(session, lianhua.id, returned=-1)
    with pytest.raises(UserError, match="合计 31 件，超过发给它的 30 件"):
        recall.account(session, lianhua.id, returned=31)
    with pytest.raises(UserError, match="「客户仍持有」不能为负数"):
        recall.account(session, lianhua.id, returned=5, held=-2)
    with pytest.raises(UserError, match="「通知时间」不能晚于现在"):
        recall.notify(session, lianhua.id, "2026-11-21 09:00", "电话", "王质检")
    with pytest.raises(UserError, match="「通知方式」不能为空"):
        recall.notify(session, lianhua.id, "2026-11-20 15:00", " ", "王质检")
    with pytest.raises(UserError, match="尚未通知"):
        recall.confirm(session, lianhua.id, "2026-11-20")
    assert snapshot(session) == before
    assert (lianhua.units_returned, lianhua.units_held, lianhua.notified_at) == (5, 0, None)


def test_destruction_once_and_never_more_than_there_is(session, sold):
    p, commodity = sold
    record = started(session, p, commodity)
    recall.account(session, customer_rows(session, record)["联华超市浦东店"].id, returned=30)
    values = dict(commodity_batch_id=commodity.id, destroyed_at="2026-11-20 15:00", place="厂区无害化处理间",
                  method="破袋后无害化处理", people="王质检", supervisors="区市场监管所 李某")
    before = snapshot(session)
    with pytest.raises(UserError, match="超过商品批次.*在库与召回收回的 70 件"):
        recall.destroy(session, record.id, dict(values, units=71))
    with pytest.raises(UserError, match="请选择本次召回范围内的商品批次"):
        recall.destroy(session, record.id, dict(values, commodity_batch_id=None, units=1))
    assert snapshot(session) == before and commodity.status == "recalled"
    recall.destroy(session, record.id, dict(values, units=70))
    assert commodity.status == "destroyed"
    before = snapshot(session)
    with pytest.raises(UserError, match="已于 2026-11-20 15:00 销毁，不能重复销毁"):
        recall.destroy(session, record.id, dict(values, units=1))
    # Returns already destroyed cannot be taken back out of the count.
    with pytest.raises(UserError, match="已销毁 30 件"):
        recall.account(session, customer_rows(session, record)["联华超市浦东店"].id, returned=10)
    assert snapshot(session) == before


def test_close_needs_a_reason_for_what_is_unaccounted_and_the_quality_manager(session, sold):
    p, commodity = sold
    people = staff(session, p)
    record = started(session, p, commodity)
    rows = customer_rows(session, record)
    for row in rows.values():
        recall.notify(session, row.id, "2026-11-20 15:00", "电话", "王质检")
    recall.account(session, rows["联华超市浦东店"].id, returned=30)
    recall.account(session, rows["华东学校食堂"].id, returned=18)
    close = dict(regulator_opinion="同意结束召回", corrective_measures="更换封口机加热条", username="qian",
                 password=PASSWORD)
    before = snapshot(session)
    with pytest.raises(UserError, match="华东学校食堂（差 2 件）、街角便利店（差 10 件）.*未能追回部分的说明"):
        recall.close(session, record.id, **close)
    with pytest.raises(UserError, match="「监管部门处理意见」不能为空"):
        recall.close(session, record.id, **dict(close, regulator_opinion=" ", unaccounted_reason="已售出食用"))
    with pytest.raises(PermissionDenied, match="须由质量负责人签名"):
        recall.close(session, record.id, **dict(close, username="wang", unaccounted_reason="已售出食用"))
    assert snapshot(session) == before and record.status == "open"
    assert people["qian"]
    recall.close(session, record.id, **dict(close, unaccounted_reason="便利店 10 件、食堂 2 件已售出食用，无不良反应报告"))
    assert record.status == "closed" and record.closed_on == dt.date(2026, 11, 20)
    signed = session.scalars(select(Signature).where(Signature.table_name == "recall", Signature.row_id == record.id))
    assert [(s.meaning, s.printed_name) for s in signed] == [("批准", "钱经理")]
    with pytest.raises(UserError, match="已结束，不能再修改"):
        recall.account(session, rows["街角便利店"].id, returned=1)
    archive_id, = recall.warning_archives(session, record.id)
    ledgers = session.scalars(select(CatalogueEntry.ledger).where(CatalogueEntry.archive_id == archive_id)).all()
    assert {"recall", "recall_scope", "recall_customer", "recall_progress"} <= set(ledgers)
    assert session.get(Archive, archive_id).kind == "warning"


def test_alerts_for_recall_deadlines_and_overdue_actions(session, sold):
    p, commodity = sold
    record = started(session, p, commodity)
    assert "app.services.recall:alerts" in alerts.PROVIDERS
    found = {a.kind: a for a in recall.alerts(session, dt.date(2026, 11, 24))}
    assert found["recall_notify"].severity == alerts.OVERDUE and "3 家客户尚未确认" in found["recall_notify"].title
    assert "recall_finish" not in found
    late = {a.kind: a for a in recall.alerts(session, dt.date(2027, 1, 2))}
    assert late["recall_finish"].severity == alerts.OVERDUE and record.recall_no in late["recall_finish"].title
    common.create(session, "corrective_action", dict(
        action_no="CA-001", raised_on="2026-11-20", recall_id=record.id, description="封口工序每小时抽检密封性",
        owner_id=p.person.id, due_on="2026-11-30"))
    due = [a for a in recall.alerts(session, dt.date(2026, 12, 1)) if a.kind == "corrective_action_due"]
    assert due and due[0].severity == alerts.OVERDUE and "CA-001" in due[0].title and "已逾期" in due[0].title
