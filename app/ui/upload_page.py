"""R6.3 and R7.3: the upload and statistics page.

On top, the platform upload status panel (``upload_panel``); below, real
counts from the database — archives, batches, recent deliveries and the
things that need attention — gathered on the task runner by
``app.services.statistics`` (plain data, testable without a widget).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.i18n import lazy, tr
from app.ledgers.choices import ARCHIVE_KIND, ARCHIVE_STATUS, BATCH_STATUS
from app.services.statistics import statistics

from .context import AppContext
from .dialogs import show_error
from .upload_panel import UploadPanel

log = logging.getLogger("ui.upload")

ATTENTION = (
    ("deliveries", lazy("Deliveries in the last 30 days"), False),
    ("open_deviations", lazy("CCP deviations without corrective action"), True),
    ("expiring_lots", lazy("Material lots in stock expired or expiring within 30 days"), True),
    ("expiring_licences", lazy("Supplier licences expired or expiring within 30 days"), True),
)


def _table(headers: list[str], rows: list[list[str]]) -> QWidget:
    if not rows:
        return QLabel(tr("None."))
    table = QTableWidget(len(rows), len(headers), alternatingRowColors=True)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeRowsToContents()
    if len(rows) <= 12:  # as tall as its rows: a short table leaves no empty grid below it
        height = table.horizontalHeader().sizeHint().height() + sum(table.rowHeight(r) for r in range(len(rows)))
        table.setMaximumHeight(height + 2 * table.frameWidth() + 2)
    return table


class UploadPage(QWidget):
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.stats: dict | None = None
        self.upload = UploadPanel(ctx)
        self.refresh_button = QPushButton(tr("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        self.refresh_button.clicked.connect(lambda: self.upload.refresh())
        self.when = QLabel(tr("Loading…"))
        bar = QHBoxLayout()
        bar.addWidget(self.when, 1)
        bar.addWidget(self.refresh_button)
        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setRowStretch(2, 1)  # the groups keep their height; the space left stays below them
        layout = QVBoxLayout(self)
        layout.addWidget(self.upload)
        layout.addLayout(bar)
        layout.addWidget(self.body, 1)
        self.refresh()

    def refresh(self) -> None:
        self.refresh_button.setEnabled(False)

        def task(_progress):
            with self.ctx.read() as session:
                return statistics(session)

        self.ctx.runner.run(task, lambda stats: isValid(self) and self._show(stats),
                            lambda error: isValid(self) and self._failed(error))

    def _failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.when.setText(tr("The statistics could not be loaded."))
        show_error(self, error)
        self.loaded.emit()

    def _show(self, stats: dict) -> None:
        self.stats = stats
        self.refresh_button.setEnabled(True)
        while (old := self.grid.takeAt(0)) is not None:
            old.widget().deleteLater()
        total = sum(stats["archives"].values())
        self.when.setText(tr("Statistics of {day}.", day=stats["today"].isoformat()))
        self.archive_total = QLabel(tr("{count} archives in all.", count=total))
        archives = self._group(tr("Archives by kind and status"), self._archive_table(stats), self.archive_total)
        self.grid.addWidget(archives, 0, 0)
        batch_rows = [[BATCH_STATUS.get(s, s), str(n)] for s, n in sorted(stats["batches"].items())]
        self.grid.addWidget(self._group(tr("Product batches by status"),
                                        _table([tr("Status"), tr("Count")], batch_rows)), 0, 1)
        self.grid.addWidget(self._group(tr("Needs attention"), *self._attention(stats)), 1, 0)
        documents = [[d["supplier"], d["kind"], d["number"], d["valid_to"].isoformat()] for d in stats["documents"]]
        self.grid.addWidget(self._group(tr("Supplier licences expiring"), _table(
            [tr("Supplier"), tr("Document"), tr("Number"), tr("Valid until")], documents)), 1, 1)
        self.loaded.emit()

    @staticmethod
    def _group(title: str, *widgets: QWidget) -> QGroupBox:
        box = QGroupBox(title)
        layout = QVBoxLayout(box)
        for widget in widgets:
            layout.addWidget(widget)
        layout.addStretch(1)
        return box

    @staticmethod
    def _archive_table(stats: dict) -> QTableWidget:
        counts = stats["archives"]
        rows = []
        for kind, label in ARCHIVE_KIND.items():
            cells = [counts.get((kind, status), 0) for status in ARCHIVE_STATUS]
            rows.append([label, *(str(n) for n in cells), str(sum(cells))])
        totals = [sum(n for (_kind, s), n in counts.items() if s == status) for status in ARCHIVE_STATUS]
        rows.append([tr("Total"), *(str(n) for n in totals), str(sum(counts.values()))])
        headers = [tr("Kind"), *ARCHIVE_STATUS.values(), tr("Total")]
        return _table(headers, rows)

    @staticmethod
    def _attention(stats: dict) -> list[QLabel]:
        labels = []
        for key, text, bad in ATTENTION:
            label = QLabel(f"{text}：<b>{stats[key]}</b>")
            if bad and stats[key]:
                label.setStyleSheet("color: #b00020;")
            label.setObjectName(key)
            labels.append(label)
        return labels
