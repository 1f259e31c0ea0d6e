"""The inspection window on a factory's first day (R2.5, G§34–40): an empty
database, the master data and the staff entered through the services, an
inspector logged in. Through the real screens: an incoming inspection from
the receipt's window, a water test from the inspection ledger's New, an
in-process control check and a finished-product inspection from the batch
workbench — the last with a failing item, shown in red before saving, which
holds the batch: the release desk and feeding refuse it, and the window
points to its warning archive. Bad input writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from app import clock
from app.errors import PermissionDenied, UserError
from app.ledgers import ledger
from app.models import (
    Archive, AuditEntry, CommodityBatch, Inspection, InspectionItem, MaterialLot, ProductBatch, RetainedSample,
)
from app.services import audit, common, distribution, production, quality, receiving, suppliers, users
from app.ui.batch_screen import BatchWorkbench
from app.ui.inspection_screen import InspectionDialog
from app.ui.ledger_page import LedgerPage
from app.ui.record_dialog import RecordDialog
from app.ui.release_screen import ReleaseDesk
from app.ui.workflow_kit import RED_BG

from .test_signature_pad import signature

PASSWORD = "correct-horse-9"
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def opened(monkeypatch):
    """Every inspection window a screen opens, in order."""
    windows = []
    real = InspectionDialog.open.__func__

    def open_(cls, *args, **kwargs):
        windows.append(real(cls, *args, **kwargs))
        return windows[-1]

    monkeypatch.setattr(InspectionDialog, "open", classmethod(open_))
    return windows


def as_system(ctx, fn):
    return ctx.write(fn, as_system="开办")(None)


def first_day(ctx) -> dict:
    """What a factory enters before its first inspection, through the services."""
    from stdnum.cn import uscc

    def code(body):
        return body + uscc.calc_check_digit(body)

    def build(s):
        common.create(s, "enterprise", dict(name="上海新开豆制品有限公司", credit_code=code("91310117MA1K3P8Q2"),
                                            address="上海市松江区", licence_no="SC12531011700368", fonds_code="0001"))
        zhou = common.create(s, "person", dict(employee_no="E1", name="周晓燕", post="inspection"))
        chen = common.create(s, "person", dict(employee_no="E2", name="陈美琴", post="quality"))
        worker = common.create(s, "person", dict(employee_no="E3", name="张伟", post="production"))
        soy = common.create(s, "material", dict(code="M1", name="非转基因大豆", category="agricultural", unit="kg"))
        water = common.create(s, "material", dict(code="M2", name="生产用水", category="water", unit="kg"))
        supplier = suppliers.add_supplier(s, dict(name="黑龙江北垦粮油有限公司", address="黑龙江省嫩江市",
                                                  credit_code=code("91230100MA1B2C3D4")))
        suppliers.add_document(s, supplier, dict(kind="business_licence", number="BL-1", valid_from="2020-01-01"))
        suppliers.add_document(s, supplier, dict(kind="food_production_licence", number="SC10123010000011",
                                                 valid_from="2022-01-01", valid_to="2028-06-30"), [soy.id])
        suppliers.record_platform_check(s, supplier, dict(platform="国家企业信用信息公示系统", checked_on="2026-11-01",
                                                          result="正常"))
        suppliers.evaluate(s, supplier, dict(evaluated_on="2026-11-01", score="90", verdict="pass",
                                             conclusion="资质齐全", evaluator="陈美琴"))
        milk = common.create(s, "product", dict(code="DJ", name="原味豆浆", kind="finished", shelf_life_days=7,
                                                storage_condition="chilled"))
        bottle = common.create(s, "product_spec", dict(product_id=milk.id, spec="250 mL/瓶", net_content="0.25"))
        for values in (
            dict(material_id=soy.id, kind="incoming", item="水分", method="GB 5009.3", limit_max="13.0", unit="%"),
            dict(material_id=water.id, kind="water", item="pH", method="GB/T 5750.4", limit_min="6.5", limit_max="8.5"),
            dict(material_id=water.id, kind="water", item="总大肠菌群", method="GB/T 5750.12", expected="未检出"),
            dict(product_id=milk.id, kind="in_process", item="可溶性固形物", method="折光仪", limit_min="7",
                 limit_max="9", unit="%"),
            dict(product_id=milk.id, kind="finished", item="感官", method="GB/T 22106", requirement="无异味，无杂质"),
            dict(product_id=milk.id, kind="finished", item="蛋白质", method="GB 5009.5", limit_min="2.0",
                 unit="g/100 g"),
            dict(product_id=milk.id, kind="finished", item="菌落总数", method="GB 4789.2", limit_max="100000",
                 unit="CFU/mL"),
        ):
            quality.add_standard(s, values)
        receipt = receiving.receive(s, dict(
            material_id=soy.id, supplier_id=supplier.id, quantity="500", unit="kg", production_date="2026-10-01",
            supplier_lot="BK-2610", shelf_life_days=365, receipt_date="2026-11-22", certificate_kind="第三方检验报告",
            certificate_no="BK-JC-1", decision="accepted", inspector_id=zhou.id,
        ))
        lot = s.scalar(select(MaterialLot).where(MaterialLot.receipt_id == receipt.id))
        batch = production.start_batch(s, dict(product_id=milk.id, production_date="2026-11-22", operator_id=worker.id))
        production.feed_lot(s, batch, lot, "100", operator_id=worker.id, fed_at=dt.datetime(2026, 11, 22, 7, 0))
        inspector = users.create_user(s, "zhou", "周晓燕", PASSWORD, ["inspector"], person_id=zhou.id)
        users.create_user(s, "chen", "陈美琴", PASSWORD, ["quality_manager"], person_id=chen.id)
        return dict(receipt=receipt.id, batch=batch.id, batch_no=batch.batch_no, bottle=bottle.id, worker=worker.id,
                    milk=milk.id, inspector=inspector.id, zhou=zhou.id, chen=chen.id)

    return as_system(ctx, build)


def state(ctx) -> tuple:
    with ctx.read() as session:
        counts = tuple(session.scalar(select(func.count()).select_from(m))
                       for m in (Inspection, InspectionItem, RetainedSample, Archive, AuditEntry))
        return counts, audit.verify(session.connection())


def ready(qtbot, ctx, dialog: InspectionDialog) -> InspectionDialog:
    qtbot.addWidget(dialog)
    ctx.runner.settle()
    assert dialog.subject is not None or dialog.kind_code == "water"
    return dialog


def fill(dialog: InspectionDialog, fields: dict[str, str], results: dict[str, str]) -> None:
    for name, text in fields.items():
        dialog.fields[name].setText(text)
    for item, text in results.items():
        dialog.items.set_result(dialog.items.row_of(item), text)


def save(qtbot, ctx, dialog: InspectionDialog) -> None:
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    ctx.runner.settle()


def test_a_first_day_of_inspections(qtbot, empty_ctx, opened):
    ctx = empty_ctx
    plant = first_day(ctx)
    ctx.log_in(plant["inspector"])

    # --- incoming: from the receipt's own window (G§35) -------------------------------
    receipt = RecordDialog.open(ctx, "incoming_inspection", plant["receipt"])
    qtbot.addWidget(receipt)
    qtbot.mouseClick(receipt.inspect_button, Qt.MouseButton.LeftButton)
    incoming = ready(qtbot, ctx, opened[-1])
    assert incoming.kind_code == "incoming" and incoming.kind.count() == 1
    assert incoming.inspector.current_id() == plant["zhou"]  # the inspector logged in
    assert incoming.reviewer.current_id() == plant["chen"]
    assert "BK-2610" in incoming.facts.text()
    assert [incoming.items.text(0, c) for c in range(3)] == ["水分", "GB 5009.3", "≤13 %"]
    fill(incoming, {"sample_base": "500 kg（10 袋）", "sampling_method": "四分法", "sample_quantity": "2 kg"},
         {"水分": "12.1%"})
    assert incoming.items.table.item(0, 4).text() == "合格"
    save(qtbot, ctx, incoming)
    assert incoming.outcome.passed and "已保存：合格" in incoming.result.text()

    # --- water: the inspection ledger's New opens the same window (G§37) --------------
    page = LedgerPage(ctx, ledger("inspection"))
    qtbot.addWidget(page)
    assert page.new_button.isEnabled()
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    water = ready(qtbot, ctx, opened[-1])
    water.choose_kind("water")
    ctx.runner.settle()
    assert [water.items.text(r, 0) for r in range(water.items.table.rowCount())] == ["pH", "总大肠菌群"]
    fill(water, {"sample_quantity": "500 mL"}, {"pH": "7.2", "总大肠菌群": "未检出"})
    before = state(ctx)
    save(qtbot, ctx, water)  # no sampling place: the service names what G§37 asks for
    assert water.outcome is None and "生产用水检验须填写「取样地点」" in water.error.text()
    assert state(ctx) == before
    water.fields["sampling_place"].setText("灌装间末端水龙头")
    save(qtbot, ctx, water)
    assert water.outcome.passed
    assert page.model.rowCount() == 2  # the page shows the new report

    # --- in-process control with its proficiency evidence, from the workbench (G§36) ---
    bench = BatchWorkbench(ctx)
    qtbot.addWidget(bench)
    ctx.runner.settle()
    bench.select_batch(plant["batch_no"])
    ctx.runner.settle()
    assert bench.quality.in_process_button.isEnabled() and not bench.quality.product_button.isEnabled()
    qtbot.mouseClick(bench.quality.in_process_button, Qt.MouseButton.LeftButton)
    control = ready(qtbot, ctx, opened[-1])
    assert control.kind_code == "in_process" and control.evidence.isVisible()
    fill(control, {"process_step": "调配", "sample_quantity": "100 mL"}, {"可溶性固形物": "8.1"})
    control.evidence.measures.setText("超出范围时补加糖或水调整，复测合格后灌装")
    control.evidence.boxes["设备比对"].setChecked(True)
    control.evidence.detail.setText("折光仪与烘干法比对，偏差 0.1%（2026-11-01）")
    save(qtbot, ctx, control)
    assert control.outcome.passed
    ctx.runner.settle()
    assert [r.kind for r in bench.data.detail.inspections] == ["过程控制检验"]

    # --- the batch is completed and packed; its finished inspection fails (G§39) -------
    def complete_and_pack(s):
        batch = s.get(ProductBatch, plant["batch"])
        production.complete_batch(s, batch, "100", finished_at=dt.datetime(2026, 11, 22, 9, 0))
        from app.models import ProductSpec

        return distribution.pack(s, batch, s.get(ProductSpec, plant["bottle"]), 40, dict(
            packed_from="2026-11-22 09:10", packed_to="2026-11-22 09:40", label_checked=True,
            operator_id=plant["worker"])).lot_code

    lot_code = as_system(ctx, complete_and_pack)
    bench.reload()
    ctx.runner.settle()
    assert bench.quality.product_button.isEnabled()
    qtbot.mouseClick(bench.quality.product_button, Qt.MouseButton.LeftButton)
    final = ready(qtbot, ctx, opened[-1])
    assert final.kind_code == "finished" and final.spec.currentText() == "250 mL/瓶"
    fill(final, {"sample_quantity": "5 瓶", "sampling_method": "随机抽样"},
         {"蛋白质": "2.6 g/100 g", "菌落总数": "2.4×10⁵ CFU/mL"})
    final.items.judge(final.items.row_of("感官"), "pass")
    failing = final.items.row_of("菌落总数")
    # shown before anything is saved: red, with its limit
    assert final.items.table.item(failing, 4).text() == "不合格"
    assert final.items.table.item(failing, 3).background().color() == RED_BG
    assert "菌落总数：2.4×10⁵ CFU/mL 超过上限 100000 CFU/mL" in final.items.summary.text()
    assert "不合格" in final.conclusion.text()

    # bad input first: the reviewer is the inspector — refused on the spot, nothing written
    before = state(ctx)
    final.reviewer.select_id(plant["zhou"])
    assert "检验员以外" in final.people_error.text()
    save(qtbot, ctx, final)
    assert final.outcome is None and "检验员以外" in final.error.text()
    final.reviewer.select_id(plant["chen"])
    final.fields["sample_quantity"].clear()  # and then what G§39 asks for is missing
    save(qtbot, ctx, final)
    assert final.outcome is None and "成品检验须填写「抽样数量」" in final.error.text()
    assert state(ctx) == before

    final.fields["sample_quantity"].setText("5 瓶")
    final.sample_box.setChecked(True)
    final.sample_box.quantity.setText("2")
    final.sample_box.unit.setText("瓶")
    final.sample_box.location.setText("留样柜 A-1")
    save(qtbot, ctx, final)
    outcome = final.outcome
    assert not outcome.passed and outcome.hold and "已扣留" in outcome.hold
    assert "已扣留" in final.result.text() and final.archive_button.isVisible()

    with ctx.read() as session:
        batch = session.get(ProductBatch, plant["batch"])
        assert batch.status == "nonconforming"
        assert session.scalar(select(func.count()).select_from(RetainedSample)) == 1
        commodity = session.scalar(select(CommodityBatch).where(CommodityBatch.lot_code == lot_code))
        assert distribution.release_blockers(session, commodity)[0] == outcome.hold + "：不能放行"

    # the workbench says so; feeding it into another batch is refused with the same words
    ctx.runner.settle()
    assert outcome.hold in bench.header.text() and not bench.quality.hold.isHidden()
    with pytest.raises(UserError) as refused:
        as_system(ctx, lambda s: production.feed_batch(
            s, production.start_batch(s, dict(product_id=plant["milk"], production_date="2026-11-22")),
            s.get(ProductBatch, plant["batch"]), "1", operator_id=plant["worker"]))
    assert refused.value.message == outcome.hold + "：不能投入其他批次"

    # the release desk shows the hold and offers no release
    desk = ReleaseDesk(ctx)
    qtbot.addWidget(desk)
    ctx.runner.settle()
    desk.select(lot_code)
    ctx.runner.settle()
    assert "已扣留" in desk.blockers.text() and not desk.release_button.isEnabled()

    # the warning archive, from the window
    browser = final.open_warning_archive()
    qtbot.addWidget(browser)
    ctx.runner.settle()
    assert browser.archive["kind"] == "warning" and browser.archive["id"] == outcome.warning_archive_id
    assert [e["ledger"] for e in browser.archive["entries"]] == ["inspection"]

    # the inspector signs the report as its author (编制)
    sign = final.open_sign_dialog()  # a child of the window: it goes when the window goes
    sign.meaning.setCurrentText("编制")
    sign.username.setText("zhou")
    sign.password.setText(PASSWORD)
    signature(sign.pad)
    qtbot.mouseClick(sign.sign_button, Qt.MouseButton.LeftButton)
    ctx.runner.settle()
    assert "编制：周晓燕 有效" in final.signature_state.text() and "复核：— 缺少" in final.signature_state.text()


def test_a_session_naming_nobody_enters_nothing(qtbot, empty_ctx):
    ctx = empty_ctx
    plant = first_day(ctx)
    ctx.acting = None  # logged out
    dialog = InspectionDialog(ctx, "incoming", receipt_id=plant["receipt"])
    qtbot.addWidget(dialog)
    ctx.runner.settle()
    assert dialog.save_button.isHidden() and "不能录入" in dialog.error.text()
    with pytest.raises(PermissionDenied, match="没有指明由谁操作"):
        ctx.write(lambda s: quality.inspect(s, dict(kind="water", sampled_at=clock.now(), sampling_place="x",
                                                    sample_quantity="1", inspector_id=plant["zhou"],
                                                    reviewer_id=plant["chen"]),
                                            [dict(item="pH", result="7", verdict="pass")]))(None)
