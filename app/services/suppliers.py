"""R1.2: the qualified-supplier database (合格供方, G§14–16).

A supplier enters as 待评价 (pending), whoever adds it and however (form,
Excel import, command line). Only a signed evaluation admits it: the quality
manager evaluates (score, verdict, conclusion, next due date) and approves
the evaluation with an electronic signature (批准) in the same transaction,
after the checks G§14–15 ask for (a valid business licence, a check on a
third-party public platform). The quality manager suspends and resumes
supplies, always with a reason. Every change of status is kept in
``supplier_status_change`` (who, when, why) and in the audit log.

A qualified supplier is re-evaluated periodically, a year after the last
evaluation unless the evaluator sets another date. An overdue re-evaluation
is shown (需复评) and warned about at a receipt, but does not refuse the
receipt: G§14–16 set no period, while what they do require at every receipt
— a qualified supplier with a valid licence covering the goods (G§16(5)–(6))
— is checked by ``check_can_deliver`` and refuses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldError, UserError, ValidationError
from app.ledgers import ledger
from app.ledgers.choices import DOCUMENT_KIND as SUPPLIER_DOCUMENT_KINDS
from app.ledgers.choices import EVALUATION_KIND, SUPPLIER_STATUS, VERDICT
from app.models import (
    Material, PlatformCheck, Supplier, SupplierDocument, SupplierDocumentMaterial, SupplierEvaluation,
    SupplierMaterial, SupplierStatusChange,
)

from . import acting, signature_ink, signatures, users
from .common import actor, create, fail, now, submit, today

# Documents that licence a supplier to supply goods (G§16(3), (5), (6)).
LICENCE_KINDS = ("food_production_licence", "food_trade_licence", "industrial_product_licence", "slaughter_certificate")
# The next evaluation is due this long after the last one unless the
# evaluator sets another date on the evaluation (a riskier supplier sooner).
REVIEW_YEARS = 1
# A due date further away than this is a typing mistake, not a plan.
LONGEST_REVIEW_YEARS = 3
APPROVAL = "批准"
# A licence running out within this many days is mentioned at a receipt.
LICENCE_WARNING_DAYS = 30

# What a person sees wherever a supplier is chosen: its status, or 需复评
# for a qualified supplier whose periodic re-evaluation is overdue.
OVERDUE = "review_overdue"
STANDING = {"qualified": "合格", "pending": "待评价", "suspended": "暂停供货", "rejected": "评价不合格", OVERDUE: "需复评"}


class Signer(NamedTuple):
    """Who approves an evaluation: user name and password again, and the
    handwritten signature (signature_ink JSON) when there is one."""

    username: str
    password: str
    strokes: str | None = None


# ------------------------------------------------------------------ entry


def add_supplier(session: Session, values: Mapping[str, object]) -> Supplier:
    """A new supplier is always 待评价: only ``evaluate`` admits it."""
    return create(session, "supplier", values, status="pending", qualified_on=None, qualified_by=None, review_due=None)


def add_document(
    session: Session, supplier: Supplier, values: Mapping[str, object], material_ids: Iterable[int] = ()
) -> SupplierDocument:
    cleaned = ledger("supplier_document").clean(dict(values, supplier_id=supplier.id))
    if cleaned["valid_from"] and cleaned["valid_to"] and cleaned["valid_to"] < cleaned["valid_from"]:
        raise fail("valid_to", "有效期至", "「有效期至」不能早于「有效期自」")
    document = create(session, "supplier_document", cleaned)
    for material_id in sorted(set(material_ids)):
        if session.get(Material, material_id) is None:
            raise fail("materials", "涵盖物料", f"「涵盖物料」中的物料（编号 {material_id}）不存在")
        session.add(SupplierDocumentMaterial(document_id=document.id, material_id=material_id))
    session.flush()
    session.refresh(document, ["covered"])
    return document


def record_platform_check(session: Session, supplier: Supplier, values: Mapping[str, object]) -> PlatformCheck:
    return create(session, "platform_check", dict(values, supplier_id=supplier.id))


# -------------------------------------------------------------- admission


def admission_refusal(session: Session, supplier: Supplier, day: dt.date) -> ValidationError | None:
    """Why the supplier cannot be (or stay, or again become) a qualified
    supplier on ``day`` (G§14(4), G§15); None when nothing stands in the way."""
    licences = [d for d in supplier.documents if d.kind == "business_licence" and _valid_on(d, day)]
    if not licences:
        return fail("documents", "资质证件", f"供应商「{supplier.name}」没有在有效期内的营业执照，不能列为合格供方")
    checks = session.scalar(select(PlatformCheck.id).where(PlatformCheck.supplier_id == supplier.id).limit(1))
    if checks is None:
        return fail("platform_checks", "第三方平台查证", f"供应商「{supplier.name}」还没有第三方公示平台查证记录，不能列为合格供方")
    return None


def a_year_after(day: dt.date, years: int = REVIEW_YEARS) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_evaluation(session: Session, supplier: Supplier, values: Mapping[str, object]) -> dict[str, object]:
    """The evaluation's values as they will be stored, or a ValidationError
    naming every wrong field; writes nothing. The evaluation window calls it
    before asking for the signature."""
    users.require(session, "qualify")
    declaration = ledger("supplier_evaluation")
    given = {name: value for name, value in values.items() if name not in ("supplier_id", "kind")}
    kind = "admission" if supplier.status in ("pending", "rejected") else "review"
    errors: list[FieldError] = []
    try:
        cleaned = declaration.clean(dict(given, supplier_id=supplier.id, kind=kind))
    except ValidationError as error:
        errors += error.errors
        cleaned = declaration.clean(
            {name: value for name, value in dict(given, supplier_id=supplier.id, kind=kind).items()
             if name not in {e.field for e in error.errors}}, partial=True)
    label = declaration.field
    if cleaned.get("score") is None and "score" not in {e.field for e in errors}:
        errors.append(FieldError("score", label("score").label, "「评分」不能为空：评价须给出评分"))
    evaluated_on, verdict = cleaned.get("evaluated_on"), cleaned.get("verdict")
    if evaluated_on is not None and evaluated_on > today(session):
        errors.append(FieldError("evaluated_on", label("evaluated_on").label, "「评价日期」不能晚于今天"))
    due = cleaned.get("next_due")
    if verdict == "fail" and due is not None:
        errors.append(FieldError("next_due", label("next_due").label, "评价不合格时不设「下次评价日期」：重新评价合格后再定"))
    elif verdict == "pass" and evaluated_on is not None:
        if due is None:
            cleaned["next_due"] = due = a_year_after(evaluated_on)
        if due <= evaluated_on or due > a_year_after(evaluated_on, LONGEST_REVIEW_YEARS):
            errors.append(FieldError(
                "next_due", label("next_due").label,
                f"「下次评价日期」应在评价日期之后、{LONGEST_REVIEW_YEARS} 年之内（默认为一年后）"))
    if errors:
        raise ValidationError(errors)
    if verdict == "pass":
        refusal = admission_refusal(session, supplier, evaluated_on)
        if refusal is not None:
            raise refusal
    cleaned["evaluator"] = cleaned.get("evaluator") or actor(session)
    return cleaned


def _check_signer(session: Session, signer: Signer) -> None:
    """Refuse a wrong password, a signer who may not approve, or a broken
    drawing before anything is written."""
    user = users.authenticate(session, signer.username, signer.password)
    roles = users.roles_of(session, user)
    if not users.may_sign(roles, APPROVAL):
        raise fail("username", "签名人",
                   f"{user.display_name}（{users.role_labels(roles)}）无权以「{APPROVAL}」签名：供应商评价须由质量负责人批准")
    if signer.strokes is not None:
        signature_ink.from_json(signer.strokes)


def evaluate(
    session: Session, supplier: Supplier, values: Mapping[str, object], signer: Signer | None = None
) -> SupplierEvaluation:
    """Record an evaluation, approve it with the signer's signature and set
    the supplier's status, all or nothing.

    Passed: a pending or rejected supplier becomes 合格供方 (an admission); a
    qualified one stays so with a new due date; a suspended one stays
    suspended (only ``resume`` lifts a suspension). Failed: the supplier is
    评价不合格 and may not deliver. A logged-in user must sign; the system
    account (demo, command line) records without a signature, which the
    record then shows as missing.
    """
    users.require(session, "qualify")
    cleaned = check_evaluation(session, supplier, values)
    if signer is None and not acting.required(session).is_system:
        raise fail("signature", "签名", "供应商评价须由质量负责人签名批准：请输入用户名、密码并签名")
    if signer is not None:
        _check_signer(session, signer)
    evaluation = SupplierEvaluation(**cleaned, created_by=actor(session))
    session.add(evaluation)
    session.flush()
    submit(session, evaluation)
    score = ledger("supplier_evaluation").field("score").display(evaluation.score)
    what = f"{EVALUATION_KIND[evaluation.kind]}{VERDICT[evaluation.verdict]}（{score} 分）：{evaluation.conclusion}"
    if evaluation.verdict == "pass":
        supplier.review_due = evaluation.next_due
        if supplier.status in ("pending", "rejected"):
            supplier.qualified_on, supplier.qualified_by = evaluation.evaluated_on, evaluation.evaluator
            _change(session, supplier, "qualified", what, evaluation)
    else:
        supplier.review_due = None
        if supplier.status != "rejected":
            _change(session, supplier, "rejected", what, evaluation)
    session.flush()
    if signer is not None:
        signatures.sign(session, evaluation, signer.username, signer.password, APPROVAL, strokes=signer.strokes)
    return evaluation


# ------------------------------------------------------ suspend and resume


def suspend(session: Session, supplier: Supplier, reason: str | None) -> SupplierStatusChange:
    """暂停供货: a qualified supplier may not deliver until resumed."""
    users.require(session, "qualify")
    reason = _reason(reason, "暂停原因", "请写明为什么暂停供货")
    if supplier.status != "qualified":
        raise UserError(f"供应商「{supplier.name}」当前为「{SUPPLIER_STATUS[supplier.status]}」：只有合格供方可以暂停供货")
    return _change(session, supplier, "suspended", reason)


def resume(session: Session, supplier: Supplier, reason: str | None) -> SupplierStatusChange:
    """恢复供货: a suspended supplier is qualified again, if it still meets
    the admission checks."""
    users.require(session, "qualify")
    reason = _reason(reason, "恢复原因", "请写明为什么恢复供货")
    if supplier.status != "suspended":
        raise UserError(f"供应商「{supplier.name}」当前为「{SUPPLIER_STATUS[supplier.status]}」：只有暂停供货的供应商可以恢复供货")
    refusal = admission_refusal(session, supplier, today(session))
    if refusal is not None:
        raise refusal
    return _change(session, supplier, "qualified", reason)


def _reason(reason: str | None, label: str, hint: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise fail("reason", label, f"「{label}」不能为空：{hint}")
    return text


def _change(
    session: Session, supplier: Supplier, to_status: str, reason: str, evaluation: SupplierEvaluation | None = None
) -> SupplierStatusChange:
    change = SupplierStatusChange(
        supplier_id=supplier.id, changed_at=now(session), from_status=supplier.status, to_status=to_status,
        reason=reason, changed_by=actor(session), evaluation_id=evaluation.id if evaluation else None,
        created_by=actor(session),
    )
    supplier.status = to_status
    session.add(change)
    session.info["reason"] = reason  # the audit entries of this write say why
    try:
        session.flush()
    finally:
        session.info.pop("reason", None)
    return change


# ------------------------------------------------------------- standing


def standing(status: str, review_due: dt.date | None, day: dt.date) -> str:
    """A STANDING code: the status, or OVERDUE for a qualified supplier past its due date."""
    if status == "qualified" and review_due is not None and review_due < day:
        return OVERDUE
    return status


def standings(session: Session) -> dict[int, str]:
    """Every supplier's STANDING code, in one query (the choice lists of the forms)."""
    day = today(session)
    rows = session.execute(select(Supplier.id, Supplier.status, Supplier.review_due))
    return {row_id: standing(status, due, day) for row_id, status, due in rows}


def overdue_reviews(session: Session) -> list[Supplier]:
    """Qualified suppliers whose re-evaluation is overdue (R7.3 alert)."""
    return list(session.scalars(
        select(Supplier)
        .where(Supplier.status == "qualified", Supplier.review_due.is_not(None), Supplier.review_due < today(session))
        .order_by(Supplier.review_due)
    ))


# ---------------------------------------------------------------- receipts


def _valid_on(document: SupplierDocument, day: dt.date) -> bool:
    return (document.valid_from is None or document.valid_from <= day) and (
        document.valid_to is None or day <= document.valid_to
    )


def _name(document: SupplierDocument) -> str:
    return f"{SUPPLIER_DOCUMENT_KINDS.get(document.kind, document.kind)} {document.number}"


def _last_change(session: Session, supplier: Supplier) -> SupplierStatusChange | None:
    return session.scalar(
        select(SupplierStatusChange).where(SupplierStatusChange.supplier_id == supplier.id)
        .order_by(SupplierStatusChange.changed_at.desc(), SupplierStatusChange.id.desc()).limit(1)
    )


def status_refusal(session: Session, supplier: Supplier) -> str | None:
    """Why the supplier's status refuses every delivery; None for a qualified one."""
    if supplier.status == "qualified":
        return None
    if supplier.status == "suspended":
        change = _last_change(session, supplier)
        why = f"（{change.changed_at:%Y-%m-%d}，原因：{change.reason}）" if change and change.to_status == "suspended" else ""
        return f"供应商「{supplier.name}」已暂停供货{why}，不是合格供方，不能收货"
    if supplier.status == "rejected":
        return f"供应商「{supplier.name}」评价不合格，不是合格供方，不能收货"
    return f"供应商「{supplier.name}」待评价，还不是合格供方，不能收货：须经质量负责人评价准入"


def licence_refusal(supplier: Supplier, material: Material, day: dt.date) -> str | None:
    """Why the supplier's licences do not allow this material on this day (G§16(5)–(6))."""
    if material.category in ("agricultural", "water"):
        return None  # 食用农产品: origin certificate or purchase voucher instead (G§16(1))
    licences = [d for d in supplier.documents if d.kind in LICENCE_KINDS]
    if not licences:
        return f"供应商「{supplier.name}」没有登记生产经营许可证，不能供应「{material.name}」"
    covering = [d for d in licences if d.covers(material.id)]
    if not covering:
        names = "、".join(_name(d) for d in licences)
        return f"供应商「{supplier.name}」的{names}未涵盖物料「{material.name}」，不能收货"
    if not any(_valid_on(d, day) for d in covering):
        latest = max(covering, key=lambda d: d.valid_to or dt.date.max)
        if latest.valid_from and day < latest.valid_from:
            return f"供应商「{supplier.name}」的{_name(latest)}自 {latest.valid_from} 起才生效，不能收货"
        return f"供应商「{supplier.name}」的{_name(latest)}已于 {latest.valid_to} 过期，不能收货"
    return None


def check_can_deliver(session: Session, supplier: Supplier, material: Material, day: dt.date) -> None:
    """Refuse a delivery the supplier may not make on that day (G§16)."""
    refusal = status_refusal(session, supplier) or licence_refusal(supplier, material, day)
    if refusal:
        raise fail("supplier_id", "供货者", refusal)


@dataclass(frozen=True)
class DeliveryNotice:
    """What the receipt form says as soon as supplier and material are chosen."""

    standing: str | None  # STANDING code of the supplier, None when none is chosen
    refusal: str | None  # the message saving would give, word for word
    warnings: tuple[str, ...] = ()


def delivery_notice(
    session: Session, supplier_id: int | None, material_id: int | None, day: dt.date | None = None
) -> DeliveryNotice:
    """The refusal ``check_can_deliver`` would give (the material's part only
    once a material is chosen), and what deserves a warning without refusing."""
    supplier = session.get(Supplier, supplier_id) if supplier_id is not None else None
    if supplier is None:
        return DeliveryNotice(None, None)
    day = day or today(session)
    code = standing(supplier.status, supplier.review_due, today(session))
    material = session.get(Material, material_id) if material_id is not None else None
    refusal = status_refusal(session, supplier)
    if refusal is None and material is not None:
        refusal = licence_refusal(supplier, material, day)
    warnings = []
    if code == OVERDUE:
        warnings.append(f"供应商「{supplier.name}」的定期复评已于 {supplier.review_due} 到期，请质量负责人尽快复评（复评逾期不影响收货）")
    if refusal is None and material is not None and material.category not in ("agricultural", "water"):
        ends = [d.valid_to for d in supplier.documents
                if d.kind in LICENCE_KINDS and d.covers(material.id) and _valid_on(d, day) and d.valid_to]
        if ends and max(ends) <= day + dt.timedelta(days=LICENCE_WARNING_DAYS):
            warnings.append(f"供应商「{supplier.name}」涵盖「{material.name}」的许可证将于 {max(ends)} 到期，请及时索取新证")
    return DeliveryNotice(code, refusal, tuple(warnings))


def expiring_documents(session: Session, within_days: int = 30) -> list[SupplierDocument]:
    """Licences that end within the coming days (R7.3 alert)."""
    limit = today(session) + dt.timedelta(days=within_days)
    return list(
        session.scalars(
            select(SupplierDocument)
            .where(SupplierDocument.valid_to.is_not(None), SupplierDocument.valid_to <= limit)
            .order_by(SupplierDocument.valid_to)
        )
    )


# ---------------------------------------------------------------- overview


@dataclass(frozen=True)
class DocumentLine:
    id: int
    kind: str
    number: str
    issuer: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    covers: str  # the materials it covers, 、-joined
    state: str  # valid, expired, not_yet


@dataclass(frozen=True)
class CheckLine:
    checked_on: dt.date
    platform: str
    column: str
    result: str
    checked_by: str


@dataclass(frozen=True)
class EvaluationLine:
    id: int
    evaluated_on: dt.date
    kind: str
    score: str
    verdict: str  # the code: pass, fail
    conclusion: str
    evaluator: str
    next_due: dt.date | None
    approval: str  # who approved it and when, or why the approval is missing
    approved: bool


@dataclass(frozen=True)
class HistoryLine:
    changed_at: dt.datetime
    from_status: str
    to_status: str  # the code
    reason: str
    changed_by: str


@dataclass(frozen=True)
class SupplierOverview:
    """Everything the supplier page shows of one supplier, as plain data."""

    id: int
    name: str
    status: str
    standing: str
    review_due: dt.date | None
    qualified_on: dt.date | None
    qualified_by: str | None
    admission_refusal: str | None  # what a passing evaluation would be refused for today
    documents: list[DocumentLine]
    checks: list[CheckLine]
    supplied: list[tuple[str, str, str]]  # material, spec, quality requirements
    evaluations: list[EvaluationLine]
    history: list[HistoryLine]


def overview(session: Session, supplier_id: int) -> SupplierOverview:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise UserError("该供应商已不存在")
    day = today(session)
    names = dict(session.execute(select(Material.id, Material.name)).all())
    documents = [
        DocumentLine(
            d.id, SUPPLIER_DOCUMENT_KINDS.get(d.kind, d.kind), d.number, d.issuer or "", d.valid_from, d.valid_to,
            "、".join(names.get(link.material_id, "") for link in d.covered),
            "valid" if _valid_on(d, day) else ("not_yet" if d.valid_from and day < d.valid_from else "expired"),
        )
        for d in sorted(supplier.documents, key=lambda d: d.id)
    ]
    checks = [
        CheckLine(c.checked_on, c.platform, c.column_name or "", c.result, c.checked_by or "")
        for c in session.scalars(select(PlatformCheck).where(PlatformCheck.supplier_id == supplier.id)
                                 .order_by(PlatformCheck.checked_on.desc(), PlatformCheck.id.desc()))
    ]
    supplied = [
        (names.get(s.material_id, ""), s.spec or "", s.quality_requirements or "")
        for s in session.scalars(select(SupplierMaterial).where(SupplierMaterial.supplier_id == supplier.id)
                                 .order_by(SupplierMaterial.id))
    ]
    refusal = admission_refusal(session, supplier, day)
    return SupplierOverview(
        supplier.id, supplier.name, supplier.status, standing(supplier.status, supplier.review_due, day),
        supplier.review_due, supplier.qualified_on, supplier.qualified_by,
        refusal.message if refusal else None, documents, checks, supplied,
        _evaluation_lines(session, supplier), _history_lines(session, supplier),
    )


def _evaluation_lines(session: Session, supplier: Supplier) -> list[EvaluationLine]:
    rows = list(session.scalars(
        select(SupplierEvaluation).where(SupplierEvaluation.supplier_id == supplier.id)
        .order_by(SupplierEvaluation.evaluated_on.desc(), SupplierEvaluation.id.desc())
    ))
    table = SupplierEvaluation.__table__
    stored = session.execute(select(table).where(table.c.id.in_([r.id for r in rows]))).all() if rows else []
    lines = signatures.lines_of_rows(session, SupplierEvaluation, stored)
    score = ledger("supplier_evaluation").field("score")
    found = []
    for row in rows:
        approval = next((line for line in lines.get(row.id, []) if line.meaning == APPROVAL), None)
        if approval is None or approval.valid is None:
            text, approved = "未签名批准", False
        elif not approval.valid:
            text, approved = f"{approval.printed_name} 的签名已失效（签名后记录被更正）", False
        else:
            text, approved = f"{approval.printed_name} {approval.signed_at:%Y-%m-%d %H:%M}", True
        found.append(EvaluationLine(
            row.id, row.evaluated_on, EVALUATION_KIND.get(row.kind, row.kind), score.display(row.score), row.verdict,
            row.conclusion, row.evaluator or "", row.next_due, text, approved,
        ))
    return found


def _history_lines(session: Session, supplier: Supplier) -> list[HistoryLine]:
    return [
        HistoryLine(c.changed_at, SUPPLIER_STATUS.get(c.from_status, c.from_status or ""), c.to_status, c.reason, c.changed_by)
        for c in session.scalars(
            select(SupplierStatusChange).where(SupplierStatusChange.supplier_id == supplier.id)
            .order_by(SupplierStatusChange.changed_at.desc(), SupplierStatusChange.id.desc())
        )
    ]
