"""R7.2: the statistics page — a period, and one chart per figure of
``app.services.evaluation`` drawn with QtCharts (README: why QtCharts);
each chart saves as a PNG."""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCharts import (
    QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QHorizontalBarSeries, QLineSeries, QValueAxis,
)
from PySide6.QtCore import QDate, QMargins, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QDateEdit, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QScrollArea, QSizePolicy,
    QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app import clock
from app.i18n import tr
from app.services.evaluation import LINE, TABLE, Evaluation, Series, evaluate, month_labels

from .context import AppContext
from .dialogs import Dialogs, show_error

log = logging.getLogger("ui.statistics")

CHART_HEIGHT = 300


def build_chart(series: Series) -> QChart:
    """The chart of one figure: months (or measures) along the bottom, one
    bar set or line per row; a TABLE figure as grouped bars of its columns."""
    chart = QChart()
    chart.setTitle(series.title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.setMargins(QMargins(4, 4, 4, 4))
    axis_x = QBarCategoryAxis()
    axis_y = QValueAxis()
    axis_y.setTitleText(series.unit)
    axis_y.setLabelFormat("%.0f")
    drawn = len(series.chart_columns)
    numbers = [v for row in series.values for v in row[:drawn] if v is not None]
    axis_y.setRange(0, 100 if series.unit == "%" else max([*numbers, 4.0]))
    axis_y.applyNiceNumbers()
    labels, span = month_labels(series.columns)
    axis_x.setTitleText(span)
    if series.kind == LINE:
        axis_x.append(labels)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        for name, row in zip(series.rows, series.values):
            line = QLineSeries()
            line.setName(name)
            line.setPointsVisible(True)
            for index, value in enumerate(row):
                if value is not None:
                    line.append(index, value)
            chart.addSeries(line)
            line.attachAxis(axis_x)
            line.attachAxis(axis_y)
        return chart
    if series.kind == TABLE:  # one bar per row and measure, the names down the left side
        bars = QHorizontalBarSeries()
        for c, column in enumerate(series.chart_columns):
            bar = QBarSet(column)
            bar.append([row[c] or 0.0 for row in series.values])
            bars.append(bar)
        names = QBarCategoryAxis()
        names.append(series.rows)
        chart.addSeries(bars)
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignBottom)  # the values run across
        chart.addAxis(names, Qt.AlignmentFlag.AlignLeft)
        bars.attachAxis(axis_y)
        bars.attachAxis(names)
        return chart
    bars = QBarSeries()
    axis_x.append(labels)
    for name, row in zip(series.rows, series.values):
        bar = QBarSet(name)
        bar.append([v or 0.0 for v in row])
        bars.append(bar)
    chart.addSeries(bars)
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    bars.attachAxis(axis_x)
    bars.attachAxis(axis_y)
    return chart


class ChartBox(QGroupBox):
    """One figure: its chart, its note, a table for the TABLE kind, and 保存为 PNG."""

    def __init__(self, series: Series, parent: QWidget | None = None):
        super().__init__(parent)  # the chart carries the title: a saved PNG shows it too
        self.series = series
        self.setObjectName(f"chart_{series.key}")
        layout = QVBoxLayout(self)
        if series.empty:
            self.view = None
            layout.addWidget(QLabel(tr("No data in this period.")))
            return
        self.view = QChartView(build_chart(series))
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(max(CHART_HEIGHT, 90 + 14 * len(series.rows) * len(series.chart_columns))
                                   if series.kind == TABLE else CHART_HEIGHT)
        layout.addWidget(self.view, 1)
        if series.kind == TABLE:
            layout.addWidget(self._table())
        bar = QHBoxLayout()
        bar.addWidget(QLabel(series.note), 1)
        self.save_button = QPushButton(tr("Save as PNG…"))
        self.save_button.clicked.connect(self.ask_and_save)
        bar.addWidget(self.save_button)
        layout.addLayout(bar)

    def _table(self) -> QTableWidget:
        s = self.series
        table = QTableWidget(len(s.rows), len(s.columns) + 1)
        table.setHorizontalHeaderLabels([tr("Name"), *s.columns])
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for r, (name, row) in enumerate(zip(s.rows, s.values)):
            table.setItem(r, 0, QTableWidgetItem(name))
            for c, value in enumerate(row, start=1):
                table.setItem(r, c, QTableWidgetItem("" if value is None else f"{value:g}"))
        table.setMaximumHeight(min(220, 30 + 26 * len(s.rows)))
        # A wide table scrolls inside its half of the page instead of widening it.
        table.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        return table

    def save_png(self, path: str) -> bool:
        return self.view is not None and self.view.grab().save(path, "PNG")

    def ask_and_save(self) -> None:
        path = Dialogs.save_file(self, tr("Save as PNG…"), f"{self.series.title}.png", tr("PNG image (*.png)"))
        if path and not self.save_png(path):
            Dialogs.warn(self, tr("Save as PNG…"), tr("The picture could not be saved to {path}.", path=path))


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


class StatisticsPage(QWidget):
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.evaluation: Evaluation | None = None
        self.boxes: dict[str, ChartBox] = {}
        today = clock.today()
        self.first = QDateEdit(_qdate(today.replace(month=1, day=1)), calendarPopup=True)
        self.last = QDateEdit(_qdate(today), calendarPopup=True)
        for edit in (self.first, self.last):
            edit.setDisplayFormat("yyyy-MM-dd")
        self.go = QPushButton(tr("Show"))
        self.go.clicked.connect(self.refresh)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("From")))
        bar.addWidget(self.first)
        bar.addWidget(QLabel(tr("to")))
        bar.addWidget(self.last)
        for text, months in ((tr("This month"), 1), (tr("Last 3 months"), 3), (tr("Last 12 months"), 12)):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, n=months: self.choose_months(n))
            bar.addWidget(button)
        bar.addWidget(self.go)
        bar.addStretch(1)
        self.status = QLabel(tr("Loading…"))
        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setColumnStretch(0, 1)
        self.grid.setColumnStretch(1, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        self.refresh()

    def choose_months(self, count: int) -> None:
        today = clock.today()
        first = today.replace(day=1)
        for _ in range(count - 1):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        self.first.setDate(_qdate(first))
        self.last.setDate(_qdate(today))
        self.refresh()

    def period(self) -> tuple[dt.date, dt.date]:
        return self.first.date().toPython(), self.last.date().toPython()

    def refresh(self) -> None:
        first, last = self.period()
        self.status.setText(tr("Loading…"))
        # Only the newest period asked for is shown: an older answer arriving late is dropped.
        self._asked = getattr(self, "_asked", 0) + 1
        number = self._asked

        def task(_progress):
            with self.ctx.read() as session:
                return evaluate(session, first, last)

        def shown(data) -> None:
            if isValid(self) and number == self._asked:
                self.show_evaluation(data)

        def failed(error) -> None:
            if isValid(self) and number == self._asked:
                self._failed(error)

        self.ctx.runner.run(task, shown, failed)

    def _failed(self, error: BaseException) -> None:
        self.status.setText(tr("The statistics could not be loaded."))
        show_error(self, error)
        self.loaded.emit()

    def show_evaluation(self, data: Evaluation) -> None:
        self.evaluation = data
        while (old := self.grid.takeAt(0)) is not None:
            old.widget().deleteLater()
        self.boxes = {}
        for index, series in enumerate(data.charts):
            box = ChartBox(series)
            self.boxes[series.key] = box
            self.grid.addWidget(box, index // 2, index % 2)
        self.status.setText(tr("Statistics of {first} to {last}.", first=data.first.isoformat(),
                               last=data.last.isoformat()))
        self.loaded.emit()
