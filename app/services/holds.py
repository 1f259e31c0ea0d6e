"""A product batch that failed its inspection is held (R2.5, G§43): it may
not be fed into another batch, packed or released until it is disposed of
through its warning archive. The messages name the report and the archive,
so the person refused knows what happened and where to look."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ledgers.choices import INSPECTION_KIND
from app.models import Archive, Inspection, ProductBatch

HELD = "nonconforming"


def hold_reason(session: Session, batch: ProductBatch) -> str | None:
    """Why the batch is held, or None when it is not."""
    if batch.status != HELD:
        return None
    report = session.scalar(
        select(Inspection).where(Inspection.batch_id == batch.id, Inspection.conclusion == "fail")
        .order_by(Inspection.sampled_at.desc(), Inspection.id.desc()).limit(1)
    )
    archive_no = session.scalar(
        select(Archive.archive_no).where(Archive.kind == "warning", Archive.product_batch_id == batch.id).limit(1)
    )
    text = f"产品批「{batch.batch_no}」"
    if report is not None:
        text += f"{INSPECTION_KIND.get(report.kind, report.kind)}不合格（检验报告 {report.report_no}），已扣留"
    else:
        text += "已判定不合格，已扣留"
    if archive_no:
        text += f"，处置记入食品安全警示档案 {archive_no}"
    return text


def refusal(session: Session, batch: ProductBatch, action: str) -> str | None:
    """The message refusing ``action`` (投料, 包装, 放行) on a held batch, or None."""
    reason = hold_reason(session, batch)
    return f"{reason}：不能{action}" if reason else None
