"""R2.5, G§34–40: inspections of every kind — limits and computed verdicts,
the standards they are prefilled from, reviewer ≠ inspector, the hold a
failed inspection puts on its batch, and bad input that changes nothing.
Each on SQLite and PostgreSQL (the ``session`` fixture)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import PermissionDenied, UserError
from app.models import (
    Archive, AuditEntry, Inspection, InspectionItem, InspectionStandard, MaterialLot, RetainedSample,
)
from app.services import acting, audit, distribution, holds, production, quality, receiving, signatures, users
from app.services.limits import FAIL, PASS, Limit, explain, judge

from .builders import base_batch, lot, packed_commodity, plant, receipt_values

D = Decimal
PASSWORD = "correct-horse-9"


# ------------------------------------------------------------------ limits (no database)


@pytest.mark.parametrize(("limit", "result", "verdict"), [
    (Limit(maximum=D("13.0"), unit="%"), "12.6", PASS),
    (Limit(maximum=D("13.0"), unit="%"), "12.6 %", PASS),
    (Limit(maximum=D("13.0"), unit="%"), "13.0%", PASS),  # the limit itself conforms
    (Limit(maximum=D("13.0"), unit="%"), "15.6%", FAIL),
    (Limit(maximum=D("13.0"), unit="%"), "１５.６％", FAIL),  # typed with a full-width input method
    (Limit(minimum=D("3.0"), unit="g/100 g"), "3.5 g/100g", PASS),
    (Limit(minimum=D("3.0"), unit="g/100 g"), "2.1", FAIL),
    (Limit(minimum=D("1.5"), maximum=D("2.5"), unit="%"), "2.6", FAIL),
    (Limit(minimum=D("1.5"), maximum=D("2.5"), unit="%"), "1.5", PASS),
    (Limit(maximum=D("100000"), unit="CFU/g"), "<10 CFU/g", PASS),
    (Limit(maximum=D("100000"), unit="CFU/g"), "1.2×10⁵", FAIL),
    (Limit(maximum=D("100000"), unit="CFU/g"), "9.5x10^4", PASS),
    (Limit(maximum=D("100000"), unit="CFU/g"), "2.0E5", FAIL),
    (Limit(maximum=D("0.2"), unit="mg/kg"), "未检出", PASS),
    (Limit(minimum=D("0.05"), unit="mg/L"), "ND", FAIL),
    (Limit(minimum=D("3.0")), "<2", FAIL),
    (Limit(maximum=D("1")), ">2", FAIL),
    (Limit(expected="阴性"), "阴性", PASS),
    (Limit(expected="阴性"), "（-）", PASS),
    (Limit(expected="阴性"), "阳性", FAIL),
    (Limit(expected="未检出"), "N.D.", PASS),
    (Limit(expected="未检出"), "检出", FAIL),
    (Limit(), "符合", None),  # nothing to check: the inspector judges
])
def test_results_are_judged_against_their_limit(limit, result, verdict):
    assert judge(limit, result) == verdict


@pytest.mark.parametrize(("limit", "result", "reason"), [
    (Limit(maximum=D("13.0"), unit="%"), "很干", "应为数值"),
    (Limit(maximum=D("13.0"), unit="%"), "12 g", "单位「g」与标准要求的单位「%」不一致"),
    (Limit(minimum=D("3.0")), "<5", "不能判断是否达到下限 3"),
    (Limit(maximum=D("10")), ">5", "不能判断是否超过上限 10"),
    (Limit(maximum=D("10")), " ", "不能为空"),
])
def test_a_result_that_cannot_be_judged_says_why(limit, result, reason):
    with pytest.raises(ValueError, match=reason):
        judge(limit, result)


def test_limits_read_as_requirements_and_failures_are_explained():
    assert Limit(minimum=D("1.5"), maximum=D("2.5"), unit="%").text() == "1.5～2.5 %"
    assert Limit(maximum=D("13.000000"), unit="%").text() == "≤13 %"
    assert Limit(minimum=D("100000")).text() == "≥100000"
    assert explain(Limit(maximum=D("13.0"), unit="%"), "15.6%") == "15.6% 超过上限 13 %"
    assert explain(Limit(minimum=D("3.0"), unit="g/100 g"), "2.1") == "2.1 低于下限 3 g/100 g"
    assert explain(Limit(expected="阴性"), "阳性") == "「阳性」不符合规定结果「阴性」"


# ------------------------------------------------------------------ helpers


def rows(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def state(session) -> tuple:
    """What bad input must not change: the rows it could add, and the audit chain."""
    return (tuple(rows(session, m) for m in (Inspection, InspectionItem, RetainedSample, Archive, AuditEntry)),
            audit.verify(session.connection()))


def refused(session, call, *args, **kwargs) -> UserError:
    """Run a call that must be refused, in a savepoint rolled back as the
    application's transaction would be; the database is as it was."""
    before = state(session)
    savepoint = session.begin_nested()
    with pytest.raises(UserError) as caught:
        call(*args, **kwargs)
    savepoint.rollback()
    assert state(session) == before
    return caught.value


def standards(session, p, base):
    """What 豆浆基料 is inspected for when it leaves the cooker."""
    for values in (
        dict(item="感官", method="GB/T 22106", requirement="乳白或淡黄色，无异味"),
        dict(item="蛋白质", method="GB 5009.5", limit_min="3.0", unit="g/100 g"),
        dict(item="脲酶试验", method="GB/T 5009.183", expected="阴性"),
    ):
        quality.add_standard(session, dict(values, product_id=p.base.id, kind="semi_finished"))
    return quality.standards_for(session, "semi_finished", product_id=p.base.id)


def slip(p, batch, **changes) -> dict:
    values = dict(kind="semi_finished", batch_id=batch.id, sampled_at="2026-11-18 15:00", sample_quantity="500 mL",
                  sampling_method="出料口取样", inspector_id=p.person.id, reviewer_id=p.reviewer.id)
    return values | changes


def filled(found, **results) -> list[dict]:
    """The standard's items with results typed in (by item name); judged items conform."""
    return [dict(s.as_item(), result=results.get(s.item, "符合"), verdict=None if s.limit.checkable else "pass")
            for s in found]


# ------------------------------------------------------------------ standards


def test_standards_prefill_items_in_order_with_their_limits(session):
    p = plant(session)
    found = standards(session, p, p.base)
    assert [(s.item, s.requirement) for s in found] == [
        ("感官", "乳白或淡黄色，无异味"), ("蛋白质", "≥3 g/100 g"), ("脲酶试验", "阴性")]
    assert [s.limit.checkable for s in found] == [False, True, True]
    assert session.scalars(select(InspectionStandard.seq).order_by(InspectionStandard.seq)).all() == [1, 2, 3]
    assert quality.standards_for(session, "finished", product_id=p.base.id) == []


@pytest.mark.parametrize(("values", "field", "message"), [
    (dict(material_id="soy"), "material_id", "只能填写一个"),
    (dict(product_id=None), "product_id", "请填写「产品名称」或「物料名称」"),
    (dict(limit_min="5", limit_max="3"), "limit_min", "「下限」5 大于「上限」3"),
    (dict(limit_max="3", expected="未检出"), "expected", "只能填写一种"),
    (dict(item="蛋白质"), "item", "已在同一产品"),
    (dict(kind="incoming"), "kind", "进货检验的项目标准属于物料"),
])
def test_a_bad_standard_is_refused_at_its_field(session, values, field, message):
    p = plant(session)
    standards(session, p, p.base)
    values = dict(dict(product_id=p.base.id, kind="semi_finished", item="水分", limit_max="90", unit="%"), **values)
    if values.get("material_id") == "soy":
        values["material_id"] = p.soy.id
    error = refused(session, quality.add_standard, session, values)
    assert error.errors[0].field == field and message in error.message


# ------------------------------------------------------------------ verdicts


def test_verdicts_come_from_the_limits_and_the_conclusion_from_the_verdicts(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    found = standards(session, p, base)
    report = quality.inspect(session, slip(p, base), filled(found, 蛋白质="3.4 g/100 g", 脲酶试验="阴性"))
    assert report.conclusion == "pass" and base.status == "completed"
    assert [(i.item, i.verdict, i.limit_min, i.unit) for i in report.items] == [
        ("感官", "pass", None, None), ("蛋白质", "pass", D("3"), "g/100 g"), ("脲酶试验", "pass", None, None)]
    assert report.items[1].requirement == "≥3 g/100 g"  # written from the limit
    assert report.items[2].expected == "阴性"


def test_a_verdict_contrary_to_the_limit_is_refused(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    items = filled(standards(session, p, base), 蛋白质="2.1")
    items[1]["verdict"] = "pass"
    error = refused(session, quality.inspect, session, slip(p, base), items)
    assert "第 2 项检验项目「蛋白质」" in error.message and "应判定为「不合格」" in error.message


def test_unreadable_results_and_unjudged_items_are_refused_together(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    items = filled(standards(session, p, base), 蛋白质="偏低")
    items[0]["verdict"] = None
    error = refused(session, quality.inspect, session, slip(p, base), items)
    messages = [e.message for e in error.errors]
    assert messages == ["第 1 项检验项目「感官」：没有可自动判定的限量，请选择「单项判定」",
                        "第 2 项检验项目「蛋白质」：「检测结果」应为数值（如 12.5、<10、1.2×10³ 或 未检出）"]


def test_reviewer_is_needed_and_is_not_the_inspector(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    items = filled(standards(session, p, base), 蛋白质="3.4")
    error = refused(session, quality.inspect, session, slip(p, base, reviewer_id=p.person.id), items)
    assert error.errors[0].field == "reviewer_id" and "不能与「检验员」是同一人" in error.message
    values = slip(p, base)
    values.pop("reviewer_id")
    error = refused(session, quality.inspect, session, values, items)
    assert "「复核人」不能为空" in error.message


@pytest.mark.parametrize(("changes", "message"), [
    (dict(kind="in_process", process_step="卤煮"), "过程控制检验须填写「控制措施」"),
    (dict(kind="finished", sample_quantity=None), "成品检验须填写「抽样数量」"),
    (dict(sampled_at="2026-11-17 15:00"), "不能早于产品批"),
    (dict(sampled_at="2026-11-21 15:00"), "「取样时间」不能晚于现在"),
])
def test_the_sampling_slip_records_what_its_article_asks(session, changes, message):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    items = filled(standards(session, p, base), 蛋白质="3.4")
    error = refused(session, quality.inspect, session, slip(p, base, **changes), items)
    assert message in error.message


def test_finished_inspection_waits_for_the_batch_to_be_completed(session):
    p = plant(session)
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    error = refused(session, quality.inspect, session, slip(p, batch),
                    [dict(item="感官", result="符合", verdict="pass")])
    assert "尚未完工" in error.message and "过程控制检验" in error.message


def test_in_process_control_keeps_its_proficiency_evidence(session):
    p = plant(session)
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    report = quality.inspect(session, slip(
        p, batch, kind="in_process", process_step="煮浆", control_measures="温度不足时延长加热",
        proficiency_evidence="加标回收：回收率 98%；设备比对：与化学法偏差 0.05%"),
        [dict(item="可溶性固形物", result="8.2", limit_min="7", limit_max="9", unit="%")])
    assert report.conclusion == "pass" and "加标回收" in report.proficiency_evidence
    failed = quality.inspect(session, slip(
        p, batch, kind="in_process", process_step="煮浆", control_measures="温度不足时延长加热",
        proficiency_evidence="人员比对"), [dict(item="可溶性固形物", result="6.1", limit_min="7", unit="%")])
    assert failed.conclusion == "fail" and batch.status == "open"  # a control check corrects; it holds nothing


# ------------------------------------------------------------------ the hold


def test_a_failed_finished_inspection_holds_the_batch(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    commodity = packed_commodity(session, p, base, units=10)  # packed before the result came back
    milk = commodity.product_batch
    report = quality.inspect(session, dict(
        kind="finished", batch_id=milk.id, sampled_at="2026-11-19 14:00", sample_quantity="5 瓶",
        sampling_method="随机抽样", inspector_id=p.person.id, reviewer_id=p.reviewer.id,
    ), [dict(item="菌落总数", result="2.4×10⁵ CFU/mL", limit_max="100000", unit="CFU/mL"),
        dict(item="感官", result="符合", verdict="pass")])
    assert report.conclusion == "fail" and report.items[0].verdict == "fail"
    assert milk.status == "nonconforming"
    warning = session.scalar(select(Archive).where(Archive.kind == "warning", Archive.product_batch_id == milk.id))
    assert [e.ledger for e in warning.entries] == ["inspection"]
    reason = holds.hold_reason(session, milk)
    assert reason == (f"产品批「{milk.batch_no}」成品检验不合格（检验报告 {report.report_no}），已扣留，"
                      f"处置记入食品安全警示档案 {warning.archive_no}")
    # release is blocked, with the same words
    assert distribution.release_blockers(session, commodity)[0] == reason + "：不能放行"
    error = refused(session, distribution.release, session, commodity, by=p.reviewer.id)
    assert report.report_no in error.message and "不能放行" in error.message
    # so is feeding it into another batch, and packing more of it
    other = production.start_batch(session, dict(product_id=p.milk.id, production_date="2026-11-20"))
    error = refused(session, production.feed_batch, session, other, milk, "1", operator_id=p.person.id)
    assert error.errors[0].field == "source_batch_id" and error.message == reason + "：不能投入其他批次"
    error = refused(session, distribution.pack, session, milk, p.bottle, 1, dict(
        packed_from="2026-11-20 09:00", packed_to="2026-11-20 10:00", label_checked=True, operator_id=p.person.id))
    assert error.message == reason + "：不能包装"


def test_a_failed_semi_finished_inspection_holds_the_batch_from_feeding(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    quality.inspect(session, slip(p, base), filled(standards(session, p, base), 蛋白质="2.6", 脲酶试验="阳性"))
    assert base.status == "nonconforming"
    milk = production.start_batch(session, dict(product_id=p.milk.id, production_date="2026-11-19"))
    error = refused(session, production.feed_batch, session, milk, base, "10", operator_id=p.person.id)
    assert "半成品检验不合格" in error.message and "已扣留" in error.message


def test_a_failed_incoming_inspection_stops_its_lot(session):
    p = plant(session)
    soy = lot(session, p, p.soy)
    report = quality.inspect(session, dict(
        kind="incoming", receipt_id=soy.receipt_id, sampled_at="2026-11-10 10:00", sample_base="1000 kg",
        sampling_method="四分法", sample_quantity="2 kg", inspector_id=p.person.id, reviewer_id=p.reviewer.id,
    ), [dict(item="水分", result="15.6%", limit_max="13.0", unit="%")])
    assert report.conclusion == "fail" and report.material_id == p.soy.id
    assert soy.status == "rejected"
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    error = refused(session, production.feed_lot, session, batch, soy, "10", operator_id=p.person.id)
    assert "进货查验不合格" in error.message


def test_a_water_test_goes_to_the_safety_archive_of_its_month(session):
    p = plant(session)
    report = quality.inspect(session, dict(
        kind="water", sampled_at="2026-11-16 08:00", sampling_place="灌装间末端水龙头", sample_quantity="500 mL",
        inspector_id=p.person.id, reviewer_id=p.reviewer.id,
    ), [dict(item="总大肠菌群", result="未检出", expected="未检出"), dict(item="pH", result="7.2", limit_min="6.5",
                                                                    limit_max="8.5")])
    assert report.conclusion == "pass"
    archive = session.scalar(select(Archive).where(Archive.kind == "safety", Archive.period == "2026-11"))
    assert [(e.ledger, e.doc_no) for e in archive.entries] == [("inspection", report.report_no)]
    error = refused(session, quality.inspect, session, dict(
        kind="water", sampled_at="2026-11-16 08:00", sample_quantity="500 mL", inspector_id=p.person.id,
        reviewer_id=p.reviewer.id), [dict(item="pH", result="7.2")])
    assert [e.message for e in error.errors] == ["生产用水检验须填写「取样地点」",
                                                 "第 1 项检验项目「pH」：没有可自动判定的限量，请选择「单项判定」"]


def test_the_retained_sample_is_kept_with_its_inspection_or_not_at_all(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    items = filled(standards(session, p, base), 蛋白质="3.4")
    sample = dict(name="豆浆基料", spec="500 mL", quantity="2", unit="瓶", production_date="2026-11-18",
                  kept_on="2026-11-18", location="留样柜 A-1", disposal_date="2026-11-19", keeper_id=p.person.id)
    error = refused(session, quality.inspect, session, slip(p, base), items, sample=sample)
    assert "保质期满" in error.message  # expiry 2026-11-20: kept too briefly, so neither is saved
    report = quality.inspect(session, slip(p, base), items, sample=dict(sample, disposal_date="2026-11-21"))
    kept = session.scalars(select(RetainedSample).where(RetainedSample.batch_id == base.id)).one()
    assert kept.location == "留样柜 A-1" and report.batch_id == base.id
    archive = session.scalar(select(Archive).where(Archive.kind == "product", Archive.product_batch_id == base.id))
    assert {"inspection", "retained_sample"} <= {e.ledger for e in archive.entries}


# ------------------------------------------------------------------ who


def test_inspections_are_entered_by_inspectors_only(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    items = filled(standards(session, p, base), 蛋白质="3.4")
    inspector = users.create_user(session, "wang", "王质检", PASSWORD, ["inspector"], person_id=p.person.id)
    operator = users.create_user(session, "zhao", "赵操作", PASSWORD, ["operator"])
    acting.bind(session, acting.user(operator.id, operator.display_name))
    assert "无权录入记录" in refused(session, quality.inspect, session, slip(p, base), items).message
    acting.bind(session, None)
    assert "没有指明由谁操作" in refused(session, quality.inspect, session, slip(p, base), items).message
    acting.bind(session, acting.user(inspector.id, inspector.display_name))
    assert quality.inspect(session, slip(p, base), items).created_by == "王质检"


def test_the_report_is_signed_by_its_inspector_and_reviewed_by_another(session):
    p = plant(session)
    base = base_batch(session, p, lot(session, p, p.soy))
    report = quality.inspect(session, slip(p, base), filled(standards(session, p, base), 蛋白质="3.4"))
    users.create_user(session, "wang", "王质检", PASSWORD, ["inspector"], person_id=p.person.id)
    users.create_user(session, "li", "李复核", PASSWORD, ["quality_manager"], person_id=p.reviewer.id)
    users.create_user(session, "qian", "钱经理", PASSWORD, ["quality_manager"])
    with pytest.raises(PermissionDenied, match="应由检验员王质检本人签名"):
        signatures.sign(session, report, "li", PASSWORD, "编制")
    signatures.sign(session, report, "wang", PASSWORD, "编制")
    with pytest.raises(PermissionDenied, match="王质检已以「编制」签署.*「复核」须由另一人签名"):
        signatures.sign(session, report, "wang", PASSWORD, "复核")
    # the inspector's second user account (a quality manager's role) is still the inspector
    users.create_user(session, "wang2", "王质检（主管）", PASSWORD, ["quality_manager"], person_id=p.person.id)
    with pytest.raises(PermissionDenied, match="应由复核人李复核本人签名"):
        signatures.sign(session, report, "wang2", PASSWORD, "复核")
    signatures.sign(session, report, "li", PASSWORD, "复核")
    # A user not linked to staff is held to the second pair of eyes only.
    signatures.sign(session, report, "qian", PASSWORD, "批准")
    assert signatures.missing(session, report) == []


def test_who_wrote_a_record_does_not_review_it(session):
    p = plant(session)
    receipt = receiving.receive(session, receipt_values(p, p.soy))
    users.create_user(session, "qian", "钱经理", PASSWORD, ["quality_manager"])
    signatures.sign(session, receipt, "qian", PASSWORD, "操作")
    with pytest.raises(PermissionDenied, match="钱经理已以「操作」签署"):
        signatures.sign(session, receipt, "qian", PASSWORD, "复核")


def test_receipt_lots_keep_their_status_when_inspection_passes(session):
    p = plant(session)
    soy = lot(session, p, p.soy)
    quality.inspect(session, dict(
        kind="incoming", receipt_id=soy.receipt_id, sampled_at=dt.datetime(2026, 11, 10, 10), sample_base="1000 kg",
        sampling_method="四分法", sample_quantity="2 kg", inspector_id=p.person.id, reviewer_id=p.reviewer.id,
    ), [dict(item="水分", result="12.1", limit_max="13.0", unit="%")])
    assert session.get(MaterialLot, soy.id).status == "available"


def test_a_standard_row_entered_on_its_form_is_checked_when_saved_and_when_changed(session):
    from app.services import entry

    p = plant(session)
    standards(session, p, p.base)
    row_id = entry.save_new(session, "inspection_standard", dict(
        product_id=str(p.base.id), kind="semi_finished", item="水分", limit_max="92", unit="%"))
    assert session.get(InspectionStandard, row_id).seq == 4  # after the three already there
    error = refused(session, entry.amend, session, "inspection_standard", row_id, {"item": "蛋白质"})
    assert "已在同一产品" in error.message
    error = refused(session, entry.amend, session, "inspection_standard", row_id, {"limit_min": "95"})
    assert "大于「上限」92" in error.message


def test_columns_an_upgrade_added_leave_old_rows_hashes_alone():
    """Reports kept before migration 0006 still match their audit entries and
    signatures: its new columns count only when they hold a value."""
    from app.services.audit import canonical_row

    class Before:
        _mapping = {"id": 1, "item": "水分", "result": "12.1"}

    class After:
        _mapping = dict(Before._mapping, limit_min=None, limit_max=None, unit=None, expected=None)

    class Judged:
        _mapping = dict(After._mapping, limit_max=D("13.000000"), unit="%")

    assert canonical_row(After, "inspection_item") == canonical_row(Before, "inspection_item")
    assert canonical_row(Judged, "inspection_item") == dict(Before._mapping, limit_max="13", unit="%")
    assert "note" in canonical_row(type("Other", (), {"_mapping": {"id": 1, "note": None}}), "process_record")
