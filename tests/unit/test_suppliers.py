"""R1.2, G§14–16: admission by a signed evaluation, suspension and resumption
with a reason, periodic re-evaluation, the status history, and imports that
admit nobody — on SQLite and PostgreSQL.

Every refused call runs in a savepoint rolled back as the application's
transaction would be, and leaves the row counts and the audit chain as they were.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import func, select

from app.errors import PermissionDenied, UserError, ValidationError
from app.models import (
    AuditEntry, IncomingInspection, PlatformCheck, Signature, Supplier, SupplierDocument, SupplierEvaluation,
    SupplierStatusChange,
)
from app.reports.ledger_export import export_template
from app.reports.ledger_import import ImportRefused, import_ledger
from app.reports.sheet import HEADER_ROW
from app.services import acting, audit, common, entry, receiving, signatures, suppliers, users
from app.services.suppliers import Signer

from .builders import TODAY, credit_code, plant, receipt_values

PASSWORD = "correct-horse-9"
COUNTED = (Supplier, SupplierEvaluation, SupplierStatusChange, Signature, IncomingInspection, AuditEntry)


def counts(session) -> dict[str, int]:
    return {model.__name__: session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


def refused(session, call, *args, **kwargs) -> UserError:
    """A call that must be refused: it leaves the counts and the audit chain as they were."""
    before = counts(session)
    savepoint = session.begin_nested()
    with pytest.raises(UserError) as caught:
        call(*args, **kwargs)
    savepoint.rollback()
    assert counts(session) == before
    assert audit.verify(session.connection()) == []
    return caught.value


def user(session, username, *roles):
    return users.create_user(session, username, f"{username}姓名", PASSWORD, roles)


def as_user(session, account) -> None:
    acting.bind(session, acting.user_of(session, account.id))


def new_supplier(session, p, name="江苏某食品配料有限公司", *, licence=True, check=True, covers=None) -> Supplier:
    """A supplier as the purchaser enters it: pending, with what it was asked for."""
    supplier = suppliers.add_supplier(session, dict(name=name, address="江苏省南通市", credit_code=credit_code("91320600MA1X2Y3W4")))
    if licence:
        suppliers.add_document(session, supplier, dict(kind="business_licence", number="BL-JS", valid_from="2019-05-01"))
    suppliers.add_document(
        session, supplier, dict(kind="food_production_licence", number="SC10132060000019", valid_from="2024-01-01", valid_to="2028-12-31"),
        covers if covers is not None else [p.sugar.id],
    )
    if check:
        suppliers.record_platform_check(session, supplier, dict(platform="国家企业信用信息公示系统", column_name="经营异常名录", checked_on="2026-11-18", result="未列入"))
    return supplier


def passing(**overrides) -> dict:
    values = dict(evaluated_on="2026-11-20", score="92", verdict="pass", conclusion="资质齐全，样品检验合格")
    values.update(overrides)
    return values


@pytest.fixture
def p(session):
    return plant(session)


@pytest.fixture
def manager(session):
    return user(session, "qm", "quality_manager")


@pytest.fixture
def signer(manager):
    return Signer("qm", PASSWORD)


# ------------------------------------------------------------ admission


def test_a_new_supplier_is_pending_and_may_not_deliver(session, p):
    supplier = new_supplier(session, p)
    assert (supplier.status, supplier.qualified_on, supplier.review_due) == ("pending", None, None)
    error = refused(session, receiving.receive, session, receipt_values(p, p.sugar, supplier_id=supplier.id))
    assert "待评价" in error.message and "不是合格供方" in error.message and error.errors[0].field == "supplier_id"


def test_the_quality_manager_admits_with_a_signed_evaluation(session, p, manager, signer):
    supplier = new_supplier(session, p)
    as_user(session, manager)
    evaluation = suppliers.evaluate(session, supplier, passing(), signer)
    assert (supplier.status, supplier.qualified_on, supplier.qualified_by) == ("qualified", TODAY, "qm姓名")
    assert evaluation.kind == "admission" and evaluation.locked and evaluation.evaluator == "qm姓名"
    assert supplier.review_due == evaluation.next_due == dt.date(2027, 11, 20)  # a year later by default
    (approval,) = signatures.status(session, evaluation)
    assert approval.meaning == "批准" and approval.valid and approval.signature.printed_name == "qm姓名"
    (change,) = session.scalars(select(SupplierStatusChange).where(SupplierStatusChange.supplier_id == supplier.id)).all()
    assert (change.from_status, change.to_status, change.changed_by, change.evaluation_id) == ("pending", "qualified", "qm姓名", evaluation.id)
    assert "准入评价合格（92 分）" in change.reason and change.changed_at == session.info["now"]
    logged = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "supplier_status_change", AuditEntry.row_id == change.id)).one()
    assert logged.reason == change.reason and logged.actor == "qm姓名"
    assert receiving.receive(session, receipt_values(p, p.sugar, supplier_id=supplier.id)).id
    assert audit.verify(session.connection()) == []


@pytest.mark.parametrize("missing, words", [
    ("licence", "没有在有效期内的营业执照"),
    ("check", "第三方公示平台查证记录"),
])
def test_admission_needs_a_business_licence_and_a_platform_check(session, p, manager, signer, missing, words):
    supplier = new_supplier(session, p, licence=missing != "licence", check=missing != "check")
    as_user(session, manager)
    error = refused(session, suppliers.evaluate, session, supplier, passing(), signer)
    assert words in error.message and supplier.status == "pending"


def test_an_expired_business_licence_refuses_admission(session, p, manager, signer):
    supplier = new_supplier(session, p)
    supplier.documents[0].valid_to = dt.date(2026, 10, 31)
    session.flush()
    as_user(session, manager)
    assert "营业执照" in refused(session, suppliers.evaluate, session, supplier, passing(), signer).message


def test_every_wrong_field_of_an_evaluation_is_named_at_once(session, p, manager, signer):
    supplier = new_supplier(session, p)
    as_user(session, manager)
    error = refused(session, suppliers.evaluate, session, supplier,
                    passing(score=None, conclusion=" ", evaluated_on="2026-11-21"), signer)
    assert {e.field for e in error.errors} == {"score", "conclusion", "evaluated_on"}
    assert "「评分」不能为空" in error.message and "「评价结论」不能为空" in error.message and "不能晚于今天" in error.message
    assert "「评分」应在 0 与 100 之间" in refused(session, suppliers.evaluate, session, supplier, passing(score="120"), signer).message


@pytest.mark.parametrize("values, words", [
    (passing(next_due="2026-11-20"), "应在评价日期之后"),
    (passing(next_due="2036-11-20"), "3 年之内"),
    (passing(verdict="fail", next_due="2027-11-20"), "评价不合格时不设"),
])
def test_next_due_date_is_checked(session, p, manager, signer, values, words):
    supplier = new_supplier(session, p)
    as_user(session, manager)
    error = refused(session, suppliers.evaluate, session, supplier, values, signer)
    assert words in error.message and error.errors[0].field == "next_due"


def test_an_earlier_due_date_may_be_set(session, p, manager, signer):
    supplier = new_supplier(session, p)
    as_user(session, manager)
    suppliers.evaluate(session, supplier, passing(next_due="2027-05-20"), signer)
    assert supplier.review_due == dt.date(2027, 5, 20)


def test_a_failed_evaluation_rejects_the_supplier(session, p, manager, signer):
    supplier = new_supplier(session, p, licence=False)  # a failed evaluation needs no licence
    as_user(session, manager)
    evaluation = suppliers.evaluate(session, supplier, passing(verdict="fail", score="41", conclusion="样品菌落总数超标"), signer)
    assert supplier.status == "rejected" and supplier.review_due is None and evaluation.next_due is None
    error = refused(session, receiving.receive, session, receipt_values(p, p.sugar, supplier_id=supplier.id))
    assert "评价不合格" in error.message


# ------------------------------------------------------------ who may do it


def test_a_purchaser_enters_suppliers_but_cannot_admit_or_suspend(session, p, manager):
    buyer = user(session, "buyer", "purchaser")
    as_user(session, buyer)
    supplier = new_supplier(session, p)  # the purchaser's own work: records, documents, checks
    for call, args in ((suppliers.evaluate, (passing(), Signer("buyer", PASSWORD))), (suppliers.suspend, ("质量问题",)),
                       (suppliers.resume, ("整改完成",))):
        error = refused(session, call, session, supplier, *args)
        assert isinstance(error, PermissionDenied) and "无权评价、准入和暂停供应商" in error.message
    assert supplier.status == "pending"


def test_a_session_naming_nobody_cannot_admit(session, p, signer):
    supplier = new_supplier(session, p)
    acting.bind(session, None)
    error = refused(session, suppliers.evaluate, session, supplier, passing(), signer)
    assert isinstance(error, PermissionDenied) and "没有指明由谁操作" in error.message
    assert isinstance(refused(session, suppliers.suspend, session, p.supplier, "质量问题"), PermissionDenied)


def test_a_logged_in_manager_must_sign_and_only_a_quality_manager_may_approve(session, p, manager):
    supplier = new_supplier(session, p)
    user(session, "inspector", "inspector")
    as_user(session, manager)
    assert "须由质量负责人签名批准" in refused(session, suppliers.evaluate, session, supplier, passing()).message
    assert "用户名或密码不正确" in refused(session, suppliers.evaluate, session, supplier, passing(), Signer("qm", "wrong-password")).message
    error = refused(session, suppliers.evaluate, session, supplier, passing(), Signer("inspector", PASSWORD))
    assert "无权以「批准」签名" in error.message
    assert supplier.status == "pending"


# ------------------------------------------------------- suspend, resume


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_suspension_and_resumption_need_a_reason(session, p, manager, reason):
    as_user(session, manager)
    error = refused(session, suppliers.suspend, session, p.supplier, reason)
    assert "「暂停原因」不能为空" in error.message and error.errors[0].field == "reason"
    suppliers.suspend(session, p.supplier, "抽检不合格")
    error = refused(session, suppliers.resume, session, p.supplier, reason)
    assert "「恢复原因」不能为空" in error.message


def test_suspend_refuses_receipts_with_its_reason_and_resume_restores(session, p, manager):
    as_user(session, manager)
    suppliers.suspend(session, p.supplier, "  第三方抽检菌落总数不合格  ")
    assert p.supplier.status == "suspended"
    error = refused(session, receiving.receive, session, receipt_values(p, p.soy))
    assert "已暂停供货（2026-11-20，原因：第三方抽检菌落总数不合格）" in error.message and "不能收货" in error.message
    assert "只有合格供方可以暂停供货" in refused(session, suppliers.suspend, session, p.supplier, "again").message
    suppliers.resume(session, p.supplier, "整改完成，复检合格")
    assert p.supplier.status == "qualified"
    assert "只有暂停供货的供应商可以恢复供货" in refused(session, suppliers.resume, session, p.supplier, "again").message
    assert receiving.receive(session, receipt_values(p, p.soy)).id
    history = suppliers.overview(session, p.supplier.id).history
    assert [(h.from_status, h.to_status, h.reason, h.changed_by) for h in history] == [
        ("暂停供货", "qualified", "整改完成，复检合格", "qm姓名"),
        ("合格供方", "suspended", "第三方抽检菌落总数不合格", "qm姓名"),
        ("待评价", "qualified", history[2].reason, "tester"),  # the builder's admission, as the system account
    ]
    reasons = session.scalars(select(AuditEntry.reason).where(AuditEntry.table_name == "supplier", AuditEntry.action == "update")).all()
    assert {"第三方抽检菌落总数不合格", "整改完成，复检合格"} <= set(reasons)
    assert audit.verify(session.connection()) == []


def test_resuming_needs_the_admission_checks_still_met(session, p, manager):
    as_user(session, manager)
    suppliers.suspend(session, p.supplier, "营业执照吊销")
    for check in session.scalars(select(PlatformCheck).where(PlatformCheck.supplier_id == p.supplier.id)):
        session.delete(check)  # as if none had been recorded
    session.flush()
    assert "第三方公示平台查证记录" in refused(session, suppliers.resume, session, p.supplier, "恢复").message


def test_a_passing_review_does_not_lift_a_suspension(session, p, manager, signer):
    as_user(session, manager)
    suppliers.suspend(session, p.supplier, "质量问题待查")
    evaluation = suppliers.evaluate(session, p.supplier, passing(), signer)
    assert evaluation.kind == "review" and p.supplier.status == "suspended"


# --------------------------------------------------------- re-evaluation


def later(session, day: dt.date) -> None:
    session.info["today"], session.info["now"] = day, dt.datetime.combine(day, dt.time(9, 0))


def test_an_overdue_review_is_shown_and_warned_but_does_not_refuse_a_receipt(session, p, manager, signer):
    assert p.supplier.review_due == dt.date(2027, 11, 20)
    session.get(SupplierDocument, p.licence_id).valid_to = dt.date(2030, 6, 30)
    session.flush()
    later(session, dt.date(2027, 11, 20))
    assert suppliers.standings(session)[p.supplier.id] == "qualified"  # due today: not yet overdue
    later(session, dt.date(2027, 11, 21))
    assert suppliers.standings(session)[p.supplier.id] == suppliers.OVERDUE
    assert suppliers.STANDING[suppliers.OVERDUE] == "需复评"
    assert suppliers.overdue_reviews(session) == [p.supplier]
    notice = suppliers.delivery_notice(session, p.supplier.id, p.soy.id)
    assert notice.refusal is None and "定期复评已于 2027-11-20 到期" in notice.warnings[0]
    receipt = receiving.receive(session, receipt_values(p, p.soy, production_date="2027-11-10", receipt_date="2027-11-20"))
    assert receipt.id

    as_user(session, manager)
    changes = session.scalar(select(func.count()).select_from(SupplierStatusChange))
    review = suppliers.evaluate(session, p.supplier, passing(evaluated_on="2027-11-21", score="88"), signer)
    assert review.kind == "review" and p.supplier.review_due == dt.date(2028, 11, 21)
    assert suppliers.standings(session)[p.supplier.id] == "qualified" and suppliers.overdue_reviews(session) == []
    assert session.scalar(select(func.count()).select_from(SupplierStatusChange)) == changes  # no change of status


def test_a_failed_review_rejects_a_qualified_supplier(session, p, manager, signer):
    as_user(session, manager)
    suppliers.evaluate(session, p.supplier, passing(verdict="fail", conclusion="连续三批检验不合格"), signer)
    assert p.supplier.status == "rejected" and p.supplier.review_due is None
    change = suppliers.overview(session, p.supplier.id).history[0]
    assert (change.from_status, change.to_status) == ("合格供方", "rejected") and "定期复评不合格" in change.reason


# ------------------------------------------------- the receipt form's notice


def test_the_receipt_notice_says_what_saving_would(session, p):
    salt = common.create(session, "material", dict(code="M099", name="食用盐", category="raw", unit="kg"))
    licence = session.get(SupplierDocument, p.licence_id)
    cases = [
        (lambda: None, salt),  # not covered
        (lambda: setattr(licence, "valid_to", dt.date(2026, 11, 1)), p.soy),  # expired
        (lambda: setattr(p.supplier, "status", "suspended"), p.soy),
    ]
    for change, material in cases:
        savepoint = session.begin_nested()
        change()
        session.flush()
        error = refused(session, receiving.receive, session, receipt_values(p, material))
        notice = suppliers.delivery_notice(session, p.supplier.id, material.id, dt.date(2026, 11, 10))
        assert notice.refusal == error.errors[0].message
        savepoint.rollback()
    pending = new_supplier(session, p)
    notice = suppliers.delivery_notice(session, pending.id, None)
    assert notice.standing == "pending" and "待评价" in notice.refusal  # before a material is chosen
    assert suppliers.delivery_notice(session, None, p.soy.id) == suppliers.DeliveryNotice(None, None)


def test_the_receipt_notice_warns_of_a_licence_running_out(session, p):
    session.get(SupplierDocument, p.licence_id).valid_to = dt.date(2026, 12, 5)
    session.flush()
    notice = suppliers.delivery_notice(session, p.supplier.id, p.soy.id)
    assert notice.refusal is None and "将于 2026-12-05 到期" in notice.warnings[0]


# ------------------------------------------------------- imports admit nobody


def test_an_imported_supplier_is_always_pending(session, p, tmp_path):
    path = tmp_path / "suppliers.xlsx"
    export_template(session, "supplier", path)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    headers = [cell.value for cell in ws[HEADER_ROW]]
    row = {"供货者名称": "浙江某包装材料有限公司", "地址": "浙江省嘉兴市", "供方状态": "合格供方",
           "评定合格日期": dt.date(2026, 11, 1), "评定人": "某人", "下次评价日期": dt.date(2027, 11, 1)}
    for column, header in enumerate(headers, start=1):
        ws.cell(HEADER_ROW + 1, column, row.get(header))
    wb.save(path)
    assert import_ledger(session, "supplier", path) == 1
    imported = session.scalar(select(Supplier).where(Supplier.name == "浙江某包装材料有限公司"))
    assert (imported.status, imported.qualified_on, imported.qualified_by, imported.review_due) == ("pending", None, None, None)


def test_status_and_evaluations_cannot_be_entered_around_the_service(session, p, tmp_path):
    error = refused(session, entry.save_new, session, "supplier", dict(name="某供应商", address="上海", status="qualified"))
    assert "「供方状态」" in error.message and "由系统维护" in error.message
    assert "合格供方名录" in refused(session, entry.save_new, session, "supplier_evaluation", dict(supplier_id=p.supplier.id)).message
    assert "合格供方名录" in refused(session, entry.save_new, session, "supplier_status_change", dict(supplier_id=p.supplier.id)).message
    for key in ("supplier_evaluation", "supplier_status_change"):
        with pytest.raises(UserError, match="不能从表格导入"):
            import_ledger(session, key, tmp_path / "any.xlsx")
    evaluation = session.scalars(select(SupplierEvaluation)).first()
    assert "由系统维护" in refused(session, entry.amend, session, "supplier_evaluation", evaluation.id, {"verdict": "fail"}, "改").message
    inspector = user(session, "inspector", "inspector")  # amends other records, not an evaluation
    as_user(session, inspector)
    error = refused(session, entry.amend, session, "supplier_evaluation", evaluation.id, {"conclusion": "改"}, "改")
    assert isinstance(error, PermissionDenied)
    acting.bind(session, acting.system("tester"))
    entry.amend(session, "supplier_evaluation", evaluation.id, {"conclusion": "资质齐全，评定为合格供方（更正错字）"}, "错字")
    assert evaluation.conclusion.endswith("（更正错字）")


def test_import_refuses_rows_of_unknown_suppliers_as_before(session, p, tmp_path):
    """The receipt import still goes through check_can_deliver: a pending supplier's row is refused."""
    pending = new_supplier(session, p)
    path = tmp_path / "receipts.xlsx"
    export_template(session, "incoming_inspection", path)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    values = {"物料名称": "白砂糖", "供货者名称": pending.name, "数量": 500, "单位": "kg", "生产日期": dt.date(2026, 11, 1),
              "生产批号（供应商批号）": "JS-1", "进货日期": "2026-11-10", "查验结论": "合格接收", "检验员": "王质检",
              "合格证明编号": "R-9"}
    for column, cell in enumerate(ws[HEADER_ROW], start=1):
        ws.cell(HEADER_ROW + 1, column, values.get(cell.value))
    wb.save(path)
    with pytest.raises(ImportRefused) as caught:
        import_ledger(session, "incoming_inspection", path)
    assert "待评价" in caught.value.message


def test_a_demo_style_evaluation_by_the_system_is_unsigned(session, p):
    evaluation = session.scalars(select(SupplierEvaluation)).one()
    assert signatures.missing(session, evaluation) == ["批准"]
    line = suppliers.overview(session, p.supplier.id).evaluations[0]
    assert line.approval == "未签名批准" and not line.approved


def test_validation_errors_are_not_permission_errors(session, p, manager, signer):
    as_user(session, manager)
    error = refused(session, suppliers.evaluate, session, new_supplier(session, p), passing(verdict="maybe"), signer)
    assert isinstance(error, ValidationError) and "「评价结果」应为以下之一：合格、不合格" in error.message
