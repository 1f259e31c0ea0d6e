"""G§48: the periodic evaluation report — the statistics page's figures drawn
without Qt (reportlab.graphics), each with its table, in one PDF that is
filed in the safety-management archive of the month the period ends in."""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Archive, Enterprise
from app.services.evaluation import LINE, TABLE, Evaluation, Series, evaluate, month_labels

from .fonts import FONT, from_settings
from .layout import LEFT, RIGHT, WIDTH, Styles, cell, grid, para

log = logging.getLogger("reports")

PALETTE = [colors.HexColor(c) for c in ("#209fdf", "#99ca53", "#f6a625", "#6d5fd5", "#bf593e", "#4d8f8b",
                                         "#c0307f", "#7d7d7d")]
CHART_H = 62 * mm


def _legend(drawing: Drawing, names: list[str], y: float) -> None:
    legend = Legend()
    legend.fontName, legend.fontSize = FONT, 7
    legend.x, legend.y = 8, y
    legend.alignment = "right"
    legend.columnMaximum = 1 if len(names) <= 6 else 2
    legend.boxAnchor = "nw"
    legend.dx = legend.dy = 6
    legend.deltax = max(40, min(120, WIDTH / max(1, min(len(names), 6))))
    legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], name) for i, name in enumerate(names)]
    drawing.add(legend)


def _whole_steps(chart, values) -> None:
    """Counts are whole numbers: no 0.2 steps on the axis."""
    top = max([v or 0 for row in values for v in row] + [1])
    raw = max(1.0, top / 5)
    scale = 10 ** math.floor(math.log10(raw))
    step = int(next(n * scale for n in (1, 2, 5, 10) if n * scale >= raw))  # 1, 2, 5 × 10ⁿ
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, step * math.ceil(top / step), step


def _axis_fonts(chart) -> None:
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName, axis.labels.fontSize = FONT, 7


def chart_drawing(series: Series) -> Drawing:
    """One figure as a vector drawing: lines for rates, bars for counts,
    horizontal bars (names on the left) for a TABLE figure."""
    labels, span = month_labels(series.columns)
    if series.kind == TABLE:
        return _horizontal(series)
    drawing = Drawing(WIDTH, CHART_H)
    chart = HorizontalLineChart() if series.kind == LINE else VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 40, WIDTH - 40, CHART_H - 52
    if series.kind == LINE:
        # A month without an inspection has no point (None), not a rate of 0.
        chart.data = [tuple(v for v in row) for row in series.values]
        for i in range(len(series.rows)):
            chart.lines[i].strokeColor = PALETTE[i % len(PALETTE)]
            chart.lines[i].strokeWidth = 1.2
            chart.lines[i].symbol = None
        chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    else:
        chart.data = [tuple(v or 0 for v in row) for row in series.values]
        for i in range(len(series.rows)):
            chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
            chart.bars[i].strokeColor = None
        _whole_steps(chart, series.values)
        chart.barSpacing, chart.groupSpacing = 0.5, 3
    chart.categoryAxis.categoryNames = labels
    _axis_fonts(chart)
    drawing.add(chart)
    if span:
        drawing.add(String(WIDTH - 2, CHART_H - 8, span, fontName=FONT, fontSize=7, textAnchor="end"))
    if series.unit:
        drawing.add(String(2, CHART_H - 8, series.unit, fontName=FONT, fontSize=7))
    _legend(drawing, series.rows, 14)
    return drawing


def _horizontal(series: Series) -> Drawing:
    drawn = len(series.chart_columns)
    height = max(CHART_H, 30 + 7 * len(series.rows) * drawn + 20)
    drawing = Drawing(WIDTH, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 130, 40, WIDTH - 145, height - 48
    chart.data = [tuple(row[c] or 0 for row in series.values) for c in range(drawn)]
    for i in range(drawn):
        chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
        chart.bars[i].strokeColor = None
    chart.categoryAxis.categoryNames = series.rows
    chart.categoryAxis.reverseDirection = True  # the first row on top, as in the table
    _whole_steps(chart, [row[:drawn] for row in series.values])
    chart.barSpacing, chart.groupSpacing = 0.5, 2
    _axis_fonts(chart)
    drawing.add(chart)
    _legend(drawing, series.chart_columns, 14)
    return drawing


def _table(series: Series, styles: Styles):
    """The numbers behind the chart: a TABLE figure as it is; a monthly one with the months across."""
    def text(value) -> str:
        return "—" if value is None else f"{value:g}"

    columns = series.columns
    first = 34 * mm if series.kind != TABLE else 60 * mm
    width = (WIDTH - first) / max(1, len(columns))
    head = [cell("", styles.head, first), *(cell(c, styles.head, width) for c in columns)]
    rows = [[cell(name, styles.cell, first), *(text(v) for v in values)]
            for name, values in zip(series.rows, series.values)]
    return grid([head, *rows], [first, *[width] * len(columns)])


def build(evaluation: Evaluation, enterprise: str, path: str | Path) -> int:
    """Write the PDF; the number of figures drawn."""
    styles = Styles()
    story = [para(f"{enterprise}", styles.title),
             para(f"食品安全管理评价报告（{evaluation.first} 至 {evaluation.last}）", styles.title),
             para("依据：食品生产企业落实食品安全主体责任监督管理规定，定期统计分析档案数据并作出评价。"
                  "下列各图的数据取自本系统的记录，与统计分析页面一致。", styles.body),
             Spacer(1, 4 * mm)]
    drawn = 0
    for number, series in enumerate(evaluation.charts, start=1):
        block = [para(f"{number}. {series.title}", styles.cover)]
        if series.empty:
            block.append(para("本期没有数据。", styles.body))
        else:
            block += [chart_drawing(series), Spacer(1, 2 * mm), _table(series, styles)]
            drawn += 1
        if series.note:
            block.append(para(series.note, styles.body))
        story += [KeepTogether(block), Spacer(1, 5 * mm)]
    doc = SimpleDocTemplate(str(path), pagesize=(210 * mm, 297 * mm), leftMargin=LEFT, rightMargin=RIGHT,
                            topMargin=18 * mm, bottomMargin=18 * mm,
                            title=f"食品安全管理评价报告 {evaluation.first}—{evaluation.last}", author=enterprise)
    doc.build(story)
    return drawn


def filing_archive(session: Session, last: dt.date) -> Archive:
    """The safety-management archive of the month the period ends in (opened if need be)."""
    from app.services import archives

    return archives.file_safety_month(session, last.year, last.month)


def make_report(session: Session, first: dt.date, last: dt.date, path: str | Path) -> tuple[int, Archive, str]:
    """Build the report, attach it to its archive; (figures drawn, archive, note)."""
    from app.services import attachments

    from_settings(session)
    evaluation = evaluate(session, first, last)
    enterprise = session.scalar(select(Enterprise.name).limit(1)) or ""
    drawn = build(evaluation, enterprise, path)
    archive = filing_archive(session, last)
    name = f"食品安全管理评价报告_{first:%Y%m%d}-{last:%Y%m%d}.pdf"
    if archive.status == "sealed":
        return drawn, archive, f"档案 {archive.archive_no} 已封卷，报告未归入（PDF 已写出）"
    attachments.attach(session, "archive", archive.id, name, Path(path).read_bytes(),
                       f"{first} 至 {last} 的定期评价报告")
    return drawn, archive, f"已归入安全管理档案 {archive.archive_no}"
