"""R7.2, G§48: the statistics of a period — what the statistics page charts
and the periodic evaluation report prints — as plain data.

Every figure is a ``Series`` table (rows × columns of numbers) with its
Chinese title and unit, so the Qt page (QtCharts) and the PDF
(reportlab.graphics) draw the same thing from the same numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.ledgers.choices import ARCHIVE_KIND
from app.models import (
    Archive, CCPReading, CriticalControlPoint, Delivery, IncomingInspection, Inspection, Product, ProductBatch,
    Recall, RecallProgress, Supplier, SupplierEvaluation,
)

# Inspections that judge a product batch (incoming and water ones judge other things).
PRODUCT_KINDS = ("semi_finished", "finished", "release")

BAR, LINE, TABLE = "bar", "line", "table"


@dataclass(frozen=True)
class Series:
    """One chart: ``values[r][c]`` for row r (a series: a product, a point…)
    and column c (a month, a measure…)."""

    key: str
    title: str
    unit: str
    columns: list[str]
    rows: list[str]
    values: list[list[float | None]]  # None: nothing to measure (no inspection that month)
    kind: str = BAR
    note: str = ""
    charted: int | None = None  # a TABLE's chart draws its first columns (counts), not the rates or scores

    @property
    def chart_columns(self) -> list[str]:
        return self.columns[:self.charted] if self.charted else self.columns

    @property
    def empty(self) -> bool:
        return not self.rows or not any(any(v for v in row if v is not None) for row in self.values)


@dataclass(frozen=True)
class Evaluation:
    first: dt.date
    last: dt.date
    charts: list[Series] = field(default_factory=list)

    def chart(self, key: str) -> Series:
        return next(c for c in self.charts if c.key == key)


def month_labels(columns: list[str]) -> tuple[list[str], str]:
    """Short labels for an axis of months (1月 … within a year) and the axis title."""
    if not columns or len(columns) > 13 or not all(len(c) == 7 and c[4] == "-" for c in columns):
        return columns, ""
    return [str(int(c[5:])) for c in columns], f"月份（{columns[0]} 至 {columns[-1]}）"


def months(first: dt.date, last: dt.date) -> list[str]:
    found, day = [], first.replace(day=1)
    while day <= last:
        found.append(f"{day:%Y-%m}")
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return found


def _month(session: Session, column):
    """YYYY-MM of a date or date-time column, in the database's own dialect."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")


def _bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.combine(first, dt.time()), dt.datetime.combine(last + dt.timedelta(days=1), dt.time())


def _grid(cells: dict[tuple[str, str], float], rows: list[str], columns: list[str],
          missing: float | None = 0.0) -> list[list[float | None]]:
    return [[cells.get((r, c), missing) for c in columns] for r in rows]


def pass_rates(session: Session, first: dt.date, last: dt.date) -> Series:
    """Share of passed inspections of each product's batches, by month (%)."""
    start, end = _bounds(first, last)
    month = _month(session, Inspection.sampled_at)
    rows = session.execute(
        select(Product.name, month, func.count(), func.sum(case((Inspection.conclusion == "pass", 1), else_=0)))
        .join(ProductBatch, ProductBatch.id == Inspection.batch_id).join(Product, Product.id == ProductBatch.product_id)
        .where(Inspection.kind.in_(PRODUCT_KINDS), Inspection.sampled_at >= start, Inspection.sampled_at < end)
        .group_by(Product.name, month)).all()
    columns = months(first, last)
    products = sorted({name for name, *_ in rows})
    rates = {(name, m): round(100.0 * int(passed) / total, 1) for name, m, total, passed in rows if total}
    counted = sum(total for _n, _m, total, _p in rows)
    return Series("pass_rates", "产品检验合格率（按产品、月份）", "%", columns, products,
                  _grid(rates, products, columns, None), LINE, f"共 {counted} 份检验报告；无检验的月份不画点")


def ccp_deviations(session: Session, first: dt.date, last: dt.date) -> Series:
    start, end = _bounds(first, last)
    month = _month(session, CCPReading.measured_at)
    rows = session.execute(
        select(CriticalControlPoint.name, month, func.count())
        .join(CriticalControlPoint, CriticalControlPoint.id == CCPReading.ccp_id)
        .where(CCPReading.deviation.is_(True), CCPReading.measured_at >= start, CCPReading.measured_at < end)
        .group_by(CriticalControlPoint.name, month)).all()
    columns = months(first, last)
    points = sorted({name for name, *_ in rows})
    open_ = session.scalar(select(func.count()).select_from(CCPReading).where(
        CCPReading.deviation.is_(True), CCPReading.measured_at >= start, CCPReading.measured_at < end,
        or_(CCPReading.corrective_action.is_(None), func.trim(CCPReading.corrective_action) == "")))
    return Series("ccp_deviations", "关键控制点偏离次数（按控制点、月份）", "", columns, points,
                  _grid({(n, m): float(c) for n, m, c in rows}, points, columns), BAR,
                  f"其中尚无纠偏措施 {open_} 次")


def supplier_performance(session: Session, first: dt.date, last: dt.date) -> Series:
    """Per supplier: receipts, rejected ones, ones without a certificate, the last evaluation score."""
    rows = session.execute(
        select(Supplier.name, func.count(IncomingInspection.id),
               func.sum(case((IncomingInspection.decision == "rejected", 1), else_=0)),
               func.sum(case((or_(IncomingInspection.certificate_no.is_(None),
                                  func.trim(IncomingInspection.certificate_no) == ""), 1), else_=0)))
        .join(Supplier, Supplier.id == IncomingInspection.supplier_id)
        .where(IncomingInspection.receipt_date >= first, IncomingInspection.receipt_date <= last)
        .group_by(Supplier.name).order_by(Supplier.name)).all()
    newest = select(SupplierEvaluation.supplier_id, func.max(SupplierEvaluation.evaluated_on).label("on")) \
        .where(SupplierEvaluation.evaluated_on <= last).group_by(SupplierEvaluation.supplier_id).subquery()
    scores = dict(session.execute(
        select(Supplier.name, SupplierEvaluation.score)
        .join(SupplierEvaluation, SupplierEvaluation.supplier_id == Supplier.id)
        .join(newest, and_(newest.c.supplier_id == SupplierEvaluation.supplier_id,
                           newest.c.on == SupplierEvaluation.evaluated_on))).all())
    columns = ["到货批次", "拒收批次", "缺少合格证明", "最近评价得分"]
    names = [name for name, *_ in rows]
    values = [[float(n), float(rejected or 0), float(missing or 0), float(scores.get(name) or 0)]
              for name, n, rejected, missing in rows]
    return Series("suppliers", "供应商表现", "批次", columns, names, values, TABLE, "", 3)


def recalls(session: Session, first: dt.date, last: dt.date) -> Series:
    """Each recall started in the period: units delivered, units returned, and the share returned."""
    delivered = (select(RecallProgress.recall_id, func.sum(Delivery.units).label("units"),
                        func.sum(RecallProgress.units_returned).label("returned"))
                 .join(Delivery, Delivery.id == RecallProgress.delivery_id)
                 .group_by(RecallProgress.recall_id).subquery())
    rows = session.execute(
        select(Recall.recall_no, Recall.status, delivered.c.units, delivered.c.returned)
        .outerjoin(delivered, delivered.c.recall_id == Recall.id)
        .where(Recall.started_on >= first, Recall.started_on <= last).order_by(Recall.started_on)).all()
    values = []
    for _no, _status, units, returned in rows:
        units, returned = float(units or 0), float(returned or 0)
        values.append([units, returned, round(100.0 * returned / units, 1) if units else 0.0])
    closed = sum(1 for _n, status, *_ in rows if status == "closed")
    return Series("recalls", "召回及其有效性", "件", ["已售出", "已召回", "召回率（%）"],
                  [no for no, *_ in rows], values, TABLE, f"共 {len(rows)} 次召回，已结束 {closed} 次", 2)


def archive_completeness(session: Session, first: dt.date, last: dt.date) -> Series:
    """Archives opened in the period, by kind: sealed and still open."""
    start, end = _bounds(first, last)
    rows = session.execute(
        select(Archive.kind, func.count(), func.sum(case((Archive.status == "sealed", 1), else_=0)))
        .where(Archive.created_at >= start, Archive.created_at < end).group_by(Archive.kind)).all()
    kinds = [k for k in ARCHIVE_KIND if any(kind == k for kind, *_ in rows)]
    counts = {kind: (total, int(sealed or 0)) for kind, total, sealed in rows}
    values = [[float(counts[k][1]), float(counts[k][0] - counts[k][1])] for k in kinds]
    return Series("archives", "档案完整性（本期建立的案卷）", "卷", ["已封卷", "整理中"],
                  [ARCHIVE_KIND[k] for k in kinds], values, BAR)


def upload_backlog(session: Session, first: dt.date, last: dt.date) -> Series:
    """Records queued for the platform each month: acknowledged, still waiting, rejected."""
    from app.models import OutboxEntry

    start, end = _bounds(first, last)
    month = _month(session, OutboxEntry.created_at)
    rows = session.execute(
        select(OutboxEntry.status, month, func.count())
        .where(OutboxEntry.created_at >= start, OutboxEntry.created_at < end)
        .group_by(OutboxEntry.status, month)).all()
    columns = months(first, last)
    names = {"acknowledged": "已确认", "pending": "待上传", "sent": "已发送待确认", "rejected": "被拒收"}
    present = [s for s in names if any(status == s for status, *_ in rows)]
    cells = {(names[s], m): float(n) for s, m, n in rows if s in names}
    return Series("upload", "上传追溯平台（按排队月份）", "条", columns, [names[s] for s in present],
                  _grid(cells, [names[s] for s in present], columns), BAR)


CHARTS = (pass_rates, ccp_deviations, supplier_performance, recalls, archive_completeness, upload_backlog)


def evaluate(session: Session, first: dt.date, last: dt.date) -> Evaluation:
    if last < first:
        from .common import fail

        raise fail("to", "截止日期", "「截止日期」不能早于「起始日期」")
    return Evaluation(first, last, [chart(session, first, last) for chart in CHARTS])
