"""R2.9: the readings of a device file, drawn on the monthly safety volume
beside the register of the import, with the alarm limits in red — so the
paper shows what the thousands of readings did, not only that they exist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from sqlalchemy import select

from app.models import EnvironmentReading

from .fonts import FONT

MAX_POINTS = 600  # enough for the shape of a month; the file itself is attached
LINE_COLOUR = colors.HexColor("#209fdf")
LIMIT_COLOUR = colors.HexColor("#c0392b")


@dataclass
class ReadingChart:
    title: str                      # where and what: 「冷库 1 温度（℃）」
    start: dt.datetime
    end: dt.datetime
    points: list[tuple[float, float]] = field(default_factory=list)  # (hours since start, value)
    low: float | None = None
    high: float | None = None
    alarms: int = 0


def charts_of_imports(session, imports) -> list[ReadingChart]:
    """One chart per place and parameter of each imported file."""
    charts = []
    for kept in imports:
        readings = session.execute(
            select(EnvironmentReading.location, EnvironmentReading.parameter, EnvironmentReading.unit,
                   EnvironmentReading.measured_at, EnvironmentReading.value, EnvironmentReading.alarm_low,
                   EnvironmentReading.alarm_high, EnvironmentReading.alarm)
            .where(EnvironmentReading.source_file_id == kept.attachment_id)
            .order_by(EnvironmentReading.location, EnvironmentReading.parameter, EnvironmentReading.measured_at)).all()
        groups: dict[tuple[str, str, str], list] = {}
        for row in readings:
            groups.setdefault((row.location, row.parameter, row.unit), []).append(row)
        for (location, parameter, unit), rows in groups.items():
            charts.append(_chart(f"{location} {parameter}（{unit}）", rows))
    return charts


def _chart(title: str, rows: list) -> ReadingChart:
    start, end = rows[0].measured_at, rows[-1].measured_at
    step = max(1, -(-len(rows) // MAX_POINTS))
    # Every alarm reading is kept whatever the thinning: the paper must show each excursion.
    shown = [r for i, r in enumerate(rows) if i % step == 0 or r.alarm]
    lows = [r.alarm_low for r in rows if r.alarm_low is not None]
    highs = [r.alarm_high for r in rows if r.alarm_high is not None]
    return ReadingChart(
        title=title, start=start, end=end,
        points=[((r.measured_at - start).total_seconds() / 3600, float(r.value)) for r in shown],
        low=float(lows[-1]) if lows else None, high=float(highs[-1]) if highs else None,
        alarms=sum(1 for r in rows if r.alarm))


def caption(chart: ReadingChart) -> str:
    """The chart's title line, set as text (not in the drawing) so a unit such
    as ℃ gets the fallback font like every other printed line."""
    limits = "、".join(f"{name} {value:g}" for name, value in (("下限", chart.low), ("上限", chart.high))
                      if value is not None)
    return f"{chart.title}：超限 {chart.alarms} 次" + (f"；报警限（红色虚线）：{limits}" if limits else "")


def drawing(chart: ReadingChart, width: float, height: float = 52 * mm) -> Drawing:
    """Axes and the readings; the title is ``caption``."""
    picture = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 34, 26, width - 44, height - 32
    span = max(chart.points[-1][0] if chart.points else 0, 1e-6)
    lines = [chart.points or [(0, 0)]]
    for limit in (chart.low, chart.high):
        if limit is not None:
            lines.append([(0, limit), (span, limit)])
    plot.data = lines
    plot.lines[0].strokeColor, plot.lines[0].strokeWidth = LINE_COLOUR, 0.8
    for i in range(1, len(lines)):
        plot.lines[i].strokeColor, plot.lines[i].strokeWidth = LIMIT_COLOUR, 0.8
        plot.lines[i].strokeDashArray = (3, 2)
    values = [v for line in lines for _, v in line]
    low, high = min(values), max(values)
    margin = max((high - low) * 0.1, 0.5)
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = low - margin, high + margin
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, span
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize = FONT, 7
    plot.xValueAxis.labelTextFormat = "%.0f" if span >= 5 else "%.1f"
    picture.add(plot)
    picture.add(String(plot.x + plot.width / 2, 4,
                       f"自 {chart.start:%Y-%m-%d %H:%M} 起的小时数（至 {chart.end:%Y-%m-%d %H:%M}）",
                       fontName=FONT, fontSize=7, textAnchor="middle"))
    return picture
