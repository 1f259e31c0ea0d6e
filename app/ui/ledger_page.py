"""One page per ledger: a toolbar of filters over a table of its records.

Every filter runs in SQL through LedgerTableModel. Opening a record goes
through ``RecordDialog.open`` (app.ui.record_dialog), imported when needed so
the page still lists records if the form cannot be loaded.
"""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import clock
from app.i18n import tr
from app.ledgers import Field, Ledger
from app.services.entry import ENTRY_SCREENS, creatable, refusal
from app.services.record_view import MARKERS

from .context import AppContext
from .dialogs import Dialogs
from .ledger_model import LedgerTableModel

log = logging.getLogger("ui")

SEARCH_DELAY_MS = 250
# Choice fields and references a page offers an equality filter for.
FILTERED_CHOICES = ("status", "kind", "decision", "conclusion", "verdict")
FILTERED_REFS = ("product_id", "supplier_id", "material_id")
MAX_COLUMN_CHARS = 40
DIGITS = ("int", "decimal", "date", "datetime", "bool")


def filtered_fields(ledger: Ledger) -> list[Field]:
    return [f for f in ledger.fields
            if (f.kind == "choice" and f.name in FILTERED_CHOICES) or (f.kind == "ref" and f.name in FILTERED_REFS)]


class LedgerPage(QWidget):
    model_class = LedgerTableModel  # a page may colour its own cells (the supplier list)

    def __init__(self, ctx: AppContext, ledger: Ledger, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.ledger = ledger
        self.model = self.model_class(ctx, ledger, self)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filters)
        self.combos: dict[str, QComboBox] = {}

        layout = QVBoxLayout(self)
        layout.addLayout(self._toolbar())
        filters = self._filter_bar()
        if filters is not None:
            layout.addLayout(filters)
        self.table = self._table()
        layout.addWidget(self.table, 1)
        self.model.countChanged.connect(self._show_count)
        self._show_count()

    # ------------------------------------------------------------ building

    def _toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        title = QLabel(self.ledger.title)
        title.setObjectName("ledgerTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        title.setFont(font)
        bar.addWidget(title)
        bar.addSpacing(12)

        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setClearButtonEnabled(True)
        searched = [f.label for f in self.model.query.searched_fields()]  # never empty: see the tests
        more = "…" if len(searched) > 3 else ""
        self.search.setPlaceholderText(tr("Search {fields}", fields="、".join(searched[:3]) + more))
        self.search.setToolTip(tr("Searches: {fields}", fields="、".join(searched)))
        self.search.setMinimumWidth(self.fontMetrics().horizontalAdvance("中") * 18)
        self.search.textChanged.connect(self._search_changed)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        bar.addWidget(self.search, 1)

        self.count_label = QLabel()
        self.count_label.setObjectName("rowCount")
        bar.addWidget(self.count_label)
        self.new_button = QPushButton(tr("New record"))
        self.new_button.setObjectName("newRecord")
        self.new_button.clicked.connect(self.new_record)
        if not creatable(self.ledger.key):
            # Rows of this ledger come from a workflow screen; say which.
            self.new_button.setEnabled(False)
            self.new_button.setToolTip(refusal(self.ledger.key))
        bar.addWidget(self.new_button)
        self.ctx.offer(self.new_button, "enter", self.ledger.key)
        from .excel_actions import LedgerExcel

        self.excel = LedgerExcel(self)  # export with these filters, template, import
        bar.addWidget(self.excel)
        return bar

    def _filter_bar(self) -> QHBoxLayout | None:
        fields = filtered_fields(self.ledger)
        if not self.ledger.date_field and not fields:
            return None
        bar = QHBoxLayout()
        if self.ledger.date_field:
            self._date_filter(bar)
        with self.ctx.read() as session:
            for field in fields:
                combo = QComboBox()
                combo.setObjectName(f"filter_{field.name}")
                combo.addItem(tr("All values"), None)
                for value, text in self.model.query.choices_of(session, field):
                    combo.addItem(text, value)
                if field.kind == "ref" and field.lookup.ledger in MARKERS:
                    from .standing import mark_items  # a supplier's standing, in colour

                    mark_items(combo, MARKERS[field.lookup.ledger](session))
                combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
                combo.currentIndexChanged.connect(self.apply_filters)
                bar.addSpacing(12)
                bar.addWidget(QLabel(field.label))
                bar.addWidget(combo)
                self.combos[field.name] = combo
        bar.addStretch(1)
        return bar

    def _date_filter(self, bar: QHBoxLayout) -> None:
        """A period on the ledger's date: off (不限) until the box is ticked."""
        self.date_check = QCheckBox(self.ledger.field(self.ledger.date_field).label)
        self.date_check.setObjectName("dateFilter")
        self.date_check.setToolTip(tr("Tick to show only records in this period; unticked, any date"))
        with self.ctx.read() as session:
            first, last = self.model.query.date_range(session)
        today = clock.today()
        self.date_from = self._date_edit("dateFrom", first or today)
        self.date_to = self._date_edit("dateTo", last or today)
        bar.addWidget(self.date_check)
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel(tr("to (date)")))
        bar.addWidget(self.date_to)
        self.date_check.toggled.connect(self.date_from.setEnabled)
        self.date_check.toggled.connect(self.date_to.setEnabled)
        self.date_check.toggled.connect(self.apply_filters)

    def _date_edit(self, name: str, day: dt.date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        edit.dateChanged.connect(self.apply_filters)
        return edit

    def _table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("ledgerTable")
        table.setModel(self.model)
        table.setAlternatingRowColors(True)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        rows = table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never measures 100,000 rows
        rows.setDefaultSectionSize(table.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionsMovable(True)
        self._set_widths(table)
        # Show the model's own order (newest first…) so enabling sorting keeps it.
        column, descending = self.model.sorting
        header.setSortIndicator(column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)
        table.activated.connect(self._on_activated)  # double-click and Enter
        return table

    def _set_widths(self, table: QTableView) -> None:
        """Field.width counts characters: digits for numbers and dates, mostly
        Chinese (about 3/4 of a Chinese character on average) for the rest."""
        metrics = table.fontMetrics()
        digit, chinese = metrics.horizontalAdvance("0"), metrics.horizontalAdvance("中") * 0.75
        header_metrics = table.horizontalHeader().fontMetrics()
        for column, field in enumerate(self.ledger.fields):
            unit = digit if field.kind in DIGITS else chinese
            body = min(field.width, MAX_COLUMN_CHARS) * unit
            label = min(header_metrics.horizontalAdvance(field.label) + 28, MAX_COLUMN_CHARS * chinese)  # + sort arrow
            table.setColumnWidth(column, int(max(body, label)) + 12)

    # ------------------------------------------------------------ behaviour

    def apply_filters(self) -> None:
        self._search_timer.stop()
        equals = {name: combo.currentData() for name, combo in self.combos.items() if combo.currentIndex() > 0}
        first = last = None
        if self.ledger.date_field and self.date_check.isChecked():
            first, last = self.date_from.date().toPython(), self.date_to.date().toPython()
        self.model.set_filters(self.search.text(), first, last, equals)

    def _search_changed(self, _text: str) -> None:
        self._search_timer.start()  # debounced: one query when the typing pauses

    def _show_count(self) -> None:
        if self.model.counted:
            self.count_label.setText(tr("{count} rows", count=self.model.rowCount()))
        else:  # a big ledger: the first page is shown, the count is on its way
            self.count_label.setText(tr("{count}+ rows, counting…", count=self.model.rowCount()))

    def _on_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_record(self.model.record_id(index.row()))

    def new_record(self) -> None:
        if self.ledger.key in ENTRY_SCREENS:  # saved together with rows of another ledger: its own window
            from .inspection_screen import InspectionDialog

            dialog = InspectionDialog.open(self.ctx, parent=self)
            dialog.saved.connect(self.show_saved)
            return
        self.open_record(None)

    def open_record(self, record_id: int | None) -> None:
        """Open one record in its form (None: a new one); a save refreshes the table."""
        try:
            from app.ui.record_dialog import RecordDialog
        except ImportError as exc:
            log.warning("record form unavailable for %s: %s", self.ledger.key, exc, exc_info=True)
            Dialogs.warn(self, tr("Record form unavailable"),
                         tr("The record form cannot be opened: {reason}", reason=str(exc)))
            return
        dialog = RecordDialog.open(self.ctx, self.ledger, record_id, parent=self)
        if dialog is not None:
            # One window per record: a dialog opened again must not refresh twice.
            dialog.saved.connect(self.show_saved, Qt.ConnectionType.UniqueConnection)

    def refresh(self) -> None:
        """Re-read the rows (after a write anywhere, or F5); the filters stay."""
        self.model.refresh()

    def show_saved(self, record_id: int) -> None:
        """Re-read the rows and select the record just saved, if the filters still show it."""
        self.model.refresh()
        row = self.model.row_of(record_id)
        if row is not None:
            index = self.model.index(row, 0)
            self.table.setCurrentIndex(index)
            self.table.scrollTo(index)
