"""What ``verify`` checks beyond the chain and the rows' hashes: signatures,
values outside their domain, the append-only triggers, the upload queue's
payloads and the chain's anchors. Each check reports and never raises for a
value it cannot read: one damaged place must not hide the others."""

from __future__ import annotations

import logging

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app.models import Base, domains

from .audit import Finding, _label, column_label

log = logging.getLogger("audit")


def beyond_the_chain(connection: Connection, anchor: str | None) -> list[Finding]:
    findings: list[Finding] = []
    for check in (_signatures, _domains, _triggers, _outbox, _local_anchor):
        try:
            findings += check(connection)
        except DBAPIError:
            raise
        except Exception as exc:  # noqa: BLE001 — a check that meets damage it did not foresee reports it
            log.exception("verify: %s could not finish", check.__name__)
            findings.append(Finding("", None, f"有一项校验因数据损坏未能完成（{check.__doc__.strip()}：{type(exc).__name__}）"))
    if anchor is not None:
        from .anchors import check_paper

        findings += check_paper(connection, anchor)[0]
    return findings


def _signatures(connection: Connection) -> list[Finding]:
    """电子签名"""
    from .signatures import verify_all  # signatures builds on audit

    return verify_all(connection)


def _domains(connection: Connection) -> list[Finding]:
    """取值范围"""
    sqlite = connection.dialect.name == "sqlite"
    findings = []
    for rule in domains.rules(Base.metadata):
        if rule.sqlite_only and not sqlite:
            continue
        rows = connection.execute(text(f"SELECT id, {rule.column} FROM {rule.table} WHERE NOT ({rule.sql}) ORDER BY id"))
        for row_id, value in rows:
            findings.append(Finding(rule.table, row_id, f"{_label(rule.table)}（编号 {row_id}）的"
                                    f"「{column_label(rule.table, rule.column)}」为「{value}」，{_EXPECTED[rule.kind](rule)}"))
    return findings


_EXPECTED = {
    "bool": lambda rule: "应为 0（否）或 1（是）",
    "enum": lambda rule: "不是允许的取值（" + "、".join(domains.ENUMS[(rule.table, rule.column)]) + "）",
    "not_negative": lambda rule: "不应为负数",
}


def _triggers(connection: Connection) -> list[Finding]:
    """审计日志的只追加保护"""
    from app import append_only

    gone = append_only.missing(connection)
    if not gone:
        return []
    return [Finding("audit_log", None, "审计日志的只追加保护（数据库触发器 " + "、".join(gone) + "）不在或已停用："
                                       "日志可能被改写过；下次启动本软件会恢复它")]


def _outbox(connection: Connection) -> list[Finding]:
    """平台上传队列"""
    from app.models import OutboxEntry
    from app.platform import outbox

    table = OutboxEntry.__table__
    bad = sorted(outbox.edited(connection))
    labels = dict(connection.execute(select(table.c.id, table.c.label).where(table.c.id.in_(bad))).all()) if bad else {}
    return [Finding(table.name, row_id, f"平台上传队列第 {row_id} 条（{labels.get(row_id, '')}）的内容与审计日志记下的不符："
                                        "在本软件之外被改动过，不会被发送")
            for row_id in bad]


def _local_anchor(connection: Connection) -> list[Finding]:
    """本机记下的链头"""
    from .anchors import check_local

    return check_local(connection)
