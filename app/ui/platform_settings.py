"""Settings → platform upload: address, profile, schedule, credentials (to
the keyring only) and a connection test that says what is wrong."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.i18n import tr

from .context import AppContext
from .dialogs import Dialogs, show_error

log = logging.getLogger("ui.upload")


class PlatformSettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(tr("Platform upload settings"))
        from app.platform import profile

        self.url = QLineEdit(placeholderText="https://")
        self.profile = QComboBox(editable=True)
        self.profile.addItems(profile.available())
        self.profile.setToolTip(tr("A profile shipped with the program, or the path of a profile file (see docs/platform.md)."))
        self.interval = QSpinBox(minimum=1, maximum=1440, suffix=tr(" min"))
        self.daily = QComboBox()
        self.daily.addItem(tr("No daily upload"), None)
        for hour in range(24):
            self.daily.addItem(f"{hour:02d}:00", hour)
        self.on_finalise = QCheckBox(tr("Send as soon as a record is finalised"))
        self.alert = QSpinBox(minimum=1, maximum=720, suffix=tr(" h"))
        form = QFormLayout()
        form.addRow(tr("Platform address"), self.url)
        form.addRow(tr("Interface profile"), self.profile)
        form.addRow(tr("Upload every"), self.interval)
        form.addRow(tr("Also daily at"), self.daily)
        form.addRow("", self.on_finalise)
        form.addRow(tr("Alert when a record waits longer than"), self.alert)

        self.keyring_state = QLabel(wordWrap=True)
        self.key = QLineEdit()
        self.secret = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.store_button = QPushButton(tr("Save credentials to the keyring"))
        self.store_button.clicked.connect(self.store_credentials)
        box = QGroupBox(tr("Credentials (kept only in the system keyring)"))
        creds = QFormLayout(box)
        creds.addRow(self.keyring_state)
        creds.addRow(tr("Account key"), self.key)
        creds.addRow(tr("Secret"), self.secret)
        creds.addRow("", self.store_button)

        self.test_button = QPushButton(tr("Test connection"))
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel(wordWrap=True)
        self.test_result.setObjectName("testResult")
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(tr("Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(box)
        layout.addLayout(test_row)
        layout.addWidget(self.buttons)
        self.load()

    def load(self) -> None:
        from app.platform import credentials
        from app.services import settings

        with self.ctx.read() as session:
            values = {key: settings.get(session, key) for key in settings.PLATFORM_KEYS}
        self.url.setText(values["platform_url"])
        self.profile.setCurrentText(values["platform_profile"])
        self.interval.setValue(values["upload_interval_minutes"])
        self.daily.setCurrentIndex(self.daily.findData(values["upload_daily_hour"]) if values["upload_daily_hour"] is not None else 0)
        self.on_finalise.setChecked(values["upload_on_finalise"])
        self.alert.setValue(values["upload_alert_hours"])
        try:
            self.keyring_state.setText(tr("Keyring in use: {name}.", name=credentials.keyring_name()))
        except credentials.NoKeyring as exc:
            self.keyring_state.setText(exc.message)
            self.keyring_state.setStyleSheet("color: #b00020;")
            self.store_button.setEnabled(False)

    def values(self) -> dict:
        return {
            "platform_url": self.url.text(),
            "platform_profile": self.profile.currentText().strip(),
            "upload_interval_minutes": self.interval.value(),
            "upload_daily_hour": self.daily.currentData(),
            "upload_on_finalise": self.on_finalise.isChecked(),
            "upload_alert_hours": self.alert.value(),
        }

    def save(self) -> None:
        from app.services import settings

        values = self.values()

        def write(session):
            for key, value in values.items():
                settings.put(session, key, value)

        self.buttons.setEnabled(False)
        self.ctx.runner.run(self.ctx.write(write), lambda _r: isValid(self) and self.accept(),
                            lambda error: isValid(self) and (self.buttons.setEnabled(True), show_error(self, error)))

    def store_credentials(self) -> None:
        from app.platform import credentials, profile

        try:
            name = profile.load(self.profile.currentText().strip()).name
            credentials.store(name, self.key.text(), self.secret.text())
        except Exception as error:  # noqa: BLE001 — classified and shown
            show_error(self, error)
            return
        self.secret.clear()
        Dialogs.info(self, tr("Platform upload settings"), tr("The credentials were saved to the system keyring."))

    def test_connection(self) -> None:
        from app.platform import upload

        url = self.url.text().strip() or None
        self.test_button.setEnabled(False)
        self.test_result.setText(tr("Testing…"))

        def task(_progress):
            return upload.check(self.ctx.sessions, url=url)

        def done(problems):
            self.test_button.setEnabled(True)
            self.test_result.setStyleSheet("color: #b00020;" if problems else "color: #1b5e20;")
            self.test_result.setText("<br>".join(problems) if problems else tr("Connection works: address, credentials, clock and profile are all right."))

        self.ctx.runner.run(task, lambda p: isValid(self) and done(p),
                            lambda error: isValid(self) and (self.test_button.setEnabled(True), self.test_result.clear(), show_error(self, error)))
