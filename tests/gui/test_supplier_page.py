"""Day one of a new supplier, in the window (R1.2, G§14–16): the purchaser
enters it with its licences and a platform check, the quality manager admits
it with a signed evaluation, the warehouse keeper receives from it; once
suspended, the receipt form says why before anything else is typed.

Starts from an empty database with real users logged in. Every bad input
leaves every table as it was and the audit chain intact.
"""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from app.models import Base, IncomingInspection, MaterialLot, Signature, Supplier, SupplierEvaluation
from app.services import audit, common, users
from app.ui.dialogs import Dialogs
from app.ui.main_window import MainWindow
from app.ui.record_dialog import RecordDialog
from app.ui.supplier_page import SupplierPage

from tests.unit.builders import credit_code

from .test_signature_pad import signature

PASSWORD = "correct-horse-9"

# Windows shown offscreen say so (environment.md).
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(autouse=True)
def close_without_asking(monkeypatch):
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda cls, *args: True))


OPENED: list = []


@pytest.fixture(autouse=True)
def close_windows():
    """Record windows delete themselves when saved; the others are closed here."""
    yield
    while OPENED:
        window = OPENED.pop()
        if shiboken6.isValid(window):
            window.close()


def keep(window):
    OPENED.append(window)
    return window


def snapshot(ctx) -> dict[str, int]:
    """Rows of every table; the audit chain checked on the way."""
    with ctx.engine.connect() as connection:
        assert audit.verify(connection) == []
        return {table.name: connection.execute(select(func.count()).select_from(table)).scalar()
                for table in Base.metadata.sorted_tables}


def day_one(ctx) -> dict[str, int]:
    """What the administrator sets up on an empty database: the people and their users."""
    def setup(session):
        common.create(session, "enterprise", dict(
            name="上海测试豆制品有限公司", credit_code=credit_code("91310115MA1K4F8L3"), address="上海市浦东新区",
            licence_no="SC11131011500017", fonds_code="0001"))
        keeper = common.create(session, "person", dict(employee_no="C01", name="陈库管", post="storage"))
        return {
            "keeper_person": keeper.id,
            "qm": users.create_user(session, "qm", "李质量", PASSWORD, ["quality_manager"]).id,
            "buyer": users.create_user(session, "buyer", "周采购", PASSWORD, ["purchaser"]).id,
            "keeper": users.create_user(session, "keeper", "陈库管", PASSWORD, ["warehouse_keeper"]).id,
        }

    return ctx.write(setup, as_system="管理员")(None)


def open_page(qtbot, ctx, user_id) -> SupplierPage:
    """The supplier page as the main window builds it for this user."""
    ctx.log_in(user_id)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    page = window.navigate("supplier")
    assert isinstance(page, SupplierPage)
    return page


def fill_and_save(qtbot, ctx, dialog: RecordDialog, **values) -> None:
    keep(dialog)
    for name, value in values.items():
        dialog.form.set_value(name, value)
    saved = []
    dialog.saved.connect(saved.append)
    dialog.save()
    ctx.runner.settle()
    assert saved, dialog.form.error_text() + dialog.form.error_text(next(iter(values)))


def new_record(qtbot, ctx, parent, key) -> RecordDialog:
    return keep(RecordDialog.open(ctx, key, None, parent))


def receipt_form(qtbot, ctx, ids, supplier_id) -> RecordDialog:
    """The warehouse keeper opens a new receipt and chooses material and supplier first."""
    dialog = keep(RecordDialog.open(ctx, "incoming_inspection"))
    dialog.form.set_value("material_id", ids["sugar"])
    dialog.form.set_value("supplier_id", supplier_id)
    ctx.runner.settle()
    return dialog


def fill_receipt(dialog, ids) -> None:
    for name, value in dict(quantity="500", unit="kg", production_date="2026-11-10", supplier_lot="JS-2611",
                            receipt_date="2026-11-21", certificate_kind="第三方检验报告", certificate_no="R-2611",
                            decision="accepted", inspector_id=ids["keeper_person"]).items():
        dialog.form.set_value(name, value)


def test_a_new_supplier_is_admitted_then_delivers_then_is_suspended(qtbot, empty_ctx, monkeypatch):
    ctx = empty_ctx
    ids = day_one(ctx)

    # --- the purchaser: material, supplier, licences, coverage, platform check
    page = open_page(qtbot, ctx, ids["buyer"])
    detail = page.detail
    assert not detail.evaluate_button.isVisibleTo(page) and not detail.suspend_button.isVisibleTo(page)
    fill_and_save(qtbot, ctx, new_record(qtbot, ctx, page, "material"),
                  code="M002", name="白砂糖", category="raw", unit="kg")
    with ctx.read() as session:
        ids["sugar"] = session.scalar(select(func.max(Base.metadata.tables["material"].c.id)))
    page.list.new_record()
    (dialog,) = [w for w in RecordDialog._windows.values() if w.ledger.key == "supplier" and w.isVisible()]
    assert "status" not in dialog.form.rows  # a new supplier's status is not typed: it is 待评价
    fill_and_save(qtbot, ctx, dialog, name="江苏某糖业有限公司", credit_code=credit_code("91320600MA1X2Y3W4"),
                  address="江苏省南通市", contact_person="王经理", phone="0513-80000000")
    ctx.runner.settle()
    with ctx.read() as session:
        supplier = session.scalars(select(Supplier)).one()
        ids["supplier"] = supplier.id
        assert supplier.status == "pending"
    assert detail.supplier_id == ids["supplier"]  # the saved supplier is chosen in the list
    assert detail.badge.text() == "待评价"
    assert "没有在有效期内的营业执照" in detail.hint.text()

    detail.document_button.click()
    fill_and_save(qtbot, ctx, detail.record_dialog, kind="business_licence", number=credit_code("91320600MA1X2Y3W4"),
                  issuer="南通市市场监督管理局", valid_from="2015-01-01")
    detail.document_button.click()
    assert detail.record_dialog.form.editor("supplier_id").currentText() == "江苏某糖业有限公司"
    fill_and_save(qtbot, ctx, detail.record_dialog, kind="food_production_licence", number="SC10132060000019",
                  valid_from="2023-01-01", valid_to="2028-12-31")
    ctx.runner.settle()
    detail.documents.selectRow(1)
    detail.coverage_button.click()
    assert detail.record_dialog.form.editor("document_id").currentText() == "SC10132060000019"
    fill_and_save(qtbot, ctx, detail.record_dialog, material_id=ids["sugar"])
    detail.check_button.click()
    fill_and_save(qtbot, ctx, detail.record_dialog, platform="国家企业信用信息公示系统", column_name="经营异常名录",
                  checked_on="2026-11-20", result="未列入经营异常名录", checked_by="周采购")
    ctx.runner.settle()
    assert detail.documents.rowCount() == 2 and detail.documents.item(1, 5).text() == "白砂糖"
    assert detail.checks.rowCount() == 1 and not detail.hint.isVisible()

    # --- the quality manager: a bad evaluation changes nothing, a signed one admits
    page = open_page(qtbot, ctx, ids["qm"])
    detail = page.detail
    page.select(ids["supplier"])
    ctx.runner.settle()
    assert detail.evaluate_button.isEnabled() and not detail.suspend_button.isEnabled()
    detail.evaluate_button.click()
    evaluation = keep(detail.evaluation_dialog)
    assert evaluation.form.editor("next_due").edit.text() == "2027-11-22"  # a year after today by default
    before = snapshot(ctx)
    evaluation.form.set_value("verdict", "pass")
    evaluation.submit()
    ctx.runner.settle()
    assert "「评分」不能为空" in evaluation.form.error_text("score")
    assert "「评价结论」不能为空" in evaluation.form.error_text("conclusion")
    assert evaluation.sign_dialog is None and snapshot(ctx) == before

    evaluation.form.set_value("score", "92")
    evaluation.form.set_value("conclusion", "资质齐全、在有效期内；公示平台无异常；样品检验合格")
    evaluation.submit()
    ctx.runner.settle()
    sign = evaluation.sign_dialog
    assert sign is not None and sign.meaning.currentText() == "批准"
    qtbot.keyClicks(sign.username, "qm")
    qtbot.keyClicks(sign.password, "not-the-password")
    signature(sign.pad)
    sign.sign()
    ctx.runner.settle()
    assert sign.error.text() == "用户名或密码不正确" and snapshot(ctx) == before

    qtbot.keyClicks(sign.password, PASSWORD)
    with qtbot.waitSignal(evaluation.evaluated):
        sign.sign()
        ctx.runner.settle()
    ctx.runner.settle()
    with ctx.read() as session:
        supplier = session.get(Supplier, ids["supplier"])
        stored = session.scalars(select(SupplierEvaluation)).one()
        assert (supplier.status, supplier.qualified_by, stored.score, stored.locked) == ("qualified", "李质量", 92, True)
        assert session.scalars(select(Signature)).one().printed_name == "李质量"
    assert detail.badge.text() == "合格" and detail.suspend_button.isEnabled()
    assert detail.evaluations.item(0, 7).text().startswith("李质量 ")
    assert [detail.history.item(0, c).text() for c in (1, 2, 4)] == ["待评价", "合格供方", "李质量"]

    # --- the warehouse keeper receives from the admitted supplier
    ctx.log_in(ids["keeper"])
    receipt = receipt_form(qtbot, ctx, ids, ids["supplier"])
    assert receipt.form.badge("supplier_id").text() == "合格"
    assert not receipt.supplier_notice.isVisible()
    fill_receipt(receipt, ids)
    saved = []
    receipt.saved.connect(saved.append)
    receipt.save()
    ctx.runner.settle()
    assert saved
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(MaterialLot)) == 1

    # --- the quality manager suspends: a reason is required
    page = open_page(qtbot, ctx, ids["qm"])
    detail = page.detail
    page.select(ids["supplier"])
    ctx.runner.settle()
    answers = iter(["   ", "第三方抽检二氧化硫超标"])
    monkeypatch.setattr(Dialogs, "ask_text", classmethod(lambda cls, *args: next(answers)))
    before = snapshot(ctx)
    detail.suspend_button.click()
    ctx.runner.settle()
    assert "「暂停原因」不能为空" in detail.error.text() and snapshot(ctx) == before
    detail.suspend_button.click()
    ctx.runner.settle()
    assert detail.badge.text() == "暂停供货" and detail.error.text() == ""
    assert detail.history.item(0, 3).text() == "第三方抽检二氧化硫超标" and detail.resume_button.isEnabled()
    status = page.list.model.index(page.list.model.row_of(ids["supplier"]), page.list.ledger.field_names.index("status"))
    assert status.data() == "暂停供货" and status.data(Qt.ItemDataRole.ForegroundRole).name() == "#b3261e"

    # --- the keeper's receipt form says why, before the rest is typed; saving agrees
    ctx.log_in(ids["keeper"])
    receipt = receipt_form(qtbot, ctx, ids, ids["supplier"])
    notice = receipt.supplier_notice.text()
    assert receipt.supplier_notice.isVisible() and receipt.supplier_notice.refused
    assert "已暂停供货" in notice and "第三方抽检二氧化硫超标" in notice and "不能收货" in notice
    assert receipt.form.badge("supplier_id").text() == "暂停供货"
    before = snapshot(ctx)
    fill_receipt(receipt, ids)
    receipt.save()
    ctx.runner.settle()
    assert receipt.form.error_text("supplier_id") == notice
    assert receipt.isVisible() and snapshot(ctx) == before
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(IncomingInspection)) == 1


def test_choosing_another_supplier_updates_the_notice(qtbot, empty_ctx):
    """The notice follows the choice: pending says why, an empty choice says nothing."""
    ctx = empty_ctx
    ids = day_one(ctx)

    def add(session):
        from app.services import suppliers

        material = common.create(session, "material", dict(code="M002", name="白砂糖", category="raw", unit="kg"))
        supplier = suppliers.add_supplier(session, dict(name="上海某包装材料有限公司", address="上海市闵行区"))
        return material.id, supplier.id

    ids["sugar"], pending = ctx.write(add, as_system="管理员")(None)
    ctx.log_in(ids["keeper"])
    receipt = receipt_form(qtbot, ctx, ids, pending)
    assert "待评价" in receipt.supplier_notice.text() and receipt.form.badge("supplier_id").text() == "待评价"
    receipt.form.set_value("supplier_id", None)
    ctx.runner.settle()
    assert not receipt.supplier_notice.isVisible() and not receipt.form.badge("supplier_id").isVisible()


def test_an_overdue_re_evaluation_is_shown_everywhere_but_refuses_nothing(qtbot, empty_ctx):
    import datetime as dt

    from app import clock
    from app.ledgers import registry
    from app.services import suppliers
    from app.ui.ledger_page import LedgerPage
    from app.ui.standing import STANDING_ROLE

    ctx = empty_ctx
    ids = day_one(ctx)
    evaluated = clock.today() - dt.timedelta(days=400)

    def add(session):
        material = common.create(session, "material", dict(code="M002", name="白砂糖", category="raw", unit="kg"))
        supplier = suppliers.add_supplier(session, dict(name="安徽某糖业有限公司", address="安徽省合肥市"))
        suppliers.add_document(session, supplier, dict(kind="business_licence", number="BL-AH", valid_from="2015-01-01"))
        suppliers.add_document(session, supplier, dict(kind="food_production_licence", number="SC10134010000017",
                                                       valid_from="2023-01-01", valid_to="2028-12-31"), [material.id])
        suppliers.record_platform_check(session, supplier, dict(platform="信用中国", checked_on=evaluated, result="无失信记录"))
        suppliers.evaluate(session, supplier, dict(evaluated_on=evaluated, score="90", verdict="pass", conclusion="合格"))
        return material.id, supplier.id

    ids["sugar"], supplier_id = ctx.write(add, as_system="管理员")(None)

    page = open_page(qtbot, ctx, ids["qm"])
    page.select(supplier_id)
    ctx.runner.settle()
    status = page.list.model.index(page.list.model.row_of(supplier_id), page.list.ledger.field_names.index("status"))
    assert status.data() == "需复评" and "定期复评已逾期" in status.data(Qt.ItemDataRole.ToolTipRole)
    assert page.detail.badge.text() == "需复评" and "定期复评已逾期" in page.detail.hint.text()
    assert page.detail.evaluate_button.text() == "定期复评…"

    ctx.log_in(ids["keeper"])
    receipt = receipt_form(qtbot, ctx, ids, supplier_id)
    assert receipt.supplier_notice.isVisible() and not receipt.supplier_notice.refused
    assert "复评逾期不影响收货" in receipt.supplier_notice.text()
    assert receipt.form.badge("supplier_id").text() == "需复评"

    receipts = LedgerPage(ctx, registry()["incoming_inspection"])
    qtbot.addWidget(receipts)
    combo = receipts.combos["supplier_id"]
    assert combo.itemData(combo.findData(supplier_id), STANDING_ROLE) == suppliers.OVERDUE
