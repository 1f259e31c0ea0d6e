"""Seal an archive (封卷), or every ready archive of a period.

The logged-in user is the 立卷人 or the 检查人; the other one types user name
and password here, as for a signature. The rules — the checklist, two
different people, both allowed to seal — are ``app.services.sealing``; these
windows only collect the names and run the work on the task runner (a period
with a progress bar and a cancel button).
"""

from __future__ import annotations

import calendar
import datetime as dt

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QComboBox, QDateEdit, QDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QProgressBar, QPushButton, QRadioButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app import clock
from app.errors import UserError
from app.i18n import lazy, tr
from app.ledgers.choices import ARCHIVE_KIND, ARCHIVE_STATE
from app.services import sealing

from .context import AppContext
from .dialogs import show_error
from .tasks import Cancelled
from .workflow_kit import GREEN, RED

ERROR_STYLE = "color: #c62828;"
TOOLTIP_ITEMS = 15  # checklist items a row's tooltip lists


class SealerFields:
    """我担任 立卷人/检查人, and the other person's user name and password."""

    def __init__(self, ctx: AppContext, form: QFormLayout):
        self.role = QComboBox()
        self.role.setObjectName("role")
        self.role.addItem(tr("Filer: I put this volume together"), "filer")
        self.role.addItem(tr("Checker: I checked this volume"), "checker")
        self.me = QLabel(ctx.actor or tr("(nobody is logged in)"))
        self.other_label = QLabel()
        self.username = QLineEdit()
        self.username.setObjectName("otherUsername")
        self.password = QLineEdit()
        self.password.setObjectName("otherPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(tr("I am"), self.me)
        form.addRow(tr("My part"), self.role)
        form.addRow(self.other_label, self.username)
        form.addRow(tr("Their password"), self.password)
        self.role.currentIndexChanged.connect(self._named)
        self._named()

    def _named(self) -> None:
        other = tr("Checker") if self.acting_as == "filer" else tr("Filer")
        self.other_label.setText(tr("{role} (user name)", role=other))
        self.username.setPlaceholderText(tr("The other person, who confirms with the password"))

    @property
    def acting_as(self) -> str:
        return self.role.currentData()

    def values(self) -> dict | None:
        if not self.username.text().strip() or not self.password.text():
            return None
        return {"other_username": self.username.text(), "other_password": self.password.text(),
                "acting_as": self.acting_as}


class SealDialog(QDialog):
    """Seal one archive; open with ``SealDialog.open(ctx, archive, parent)``."""

    sealed = Signal(int)  # the archive's id

    @classmethod
    def open(cls, ctx: AppContext, archive: dict, parent: QWidget | None = None) -> SealDialog:
        dialog = cls(ctx, archive, parent)
        dialog.show()
        return dialog

    def __init__(self, ctx: AppContext, archive: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.archive_id = ctx, archive["id"]
        self._busy = False
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("sealDialog")
        self.setWindowTitle(tr("Seal archive {archive_no}", archive_no=archive["archive_no"]))
        title = QLabel(f"<b>{archive['archive_no']}</b>　{archive['title']}", wordWrap=True)
        note = QLabel(tr("After sealing, the records of this archive change only by amendment with a reason, and "
                         "every amendment is listed on the volume's remarks sheet. The filer and the checker must be "
                         "two different people who may seal."), wordWrap=True)
        form = QFormLayout()
        self.people = SealerFields(ctx, form)
        self.error = QLabel(wordWrap=True)
        self.error.setObjectName("error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        self.seal_button = QPushButton(tr("Seal"))
        self.seal_button.setObjectName("seal")
        cancel = QPushButton(tr("Cancel"))
        cancel.setAutoDefault(False)
        self.seal_button.clicked.connect(self.seal)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.seal_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        for widget in (title, note):
            layout.addWidget(widget)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.resize(520, self.sizeHint().height())

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def seal(self) -> None:
        if self._busy:
            return
        values = self.people.values()
        if values is None:
            self._show_error(tr("Enter the other person's user name and password."))
            return
        self._show_error("")
        archive_id = self.archive_id
        self._busy = True
        self.seal_button.setEnabled(False)
        self.ctx.runner.run(self.ctx.write(lambda session: sealing.seal(session, archive_id, **values).archive_id),
                            self._succeeded, self._failed)

    def _succeeded(self, archive_id: int) -> None:
        self._busy = False
        self.sealed.emit(archive_id)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._busy = False
        self.seal_button.setEnabled(True)
        self.people.password.clear()
        if isinstance(error, UserError):  # wrong password, same person, no permission, not ready
            self._show_error(error.message)
        else:
            show_error(self, error)

    def done(self, result: int) -> None:
        if self._busy:
            return  # the archive is being sealed; its result needs this window
        super().done(result)


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


class PeriodSealDialog(QDialog):
    """Check, then seal, every archive of a month or a date range."""

    checked = Signal(list)  # PeriodArchive rows
    finished_all = Signal(object)  # sealing.PeriodResult

    COLUMNS = (lazy("Archive no."), lazy("Title"), lazy("Status"), lazy("To do before sealing"))

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.progress = None
        self.rows: list[sealing.PeriodArchive] = []
        self.setObjectName("periodSealDialog")
        self.setWindowTitle(tr("Seal the archives of a period"))
        today = clock.today()
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        self.by_month = QRadioButton(tr("Month"))
        self.by_range = QRadioButton(tr("Date range"))
        self.by_month.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.by_month)
        group.addButton(self.by_range)
        self.month = QDateEdit(_qdate(last_month.replace(day=1)), displayFormat="yyyy-MM", calendarPopup=False)
        self.first = QDateEdit(_qdate(last_month.replace(day=1)), calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.last = QDateEdit(_qdate(last_month), calendarPopup=True, displayFormat="yyyy-MM-dd")
        for widget in (self.month, self.first, self.last):
            widget.dateChanged.connect(self._forget)
        self.by_month.toggled.connect(self._mode)
        span = QHBoxLayout()
        span.addWidget(self.by_month)
        span.addWidget(self.month)
        span.addSpacing(24)
        span.addWidget(self.by_range)
        span.addWidget(self.first)
        span.addWidget(QLabel("—"))
        span.addWidget(self.last)
        span.addStretch(1)
        self.check_button = QPushButton(tr("Check"))
        self.check_button.setObjectName("check")
        self.check_button.clicked.connect(self.check)
        span.addWidget(self.check_button)

        self.table = QTableWidget(0, len(self.COLUMNS), alternatingRowColors=True)
        self.table.setHorizontalHeaderLabels([str(c) for c in self.COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel(tr("Choose the period and click Check: every archive of it is listed with what "
                                 "still blocks its sealing."), wordWrap=True)
        form = QFormLayout()
        self.people = SealerFields(ctx, form)
        self.error = QLabel(wordWrap=True)
        self.error.setObjectName("error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        self.bar = QProgressBar()
        self.bar.hide()
        self.status = QLabel()
        self.seal_button = QPushButton(tr("Seal the ready archives"))
        self.seal_button.setObjectName("sealAll")
        self.seal_button.setEnabled(False)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setEnabled(False)
        close = QPushButton(tr("Close"))
        for button in (self.cancel_button, close):
            button.setAutoDefault(False)
        self.seal_button.clicked.connect(self.seal)
        self.cancel_button.clicked.connect(self.cancel)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.seal_button, self.cancel_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(span)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.bar)
        layout.addLayout(buttons)
        self._mode()
        self.resize(980, 640)

    # ------------------------------------------------------------ the period

    def _mode(self) -> None:
        monthly = self.by_month.isChecked()
        self.month.setEnabled(monthly)
        self.first.setEnabled(not monthly)
        self.last.setEnabled(not monthly)
        self._forget()

    def period(self) -> tuple[dt.date, dt.date]:
        if self.by_month.isChecked():
            day = self.month.date().toPython()
            return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
        return self.first.date().toPython(), self.last.date().toPython()

    def set_month(self, year: int, month: int) -> None:
        self.by_month.setChecked(True)
        self.month.setDate(QDate(year, month, 1))

    def set_range(self, first: dt.date, last: dt.date) -> None:
        self.by_range.setChecked(True)
        self.first.setDate(_qdate(first))
        self.last.setDate(_qdate(last))

    def _forget(self) -> None:
        """Another period: the list shown no longer applies."""
        self.rows = []
        self.table.setRowCount(0)
        self.seal_button.setEnabled(False)

    # ------------------------------------------------------------ work

    def _busy(self, busy: bool, text: str = "") -> None:
        for widget in (self.check_button, self.by_month, self.by_range, self.month, self.first, self.last):
            widget.setEnabled(not busy)
        if not busy:
            self._mode_widgets()
        self.cancel_button.setEnabled(busy)
        self.seal_button.setEnabled(not busy and any(r.state == "ready" for r in self.rows))
        self.bar.setVisible(busy)
        if busy:
            self.bar.setRange(0, 0)
        self.status.setText(text)

    def _mode_widgets(self) -> None:
        monthly = self.by_month.isChecked()
        self.month.setEnabled(monthly)
        self.first.setEnabled(not monthly)
        self.last.setEnabled(not monthly)

    def _progressed(self, done: int, total: int, text: str) -> None:
        if isValid(self):
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(done)
            if text:
                self.status.setText(tr("{done} of {total}: {text}", done=done, total=total, text=text))

    def check(self) -> None:
        first, last = self.period()
        if last < first:
            self._show_error(tr("The end date {last} is before the start date {first}.", first=first, last=last))
            return
        self._show_error("")
        sessions = self.ctx.sessions

        def task(progress):
            with sessions() as session:
                return sealing.check_period(session, first, last, progress.report)

        self._busy(True, tr("Checking…"))
        self.progress = self.ctx.runner.run(task, self._checked, self._failed, self._progressed)

    def _checked(self, rows: list) -> None:
        if not isValid(self):
            return
        self.progress = None
        self.rows = rows
        self._show_rows(rows)
        self._busy(False)
        self.checked.emit(rows)

    def _show_rows(self, rows: list) -> None:
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            todo = ""
            if row.blockers:
                todo = tr("{count} to do: ", count=len(row.blockers)) + f"【{row.blockers[0].label}】{row.blockers[0].text}"
            cells = [row.archive_no, f"{ARCHIVE_KIND.get(row.kind, row.kind)}　{row.title}",
                     ARCHIVE_STATE[row.state], todo]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setForeground(GREEN if row.state != "open" else RED)
                if column == 3 and row.blockers:
                    shown = [f"【{b.label}】{b.text}" for b in row.blockers[:TOOLTIP_ITEMS]]
                    if len(row.blockers) > TOOLTIP_ITEMS:
                        shown.append(tr("… and {count} more", count=len(row.blockers) - TOOLTIP_ITEMS))
                    item.setToolTip("\n".join(shown))
                self.table.setItem(index, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        counts = {state: sum(1 for r in rows if r.state == state) for state in ARCHIVE_STATE}
        if rows:
            self.summary.setText(tr("{total} archives: {ready} ready to seal, {open} still open, {sealed} sealed.",
                                    total=len(rows), ready=counts["ready"], open=counts["open"],
                                    sealed=counts["sealed"]))
        else:
            self.summary.setText(tr("No archive belongs to this period."))
        self.seal_button.setText(tr("Seal the {count} ready archives", count=counts["ready"]))

    def seal(self) -> None:
        values = self.people.values()
        if values is None:
            self._show_error(tr("Enter the other person's user name and password."))
            return
        self._show_error("")
        first, last = self.period()
        sessions = self.ctx.sessions

        def task(progress):
            return sealing.seal_period(sessions, first, last, report=progress.report, **values)

        self._busy(True, tr("Sealing…"))
        self.progress = self.ctx.runner.run(task, self._sealed, self._failed, self._progressed)

    def _sealed(self, result) -> None:
        if not isValid(self):
            return
        self.progress = None
        self.people.password.clear()
        done = {row.archive_no: row for row in result.sealed}
        for index, row in enumerate(self.rows):
            if row.archive_no in done:
                self.rows[index] = done[row.archive_no]
        self._show_rows(self.rows)
        self._busy(False, tr("{sealed} archives sealed; {blocked} not ready.", sealed=len(result.sealed),
                             blocked=len(result.blocked)))
        self.finished_all.emit(result)

    def _failed(self, error: BaseException) -> None:
        if not isValid(self):
            return
        self.progress = None
        self.people.password.clear()
        self._busy(False)
        if isinstance(error, Cancelled):
            self.status.setText(tr("Cancelled; the archives sealed so far stay sealed."))
            self.check()  # show where it stopped
        elif isinstance(error, UserError):
            self._show_error(error.message)
        else:
            show_error(self, error)

    def cancel(self) -> None:
        if self.progress is not None:
            self.progress.cancel()
            self.status.setText(tr("Cancelling…"))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
