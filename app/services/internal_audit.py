"""R7.4, S§5(1), S§5(4): the internal audit of the traceability system — a
checklist run with its findings, recall drills, the incident log and the
corrective actions with owner, due date and follow-up verification. Every
record is filed in its month's safety-management archive (R3.8)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.ledgers import ledger
from app.models import CorrectiveAction, Incident, InternalAudit

from . import users
from .common import fail, next_number, today
from .safety import record

# The checklist of S§5(1): what a run looks at, in the order it is asked.
CHECKLIST = (
    ("records_complete", "记录完整（进货、生产、检验、销售、召回各环节）"),
    ("codes_ok", "追溯编码与载体（标签、条码、二维码）清晰、唯一、可读"),
    ("platform_ok", "追溯数据按时上传平台"),
    ("drills_done", "按计划完成召回演练"),
    ("staff_trained", "相关人员已接受追溯体系培训"),
)


def run_checklist(session: Session, values: Mapping[str, object]) -> InternalAudit:
    """A checklist run; an item not met needs a finding that says what was found."""
    values = dict(values)
    failed = [label for name, label in CHECKLIST if not values.get(name)]
    if failed and not str(values.get("findings") or "").strip():
        raise fail("findings", "发现的问题", f"未符合的检查项（{'；'.join(failed)}）须在「发现的问题」中说明")
    values.setdefault("audit_no", next_number(session, InternalAudit, "audit_no", f"NS{today(session):%Y%m%d}"))
    return record(session, "internal_audit", dict(values, kind="checklist"))


def record_drill(session: Session, number: str, at: dt.datetime, seconds: Decimal, summary: str,
                 findings: str | None = None) -> InternalAudit:
    return record(session, "internal_audit", dict(
        audit_no=next_number(session, InternalAudit, "audit_no", f"YL{at:%Y%m%d}"), kind="drill",
        audited_at=at, drill_query=number, drill_seconds=seconds, drill_summary=summary, drills_done=True,
        findings=findings))


def drills(session: Session) -> list[InternalAudit]:
    return list(session.scalars(select(InternalAudit).where(InternalAudit.kind == "drill")
                                .order_by(InternalAudit.audited_at.desc(), InternalAudit.id.desc())))


def log_incident(session: Session, values: Mapping[str, object]) -> Incident:
    values = dict(values)
    values.setdefault("incident_no", next_number(session, Incident, "incident_no", f"SG{today(session):%Y%m%d}"))
    return record(session, "incident", values)


def raise_action(session: Session, values: Mapping[str, object]) -> CorrectiveAction:
    values = dict(values)
    values.setdefault("action_no", next_number(session, CorrectiveAction, "action_no", f"JZ{today(session):%Y%m%d}"))
    values.setdefault("raised_on", today(session))
    cleaned = ledger("corrective_action").clean(values)  # checked before anything is written
    if cleaned["due_on"] < cleaned["raised_on"]:
        raise fail("due_on", "完成期限", "「完成期限」不能早于提出日期")
    return record(session, "corrective_action", values)


def complete_action(session: Session, action_id: int, done_on) -> None:
    users.require(session, "enter", "corrective_action")
    action = _action(session, action_id)
    done = _date(done_on, "done_on", "完成日期")
    if done < action.raised_on or done > today(session):
        raise fail("done_on", "完成日期", "「完成日期」应在提出日期与今天之间")
    action.done_on = done
    session.flush()


def verify_action(session: Session, action_id: int, verification: str, verified_by: int, verified_on=None) -> None:
    """The follow-up: did the action work? Only after it is done."""
    users.require(session, "enter", "corrective_action")
    action = _action(session, action_id)
    if action.done_on is None:
        raise fail("verification", "跟踪验证结果", f"纠正措施「{action.action_no}」尚未完成，不能验证")
    if not (verification or "").strip():
        raise fail("verification", "跟踪验证结果", "「跟踪验证结果」不能为空")
    on = _date(verified_on or today(session), "verified_on", "验证日期")
    if on < action.done_on:
        raise fail("verified_on", "验证日期", "「验证日期」不能早于完成日期")
    action.verification, action.verified_by, action.verified_on = verification.strip(), verified_by, on
    session.flush()


def overdue(session: Session, day: dt.date | None = None) -> list[CorrectiveAction]:
    day = day or today(session)
    return list(session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.done_on.is_(None), CorrectiveAction.due_on < day).order_by(CorrectiveAction.due_on)))


def _action(session: Session, action_id: int) -> CorrectiveAction:
    action = session.get(CorrectiveAction, action_id)
    if action is None:
        raise UserError("纠正措施记录不存在")
    return action


def _date(value, name: str, label: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise fail(name, label, f"「{label}」应为日期，如 2026-11-20") from None
