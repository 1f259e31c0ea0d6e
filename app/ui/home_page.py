"""The home page (issue 17): who is signed in, what they are to do, what to
watch. Each line opens its record; the lines are gathered on the task
runner by ``app.services.home`` and gathered again after every write."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.i18n import tr
from app.services import alerts
from app.services.home import Home, Line, home

from .context import AppContext
from .dialogs import show_error

log = logging.getLogger("ui.home")

COLOURS = {alerts.OVERDUE: "#b3261e", alerts.DUE: "#9a6700", alerts.NOTICE: "#57606a"}
# Records without a ledger of their own open the page that shows them.
PAGES = {"OutboxEntry": "upload_status", "Archive": "archive_browser"}
LINE = Qt.ItemDataRole.UserRole


class HomePage(QWidget):
    loaded = Signal()
    # A page to show (its key): the main window navigates there.
    open_page = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.data: Home | None = None
        self._loading = self._again = False
        self.greeting = QLabel(tr("Loading…"))
        font = QFont(self.greeting.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.greeting.setFont(font)
        self.greeting.setObjectName("greeting")
        self.refresh_button = QPushButton(tr("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.greeting, 1)
        top.addWidget(self.refresh_button)
        self.todos = self._list("todos")
        self.alerts = self._list("alerts")
        self.todo_box = QGroupBox(tr("To do"))
        QVBoxLayout(self.todo_box).addWidget(self.todos)
        self.alert_box = QGroupBox(tr("Alerts"))
        QVBoxLayout(self.alert_box).addWidget(self.alerts)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.todo_box, 1)
        layout.addWidget(self.alert_box, 1)
        self.refresh()

    def _list(self, name: str) -> QListWidget:
        widget = QListWidget()
        widget.setObjectName(name)
        widget.setWordWrap(True)
        widget.setAlternatingRowColors(True)
        widget.itemActivated.connect(self.open_line)
        widget.itemClicked.connect(self.open_line)
        return widget

    # ------------------------------------------------------------ loading

    def refresh(self) -> None:
        if self._loading:
            self._again = True  # a write during the gathering: gather once more when it ends
            return
        self._loading, self._again = True, False
        self.refresh_button.setEnabled(False)
        roles = None if (self.ctx.acting and self.ctx.acting.is_system) else self.ctx.roles

        def task(_progress):
            with self.ctx.read() as session:
                return home(session, roles)

        self.ctx.runner.run(task, lambda data: isValid(self) and self.show_home(data),
                            lambda error: isValid(self) and self._failed(error))

    def _failed(self, error: BaseException) -> None:
        self._loading = False
        self.refresh_button.setEnabled(True)
        self.greeting.setText(tr("The home page could not be loaded."))
        show_error(self, error)
        self.loaded.emit()

    def show_home(self, data: Home) -> None:
        self._loading = False
        if self._again:
            self.refresh()
        self.refresh_button.setEnabled(True)
        self.data = data
        self.greeting.setText(tr("{user} · {posts} · {day}", user=data.user, posts=data.posts,
                                 day=data.today.isoformat()))
        self._fill(self.todos, data.todos, tr("Nothing to do."))
        self._fill(self.alerts, data.alerts, tr("No alerts."))
        self.todo_box.setTitle(tr("To do ({count})", count=len(data.todos)))
        self.alert_box.setTitle(tr("Alerts ({count})", count=len(data.alerts)))
        self.loaded.emit()

    @staticmethod
    def _fill(widget: QListWidget, lines: list[Line], empty: str) -> None:
        widget.setUpdatesEnabled(False)
        widget.clear()
        if not lines:
            item = QListWidgetItem(empty)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            widget.addItem(item)
        for line in lines:
            item = QListWidgetItem(line.title)
            item.setData(LINE, line)
            item.setForeground(QBrush(QColor(COLOURS.get(line.severity, "#000000"))))
            item.setToolTip(tr("Click to open."))
            widget.addItem(item)
        widget.setUpdatesEnabled(True)

    def page_counts(self) -> dict[str, int]:
        """Lines per navigation page (the key of a ledger's page, or of the page showing the record)."""
        counts: dict[str, int] = {}
        for key, count in (self.data.counts if self.data else {}).items():
            page = PAGES.get(key, key)
            counts[page] = counts.get(page, 0) + count
        return counts

    def lines(self, widget: QListWidget) -> list[str]:
        return [widget.item(i).text() for i in range(widget.count())]

    # ------------------------------------------------------------ opening

    def open_line(self, item: QListWidgetItem) -> None:
        line: Line | None = item.data(LINE)
        if line is None:
            return
        if line.ledger and line.record_id is not None:
            from .record_dialog import RecordDialog

            RecordDialog.open(self.ctx, line.ledger, line.record_id, parent=self)
        elif line.model in PAGES:
            self.open_page.emit(PAGES[line.model])
        elif line.ledger:
            self.open_page.emit(line.ledger)
