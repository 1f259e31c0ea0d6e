"""Small pieces the workflow screens (batch workbench, release desk) share:
inputs that hold ids or exact decimals, an inline error label, a read-only
table filler, and ``WorkflowScreen``, which runs every load and write through
the task runner and hands the widgets plain data only."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from decimal import Decimal

import shiboken6
from PySide6.QtCore import QDate, QDateTime, QRegularExpression, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app import clock
from app.errors import UserError
from app.ledgers import ledger

from .context import AppContext
from .dialogs import show_error
from .tasks import writes

log = logging.getLogger("ui")

RED = QColor("#b3261e")
RED_BG = QColor("#fde2e0")
AMBER_BG = QColor("#fff1c2")
GREEN = QColor("#1b6e20")


def label_of(ledger_key: str, field: str) -> str:
    """The Chinese label a ledger declaration gives a field (already translated at the source)."""
    return ledger(ledger_key).field(field).label


def fmt_qty(value: Decimal | None) -> str:
    """A quantity as the ledgers print it: 65, 209.77."""
    return "" if value is None else ledger("feeding").field("quantity").display(value)


# ------------------------------------------------------------------ inputs


class DecimalEdit(QLineEdit):
    """A quantity or a reading: digits, an optional sign and up to three decimals."""

    def __init__(self, placeholder: str = "", *, signed: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        pattern = (r"-?" if signed else "") + r"\d{0,9}([.]\d{0,3})?"
        self.setValidator(QRegularExpressionValidator(QRegularExpression(pattern), self))
        self.setPlaceholderText(placeholder)
        self.setMaximumWidth(120)

    def value(self) -> str | None:
        text = self.text().strip()
        return text or None


class IdCombo(QComboBox):
    """A combo of (id, text) rows that keeps the chosen id across reloads."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

    def set_rows(self, rows: Sequence[tuple[int, str]], preferred: int | None = None) -> None:
        keep = self.current_id()
        self.blockSignals(True)
        self.clear()
        for row_id, text in rows:
            self.addItem(text, row_id)
        self.blockSignals(False)
        for wanted in (keep, preferred):
            if wanted is not None and self.select_id(wanted):
                break
        self.currentIndexChanged.emit(self.currentIndex())

    def set_people(self, people: Sequence, *, posts: Sequence[str] = (), team: str | None = None) -> None:
        """Staff (``PersonRow``), preferring someone of ``team``, else the first of the first post in ``posts``."""
        preferred = next((p.id for p in people if team and p.team == team), None)
        for post in posts:
            preferred = preferred or next((p.id for p in people if p.post == post), None)
        self.set_rows([(p.id, p.text) for p in people], preferred)

    def current_id(self) -> int | None:
        value = self.currentData()
        return int(value) if value is not None else None

    def select_id(self, row_id: int) -> bool:
        index = self.findData(row_id)
        if index >= 0:
            self.setCurrentIndex(index)
        return index >= 0

    def id_for_text(self, text: str) -> int | None:
        """The id of the row whose text starts with ``text`` (a name, a number)."""
        for index in range(self.count()):
            if self.itemText(index).startswith(text):
                return int(self.itemData(index))
        return None


def datetime_edit(parent: QWidget | None = None) -> QDateTimeEdit:
    edit = QDateTimeEdit(QDateTime(clock.now()), parent)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    edit.setCalendarPopup(True)
    return edit


def date_edit(parent: QWidget | None = None) -> QDateEdit:
    edit = QDateEdit(QDate(clock.today()), parent)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setCalendarPopup(True)
    return edit


def moment(edit: QDateTimeEdit) -> dt.datetime:
    return edit.dateTime().toPython().replace(second=0, microsecond=0)


class ErrorLabel(QLabel):
    """The service's Chinese message, in red, next to the action that failed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet(f"color: {RED.name()};")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.show_message("")


def row(*widgets, stretch: bool = True) -> QHBoxLayout:
    """A horizontal line of a compact form: labels as plain strings, widgets as they are."""
    layout = QHBoxLayout()
    for widget in widgets:
        if isinstance(widget, str):
            widget = QLabel(widget)
        layout.addWidget(widget)
    if stretch:
        layout.addStretch(1)
    return layout


def action_button(text: str, slot: Callable[[], None]) -> QPushButton:
    button = QPushButton(text)
    button.clicked.connect(lambda _checked=False: slot())
    return button


# ------------------------------------------------------------------ tables


def make_table(headers: Sequence[str], *, stretch: int | None = None, numbers: Sequence[int] = ()) -> QTableWidget:
    """A read-only table; ``numbers`` are the columns aligned right."""
    table = QTableWidget(0, len(headers))
    table.setProperty("numbers", list(numbers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    else:
        header.setStretchLastSection(True)
    return table


def fill_table(
    table: QTableWidget,
    rows: Sequence[Sequence[str]],
    *,
    keys: Sequence[object] | None = None,
    backgrounds: Sequence[QColor | None] | None = None,
    foregrounds: Sequence[QColor | None] | None = None,
    tooltips: Sequence[str | None] | None = None,
) -> None:
    """Replace the rows; ``keys`` go to the first cell's UserRole, the selection follows its key."""
    selected = selected_key(table)
    numbers = set(table.property("numbers") or ())
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem(value)
            if c in numbers:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if keys is not None and c == 0:
                item.setData(Qt.ItemDataRole.UserRole, keys[r])
            if backgrounds is not None and backgrounds[r] is not None:
                item.setBackground(QBrush(backgrounds[r]))
            if foregrounds is not None and foregrounds[r] is not None:
                item.setForeground(QBrush(foregrounds[r]))
            if tooltips is not None and tooltips[r]:
                item.setToolTip(tooltips[r])
            table.setItem(r, c, item)
    if selected is not None:
        select_key(table, selected)


def selected_key(table: QTableWidget):
    items = table.selectedItems()
    if not items:
        return None
    first = table.item(items[0].row(), 0)
    return first.data(Qt.ItemDataRole.UserRole) if first else None


def select_key(table: QTableWidget, key) -> bool:
    for r in range(table.rowCount()):
        item = table.item(r, 0)
        if item is not None and item.data(Qt.ItemDataRole.UserRole) == key:
            table.selectRow(r)
            return True
    return False


# ------------------------------------------------------------------ screen


class WorkflowScreen(QWidget):
    """Loads and writes through the task runner; the widgets only see snapshots.

    ``loaded`` follows every snapshot shown; ``changed`` follows a successful
    write (after its reload); ``failed`` carries the message of a write a
    user can fix, which is also shown in the action's error label.
    """

    loaded = Signal()
    changed = Signal()
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        # Every load and write is numbered when scheduled; a snapshot is shown
        # only if nothing scheduled after it has been shown already.
        self._scheduled = 0
        self._shown = 0
        self._writing = False  # one write at a time: a double click does not feed twice

    # A screen defines ``load_snapshot(session, key)``, which runs on a worker
    # and returns plain data, and ``show_snapshot(snapshot)`` on the GUI thread.

    def current_key(self):
        """What is shown (or asked for) now; passed to ``load_snapshot``."""
        return None

    def reload(self, key=None) -> None:
        """Schedule a fresh snapshot of ``key`` (default: what is shown now)."""
        key = self.current_key() if key is None else key
        self._scheduled += 1
        number = self._scheduled

        def task(_progress):
            with self.ctx.read() as session:
                return self.load_snapshot(session, key)

        self.ctx.runner.run(task, lambda snap: self._loaded(number, snap), self._load_failed)

    def submit(
        self,
        write: Callable[[object], object],
        error_label: ErrorLabel | None,
        *,
        next_key: Callable[[object], object] | None = None,
        on_success: Callable[[], None] | None = None,
    ) -> None:
        """Run ``write(session)`` in one transaction, then reload; errors go to ``error_label``.

        ``write`` receives plain values only (ids, strings, decimals) through its
        closure and returns plain data; ``next_key(result)`` (pure, it runs on the
        worker) names what to show next — a batch just started, a lot just packed.
        """
        if self._writing:
            log.debug("a write is still running; ignored another")
            return
        self._writing = True
        self.setCursor(Qt.CursorShape.BusyCursor)
        key = self.current_key()
        transaction = self.ctx.write(write)
        self._scheduled += 1
        number = self._scheduled

        def task(progress):
            result = transaction(progress)
            with self.ctx.read() as session:
                return self.load_snapshot(session, next_key(result) if next_key else key)

        if error_label is not None:
            error_label.clear_message()
        self.ctx.runner.run(
            writes(task),
            lambda snap: self._written(number, snap, on_success),
            lambda error: self._write_failed(error, error_label),
        )

    # -------------------------------------------------------------- results

    def _alive(self) -> bool:
        return shiboken6.isValid(self)

    def _show(self, number: int, snapshot) -> None:
        if number > self._shown:
            self._shown = number
            self.show_snapshot(snapshot)
            self.loaded.emit()

    def _loaded(self, number: int, snapshot) -> None:
        if self._alive():
            self._show(number, snapshot)

    def _write_done(self) -> None:
        self._writing = False
        self.unsetCursor()

    def _written(self, number: int, snapshot, on_success: Callable[[], None] | None) -> None:
        if self._alive():
            self._write_done()
            self._show(number, snapshot)
            if on_success is not None:
                on_success()
            self.changed.emit()

    def _load_failed(self, error: BaseException) -> None:
        if self._alive():
            show_error(self, error)

    def _write_failed(self, error: BaseException, error_label: ErrorLabel | None) -> None:
        if not self._alive():
            return
        self._write_done()
        if isinstance(error, UserError) and error_label is not None:
            log.info("refused: %s", error.message)
            error_label.show_message(error.message)
            self.failed.emit(error.message)
            return
        show_error(self, error)
