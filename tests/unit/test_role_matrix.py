"""Every service that writes, prints or exports, run by a session naming nobody
and by each role: refused or done exactly as the role matrix says (R5.4)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.errors import PermissionDenied
from app.models import CCPReading, Delivery, RecallProgress
from app.services import (
    acting, archives, common, distribution, production, quality, receiving, safety, settings, suppliers, trace, users,
)

from .builders import base_batch, lot, packed_commodity, plant, receipt_values, release_inspection, released_commodity

PASSWORD = "role-matrix-1"


@dataclass(frozen=True)
class Operation:
    name: str
    action: str
    ledger: str | None
    run: Callable


def _state(session):
    """A factory with something on which every operation can act."""
    p = plant(session)
    soy = lot(session, p, p.soy)
    open_batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-19"))
    deviating = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-19"))
    production.feed_lot(session, deviating, soy, "10", operator_id=p.person.id)
    reading = production.record_ccp(session, deviating, p.boil_ccp, "90", operator_id=p.person.id)
    packed = packed_commodity(session, p, base_batch(session, p, soy))
    release_inspection(session, p, packed)
    sold = released_commodity(session, p, soy)
    delivery = distribution.deliver(session, sold, p.customer, 10, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    recalled = released_commodity(session, p, soy)
    distribution.deliver(session, recalled, p.customer, 10, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    recall = distribution.recall(session, recalled.product_batch, dict(
        started_on="2026-11-20", source="客户投诉", level="三级", reason="胀袋", manager_id=p.person.id))
    progress = session.scalar(select(RecallProgress).where(RecallProgress.recall_id == recall.id))
    pending = suppliers.add_supplier(session, dict(name="新供应商", address="上海市"))
    suppliers.add_document(session, pending, dict(kind="business_licence", number="BL-9", valid_from="2020-01-01"))
    suppliers.record_platform_check(session, pending, dict(platform="国家企业信用信息公示系统", checked_on="2026-11-01", result="正常"))
    return dict(p=p, soy=soy, open_batch=open_batch, deviating=deviating, reading=reading, packed=packed, sold=sold,
                delivery=delivery, recall=recall, progress=progress, pending=pending,
                archive=archives.product_archive(session, sold.product_batch))


OPERATIONS = [
    Operation("收货", "enter", "incoming_inspection",
              lambda s, st: receiving.receive(s, receipt_values(st["p"], st["p"].sugar, supplier_lot="S-9"))),
    Operation("开产品批", "enter", "product_batch",
              lambda s, st: production.start_batch(s, dict(product_id=st["p"].base.id, production_date="2026-11-20"))),
    Operation("投料", "enter", "feeding",
              lambda s, st: production.feed_lot(s, st["open_batch"], st["soy"], "5", operator_id=st["p"].person.id)),
    Operation("关键控制点监控", "enter", "ccp_reading",
              lambda s, st: production.record_ccp(s, st["open_batch"], st["p"].boil_ccp, "98", operator_id=st["p"].person.id)),
    Operation("纠偏", "amend", None,
              lambda s, st: production.correct_deviation(s, s.get(CCPReading, st["reading"].id), "重新煮浆", by=st["p"].person.id)),
    Operation("完工", "enter", "product_batch",
              lambda s, st: production.complete_batch(s, st["deviating"], "10")),
    Operation("检验", "enter", "inspection", lambda s, st: release_inspection(s, st["p"], st["packed"])),
    Operation("留样", "enter", "retained_sample", lambda s, st: quality.keep_sample(s, dict(
        batch_id=st["sold"].product_batch_id, name="原味豆浆", quantity="2", unit="瓶", production_date="2026-11-19",
        kept_on="2026-11-19", location="留样柜", disposal_date="2026-12-31", keeper_id=st["p"].person.id))),
    Operation("包装", "enter", "commodity_batch", lambda s, st: distribution.pack(
        s, st["sold"].product_batch, st["p"].bottle, 1, dict(packed_from="2026-11-19 12:00", packed_to="2026-11-19 12:30",
                                                             label_checked=True, operator_id=st["p"].person.id))),
    Operation("放行", "release", None, lambda s, st: distribution.release(s, st["packed"], by=st["p"].person.id)),
    Operation("销售", "enter", "delivery", lambda s, st: distribution.deliver(
        s, st["sold"], st["p"].customer, 5, dict(sale_date="2026-11-20", clerk_id=st["p"].person.id))),
    Operation("确认交付", "enter", "delivery", lambda s, st: distribution.confirm_delivery(
        s, s.get(Delivery, st["delivery"].id), "QS-1", "2026-11-20", "李收货")),
    Operation("发起召回", "recall", None, lambda s, st: distribution.recall(s, st["sold"].product_batch, dict(
        started_on="2026-11-20", source="抽检", level="三级", reason="标签错误", manager_id=st["p"].person.id))),
    Operation("召回退货", "recall", None,
              lambda s, st: distribution.record_return(s, s.get(RecallProgress, st["progress"].id), 5, dt.date(2026, 11, 20))),
    Operation("关闭召回", "recall", None, lambda s, st: distribution.close_recall(
        s, st["recall"], regulator_opinion="同意", corrective_measures="加强包装检查")),
    Operation("销毁", "recall", None, lambda s, st: distribution.destroy(s, dict(
        product_batch_id=st["recall"].product_batch_id, destroyed_at="2026-11-20 15:00", place="厂内", method="粉碎",
        people="王质检"))),
    Operation("准入供应商", "qualify", None, lambda s, st: suppliers.evaluate(s, st["pending"], dict(
        evaluated_on="2026-11-20", score="90", verdict="pass", conclusion="资质齐全", evaluator="质量负责人甲"),
        suppliers.Signer("u_quality_manager", PASSWORD))),
    Operation("暂停供货", "qualify", None, lambda s, st: suppliers.suspend(s, st["p"].supplier, "抽检不合格")),
    Operation("新增供应商", "enter", "supplier", lambda s, st: suppliers.add_supplier(s, dict(name="又一家", address="上海"))),
    Operation("安全记录", "enter", "water_monitoring", lambda s, st: safety.record(s, "water_monitoring", dict(
        sampled_at="2026-11-20 08:00", sampling_point="车间水龙头", ph="7.1", conclusion="合格",
        inspector_id=st["p"].person.id))),
    Operation("主数据", "enter", "customer",
              lambda s, st: common.create(s, "customer", dict(name="新客户", address="上海", phone="021-1"))),
    Operation("更正", "amend", None, lambda s, st: common.amend(
        s, st["delivery"], {"vehicle": "沪A·12345"}, "补记车辆")),
    Operation("设置", "configure", None, lambda s, st: settings.put(s, "mass_balance_tolerance", "0.03")),
    Operation("用户", "configure", None, lambda s, st: users.create_user(s, "extra", "另一人", PASSWORD, ["operator"])),
    Operation("打印案卷", "print", None, lambda s, st: _print(s, st)),
    Operation("导出台账", "export", "delivery", lambda s, st: _export(s)),
    Operation("导出追溯表", "export", None, lambda s, st: _trace_sheet(s, st)),
]


def _print(session, st):
    from app.reports.volume import print_volume

    print_volume(session, st["archive"].id, io.BytesIO())


def _export(session):
    import tempfile
    from pathlib import Path

    from app.reports.ledger_export import export_ledger

    with tempfile.TemporaryDirectory() as folder:
        export_ledger(session, "delivery", Path(folder) / "x.xlsx")


def _trace_sheet(session, st):
    import tempfile
    from pathlib import Path

    from app.reports.trace_sheet import export_trace

    with tempfile.TemporaryDirectory() as folder:
        export_trace(session, trace.trace(session, st["soy"].lot_no, "forward"), Path(folder) / "t.xlsx")


def _outcome(session, actor, operation, state) -> str:
    savepoint = session.begin_nested()
    acting.bind(session, actor)
    try:
        operation.run(session, state)
        session.flush()
        return "done"
    except PermissionDenied:
        return "refused"
    finally:
        savepoint.rollback()
        acting.bind(session, acting.system("tester"))


def test_every_service_follows_the_role_matrix(session):
    state = _state(session)
    actors = {"nobody": None}
    for role in users.ROLES:
        user = users.create_user(session, f"u_{role}", f"{users.ROLES[role]}甲", PASSWORD, [role])
        actors[role] = acting.user(user.id, user.display_name)
    wrong = []
    for operation in OPERATIONS:
        assert _outcome(session, acting.system("tester"), operation, state) == "done", operation.name
        for role, actor in actors.items():
            expected = "done" if actor is not None and users.may({role}, operation.action, operation.ledger) else "refused"
            got = _outcome(session, actor, operation, state)
            if got != expected:
                wrong.append(f"{operation.name} by {role}: {got}, expected {expected}")
    assert wrong == []


def test_nobody_changes_nothing_even_outside_the_services(session):
    from app.models import Customer

    p = plant(session)
    acting.bind(session, None)
    session.get(Customer, p.customer.id).phone = "021-99999999"
    with pytest.raises(PermissionDenied, match="没有指明由谁操作"):
        session.flush()
