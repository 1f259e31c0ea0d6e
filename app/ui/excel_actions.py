"""Excel on the desktop (issue 6): a ledger page's export with the table's
own filters and order, its import template and import, and the workbook for
an inspection. Every file is written or read on the task runner, with a
progress bar and a Cancel button; the work itself is app.reports (Qt-free).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import clock
from app.i18n import tr
from app.ledgers import Ledger, registry

from .context import AppContext
from .dialogs import Dialogs, show_error
from .tasks import Progress, writes

XLSX_FILTER = "Excel (*.xlsx)"
# Ledgers ticked when the inspection dialog opens: the R2 records an inspector asks for first.
INSPECTION_DEFAULT = ("incoming_inspection", "product_batch", "inspection", "delivery", "supplier")


def open_xlsx(parent: QWidget | None, title: str) -> str | None:
    """Ask for an existing .xlsx file; replaced in tests like the other dialogs."""
    path, _ = QFileDialog.getOpenFileName(parent, title, "", XLSX_FILTER)
    return path or None


def _with_suffix(path: str) -> str:
    return path if path.lower().endswith(".xlsx") else path + ".xlsx"


class TaskProgress(QWidget):
    """A progress bar with a Cancel button, shown while a file is being written or read."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("excelProgress")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setObjectName("excelProgressBar")
        self.bar.setMinimumWidth(160)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setObjectName("excelCancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.progress: Progress | None = None
        self.hide()

    @property
    def busy(self) -> bool:
        return self.progress is not None

    def start(self, ctx: AppContext, text: str, fn: Callable[[Progress], object],
              on_success: Callable[[object], None]) -> None:
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy until the first report gives a total
        self.show()

        def finished(result) -> None:
            self._stop()
            on_success(result)

        def failed(error: BaseException) -> None:
            self._stop()
            show_error(self.window(), error)

        self.progress = ctx.runner.run(fn, finished, failed, self._report)

    def _report(self, done: int, total: int, text: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        if text:
            self.label.setText(text)

    def cancel(self) -> None:
        if self.progress is not None:
            self.progress.cancel()

    def _stop(self) -> None:
        self.progress = None
        self.hide()


class LedgerExcel(QWidget):
    """The Excel button of a ledger page and the progress of its file work."""

    def __init__(self, page, parent: QWidget | None = None):
        super().__init__(parent)
        from app.services.entry import plain_form

        self.page = page
        self.ctx: AppContext = page.ctx
        self.ledger: Ledger = page.ledger
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.progress = TaskProgress(self)
        layout.addWidget(self.progress)
        self.button = QToolButton()
        self.button.setObjectName("excelMenu")
        self.button.setText(tr("Excel"))
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.button)
        self.export_action = menu.addAction(tr("Export these rows to Excel…"), self.export)
        self.export_action.setObjectName("exportExcel")
        self.template_action = menu.addAction(tr("Save a blank import template…"), self.template)
        self.template_action.setObjectName("exportTemplate")
        self.import_action = menu.addAction(tr("Import from Excel…"), self.import_file)
        self.import_action.setObjectName("importExcel")
        if not plain_form(self.ledger.key):
            for action in (self.template_action, self.import_action):
                action.setEnabled(False)
        # What the role may not do is not offered; the services refuse it anyway.
        self.export_action.setVisible(self.ctx.may("export", self.ledger.key))
        for action in (self.template_action, self.import_action):
            action.setVisible(action.isVisible() and self.ctx.may("enter", self.ledger.key))
        if not any(action.isVisible() for action in menu.actions()):
            self.button.hide()
        self.button.setMenu(menu)
        layout.addWidget(self.button)

    def _file_name(self, suffix: str = "") -> str:
        return f"{self.ledger.title}{suffix}_{clock.today():%Y%m%d}.xlsx"

    def _busy(self) -> bool:
        if self.progress.busy:
            Dialogs.info(self, tr("Excel"), tr("Please wait until the current file is finished."))
            return True
        return False

    def export(self) -> None:
        """The rows the table shows, in its order, with its filters."""
        if self._busy():
            return
        path = Dialogs.save_file(self, tr("Export to Excel"), self._file_name(), XLSX_FILTER)
        if not path:
            return
        path = _with_suffix(path)
        from app.reports.ledger_export import export_ledger

        model = self.page.model
        filters, sorting, key = model.filters, model.sorting, self.ledger.key
        shown = {name: combo.currentText() for name, combo in self.page.combos.items() if combo.currentIndex() > 0}

        def task(progress: Progress) -> int:
            with self.ctx.read() as session:
                return export_ledger(session, key, path, filters, sorting, progress.report, shown)

        self.progress.start(self.ctx, tr("Exporting…"), task, lambda rows: Dialogs.info(
            self, tr("Export to Excel"), tr("{rows} rows exported to {path}", rows=rows, path=path)))

    def template(self) -> None:
        if self._busy():
            return
        path = Dialogs.save_file(self, tr("Save a blank import template"), self._file_name("_导入模板"), XLSX_FILTER)
        if not path:
            return
        path = _with_suffix(path)
        from app.reports.ledger_export import export_template

        key = self.ledger.key

        def task(_progress: Progress) -> None:
            with self.ctx.read() as session:
                export_template(session, key, path)

        self.progress.start(self.ctx, tr("Saving…"), task, lambda _: Dialogs.info(
            self, tr("Save a blank import template"), tr("Template saved: {path}", path=path)))

    def import_file(self) -> None:
        """Every row or none; the problems, by row and column, in a message."""
        if self._busy():
            return
        path = open_xlsx(self, tr("Import from Excel"))
        if not path:
            return
        from app.reports.ledger_import import import_ledger

        key, ctx = self.ledger.key, self.ctx

        def task(progress: Progress) -> int:
            with ctx.sessions.begin() as session:
                return import_ledger(session, key, path, progress.report)

        def done(rows: int) -> None:
            self.page.model.refresh()
            Dialogs.info(self, tr("Import from Excel"), tr("{rows} records imported.", rows=rows))

        self.progress.start(ctx, tr("Importing…"), writes(task), done)


class InspectionDialog(QDialog):
    """Which ledgers, for which period: the workbook for an inspection."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspectionDialog")
        self.setWindowTitle(tr("Workbook for an inspection"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(tr("Ledgers (one sheet each, after a cover sheet):")))
        self.ledgers = QListWidget()
        self.ledgers.setObjectName("inspectionLedgers")
        for lg in sorted(registry().values(), key=lambda lg: (lg.group, lg.title)):
            item = QListWidgetItem(f"{lg.group}｜{lg.title}")
            item.setData(Qt.ItemDataRole.UserRole, lg.key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if lg.key in INSPECTION_DEFAULT else Qt.CheckState.Unchecked)
            self.ledgers.addItem(item)
        layout.addWidget(self.ledgers, 1)
        form = QFormLayout()
        today = clock.today()
        self.date_from = self._date("inspectionFrom", today.replace(month=1, day=1))
        self.date_to = self._date("inspectionTo", today)
        form.addRow(tr("From"), self.date_from)
        form.addRow(tr("To (date)"), self.date_to)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(420, 520)

    def _date(self, name: str, day: dt.date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def chosen(self) -> tuple[list[str], dt.date, dt.date]:
        keys = [self.ledgers.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.ledgers.count())
                if self.ledgers.item(i).checkState() == Qt.CheckState.Checked]
        return keys, self.date_from.date().toPython(), self.date_to.date().toPython()


def ask_inspection(parent: QWidget | None) -> tuple[list[str], dt.date, dt.date] | None:
    """The dialog's choice, or None when cancelled; replaced in tests."""
    dialog = InspectionDialog(parent)
    try:
        return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()


def export_inspection(ctx: AppContext, parent: QWidget, progress: TaskProgress) -> None:
    """Ask for ledgers, period and file, then write the workbook in the background."""
    if progress.busy:
        Dialogs.info(parent, tr("Excel"), tr("Please wait until the current file is finished."))
        return
    choice = ask_inspection(parent)
    if choice is None:
        return
    keys, first, last = choice
    if not keys:
        Dialogs.warn(parent, tr("Workbook for an inspection"), tr("Choose at least one ledger."))
        return
    path = Dialogs.save_file(parent, tr("Workbook for an inspection"),
                             f"检查用台账_{first:%Y%m%d}-{last:%Y%m%d}.xlsx", XLSX_FILTER)
    if not path:
        return
    path = _with_suffix(path)
    from app.reports.inspection import export_inspection as write

    def task(report: Progress) -> dict:
        with ctx.read() as session:
            return write(session, keys, path, first, last, report.report)

    progress.start(ctx, tr("Exporting…"), task, lambda counts: Dialogs.info(
        parent, tr("Workbook for an inspection"),
        tr("{sheets} ledgers, {rows} rows, saved to {path}", sheets=len(counts), rows=sum(counts.values()), path=path)))
