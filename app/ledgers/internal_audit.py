"""R7.4: the internal audit of the traceability system, its incident log and
the corrective actions (S§5(1), S§5(4)) — filed month by month in the
safety-management archive, like the other safety records."""

from __future__ import annotations

from app.ledgers.base import register
from app.models import CorrectiveAction, Incident, InternalAudit

from . import choices as c
from . import validators as v
from .fields import day, flag, moment, note, person, pick, qty, ref, text
from .safety import safety

register(
    safety(InternalAudit, [
        text("audit_no", "审核编号", 14, True),
        pick("kind", "类别", c.AUDIT_KIND),
        moment("audited_at", "审核时间"),
        flag("records_complete", "记录完整"),
        flag("codes_ok", "编码与载体有效"),
        flag("platform_ok", "平台上传正常"),
        flag("drills_done", "已按期演练"),
        flag("staff_trained", "人员已培训"),
        text("drill_query", "演练批号", 16),
        qty("drill_seconds", "演练用时（秒）", required=False, check=v.not_negative),
        note("drill_summary", "演练结果"),
        note("findings", "发现的问题"),
        person("auditor_id", "审核人", required=False),
    ], date="audited_at", signs=("编制",)),
    safety(Incident, [
        text("incident_no", "事故编号", 14, True),
        moment("occurred_at", "发生时间"),
        pick("kind", "事故类别", c.INCIDENT_KIND),
        note("description", "经过", required=True),
        note("handling", "处理情况"),
        person("reported_by", "报告人"),
    ], date="occurred_at", signs=("编制",)),
    safety(CorrectiveAction, [
        text("action_no", "措施编号", 14, True),
        day("raised_on", "提出日期"),
        ref("audit_id", "内部审核编号", "internal_audit", "audit_no", False, 14),
        ref("incident_id", "事故编号", "incident", "incident_no", False, 14),
        ref("recall_id", "召回编号", "recall", "recall_no", False, 14),
        note("description", "纠正措施", required=True),
        person("owner_id", "责任人"),
        day("due_on", "完成期限"),
        day("done_on", "完成日期", required=False),
        note("verification", "跟踪验证结果"),
        day("verified_on", "验证日期", required=False),
        person("verified_by", "验证人", required=False),
    ], date="raised_on", signs=("编制",)),
)
