"""R6.3: the platform upload status panel — pending, sent, acknowledged,
rejected with the platform's reason, retry after correction, an alert when
the oldest waiting record is too old, the manual fallback package."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.i18n import lazy, tr

from .context import AppContext
from .dialogs import Dialogs, show_error
from .tasks import writes

log = logging.getLogger("ui.upload")

STATUS = {
    "pending": lazy("Pending"),
    "sent": lazy("Sent, awaiting receipt"),
    "acknowledged": lazy("Acknowledged"),
    "rejected": lazy("Rejected"),
}
KIND = {
    "enterprise": lazy("Enterprise file"),
    "purchase": lazy("Purchase"),
    "sale": lazy("Factory sale"),
    "recall": lazy("Recall"),
}


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else tr("never")


class UploadPanel(QGroupBox):
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(tr("Upload to the traceability platform"), parent)
        self.ctx = ctx
        self.state: dict | None = None
        self.summary = QLabel(tr("Loading…"), wordWrap=True)
        self.alert = QLabel(wordWrap=True)
        self.alert.setObjectName("uploadAlert")
        self.alert.setStyleSheet("color: #b00020; font-weight: bold;")
        self.alert.hide()
        self.counts = {status: QLabel() for status in STATUS}
        counts = QHBoxLayout()
        for status, label in self.counts.items():
            label.setObjectName(f"count_{status}")
            counts.addWidget(label)
        counts.addStretch(1)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(
            [tr("Kind"), tr("Record"), tr("Status"), tr("Attempts"), tr("Queued"), tr("Platform's reason or last failure")])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMaximumHeight(220)
        self.send_button = QPushButton(tr("Send now"))
        self.retry_button = QPushButton(tr("Retry selected rejected records"))
        self.export_button = QPushButton(tr("Export package for the web portal…"))
        self.confirm_button = QPushButton(tr("Confirm a package was accepted…"))
        self.settings_button = QPushButton(tr("Upload settings…"))
        self.send_button.clicked.connect(self.send_now)
        self.retry_button.clicked.connect(self.retry_selected)
        self.export_button.clicked.connect(self.export_package)
        self.confirm_button.clicked.connect(self.confirm_package)
        self.settings_button.clicked.connect(self.open_settings)
        buttons = QHBoxLayout()
        for button in (self.send_button, self.retry_button, self.export_button, self.confirm_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.settings_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.alert)
        layout.addWidget(self.summary)
        layout.addLayout(counts)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.refresh()

    # ------------------------------------------------------------ loading
    def refresh(self) -> None:
        from app.platform import upload

        def task(_progress):
            with self.ctx.read() as session:
                return upload.status(session)

        self.ctx.runner.run(task, lambda state: isValid(self) and self._show(state),
                            lambda error: isValid(self) and self._failed(error))

    def _failed(self, error: BaseException) -> None:
        self.summary.setText(tr("The upload status could not be loaded."))
        show_error(self, error)
        self.loaded.emit()

    def _show(self, state: dict) -> None:
        self.state = state
        if state["configured"]:
            text = tr("Platform {url} (profile {profile}). Last successful upload: {last}; next scheduled: {next}.",
                      url=state["url"], profile=state["profile"], last=_when(state["last_success"]), next=_when(state["next_due"]))
            if state["last_error"]:
                text += "<br>" + tr("Last attempt failed: {error}", error=state["last_error"])
        else:
            text = tr("No platform address is set: records are queued here and nothing is uploaded. "
                      "Set the address and credentials under “Upload settings…”, or export a package for the web portal.")
        self.summary.setText(text)
        for status, label in self.counts.items():
            label.setText(f"{STATUS[status]}：<b>{state['counts'][status]}</b>")
        self.counts["rejected"].setStyleSheet("color: #b00020;" if state["counts"]["rejected"] else "")
        overdue = state["overdue_since"]
        self.alert.setVisible(overdue is not None)
        if overdue is not None:
            self.alert.setText(tr("The oldest record waiting for the platform was queued at {when}, more than {hours} hours ago.",
                                  when=_when(overdue), hours=state["alert_hours"]))
        rows = state["rows"]
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = [str(KIND.get(row["kind"], row["kind"])), row["label"], str(STATUS[row["status"]]),
                     str(row["attempts"]), _when(row["created_at"]), row["reason"] or ""]
            for c, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, row["id"])
                if row["status"] == "rejected":
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(r, c, item)
        self.send_button.setEnabled(state["configured"])
        self.loaded.emit()

    # ------------------------------------------------------------ actions
    def _run(self, fn, done) -> None:
        self.ctx.runner.run(writes(fn), lambda result: isValid(self) and (done(result), self.refresh()),
                            lambda error: isValid(self) and (show_error(self, error), self.refresh()))

    def send_now(self) -> None:
        from app.platform import upload

        self._run(lambda _progress: upload.upload_now(self.ctx.sessions).summary(),
                  lambda summary: Dialogs.info(self, tr("Upload"), summary))

    def selected_rejected(self) -> list[int]:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        ids = []
        for r in sorted(rows):
            item = self.table.item(r, 0)
            if self.state and self.state["rows"][r]["status"] == "rejected":
                ids.append(item.data(Qt.ItemDataRole.UserRole))
        return ids

    def retry_selected(self) -> None:
        from app.platform import outbox

        ids = self.selected_rejected()
        if not ids:
            Dialogs.info(self, tr("Upload"), tr("Select the rejected records you have corrected first."))
            return
        self._run(self.ctx.write(lambda session: outbox.retry(session, ids)),
                  lambda n: Dialogs.info(self, tr("Upload"), tr("{count} records queued again.", count=n)))

    def export_package(self) -> None:
        from app.platform import package, upload

        path = Dialogs.save_file(self, tr("Export package for the web portal"), "upload-package.zip", "ZIP (*.zip)")
        if not path:
            return

        def write(session):
            return package.export_package(session, upload.config(session).profile, path)

        self._run(self.ctx.write(write), lambda n: Dialogs.info(self, tr("Upload"), tr(
            "{count} records written to {path}. Upload it through the platform's web portal, then confirm it here.",
            count=n, path=path)))

    def confirm_package(self) -> None:
        from app.platform import package

        path = Dialogs.open_file(self, tr("Confirm a package was accepted"), "ZIP (*.zip)")
        if not path or not Dialogs.confirm(self, tr("Upload"), tr(
                "Did the platform's web portal accept every record of this package? They will be marked acknowledged.")):
            return
        self._run(self.ctx.write(lambda session: package.confirm_package(session, path)),
                  lambda n: Dialogs.info(self, tr("Upload"), tr("{count} records marked acknowledged.", count=n)))

    def open_settings(self) -> None:
        from .platform_settings import PlatformSettingsDialog

        dialog = PlatformSettingsDialog(self.ctx, self)
        dialog.finished.connect(lambda _result: isValid(self) and self.refresh())
        dialog.open()
        self._settings_dialog = dialog
