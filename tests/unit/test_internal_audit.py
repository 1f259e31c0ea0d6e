"""Issue 13 (R7.4, S§5(1), S§5(4)): the internal audit of the traceability
system — checklist runs with findings, the incident log, corrective actions
with owner, due date and follow-up, overdue ones alerted; all filed in the
month's safety-management archive."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.errors import UserError
from app.models import Archive, CatalogueEntry, CorrectiveAction, InternalAudit
from app.services import entry, internal_audit, recall

from .builders import plant


def filed(session, period: str) -> list[str]:
    archive = session.scalar(select(Archive).where(Archive.kind == "safety", Archive.period == period))
    return session.scalars(select(CatalogueEntry.ledger).where(CatalogueEntry.archive_id == archive.id)).all()


def test_a_checklist_run_needs_findings_for_what_is_not_met(session):
    p = plant(session)
    all_met = dict(audited_at="2026-11-20 09:00", records_complete=True, codes_ok=True, platform_ok=True,
                   drills_done=True, staff_trained=True, auditor_id=p.person.id)
    with pytest.raises(UserError, match="未符合的检查项（追溯数据按时上传平台）须在「发现的问题」中说明"):
        internal_audit.run_checklist(session, dict(all_met, platform_ok=False))
    assert session.scalar(select(func.count()).select_from(InternalAudit)) == 0
    run = internal_audit.run_checklist(session, dict(all_met, platform_ok=False, findings="11 月 3 日平台中断 6 小时"))
    assert run.kind == "checklist" and run.audit_no == "NS20261120001"
    assert "internal_audit" in filed(session, "2026-11")


def test_incidents_and_corrective_actions_with_follow_up(session):
    p = plant(session)
    incident = internal_audit.log_incident(session, dict(
        occurred_at="2026-11-18 14:00", kind="label_mixup", description="包装线 2 号机贴错 250 mL 标签 12 袋",
        handling="隔离返工", reported_by=p.person.id))
    assert incident.incident_no == "SG20261120001"
    with pytest.raises(UserError, match="「完成期限」不能早于提出日期"):
        internal_audit.raise_action(session, dict(incident_id=incident.id, description="换线前核对标签",
                                                  owner_id=p.person.id, due_on="2026-11-19"))
    assert session.scalar(select(func.count()).select_from(CorrectiveAction)) == 0
    action = internal_audit.raise_action(session, dict(
        incident_id=incident.id, description="换线前由班长核对标签并签字", owner_id=p.person.id, due_on="2026-11-25"))
    with pytest.raises(UserError, match="尚未完成，不能验证"):
        internal_audit.verify_action(session, action.id, "连续两周无错标", p.reviewer.id)
    assert internal_audit.overdue(session, dt.date(2026, 11, 26)) == [action]
    alerts = [a for a in recall.alerts(session, dt.date(2026, 11, 26)) if a.kind == "corrective_action_due"]
    assert alerts and action.action_no in alerts[0].title
    internal_audit.complete_action(session, action.id, "2026-11-20")
    assert internal_audit.overdue(session, dt.date(2026, 11, 26)) == []
    assert [a.kind for a in recall.alerts(session, dt.date(2026, 11, 26))] == ["corrective_action_verify"]
    with pytest.raises(UserError, match="「跟踪验证结果」不能为空"):
        internal_audit.verify_action(session, action.id, " ", p.reviewer.id)
    internal_audit.verify_action(session, action.id, "连续两周抽查无错标", p.reviewer.id)
    assert action.verified_on == dt.date(2026, 11, 20) and list(recall.alerts(session, dt.date(2026, 11, 26))) == []
    assert {"incident", "corrective_action"} <= set(filed(session, "2026-11"))


def test_the_ledger_pages_enter_through_the_audit_rules(session):
    p = plant(session)
    with pytest.raises(UserError, match="须在「发现的问题」中说明"):
        entry.save_new(session, "internal_audit", dict(kind="checklist", audited_at="2026-11-20 09:00",
                                                       records_complete=True))
    row_id = entry.save_new(session, "corrective_action", dict(
        description="补做 10 月召回演练", owner_id=p.person.id, due_on="2026-11-30"))
    assert session.get(CorrectiveAction, row_id).action_no == "JZ20261120001"
