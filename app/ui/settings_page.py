"""The settings page: every enterprise setting, built from its declaration
(app/services/settings.py), changed by the configure role with a reason that
the audit log keeps beside who and when; the recent changes are listed below."""

from __future__ import annotations

import json

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QScrollArea, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.errors import ValidationError
from app.i18n import tr
from app.services import settings

from .context import AppContext
from .dialogs import show_error

NO_VALUE = -1  # a spin box's "not set" (每日上传时刻)


class _Editor:
    """One setting's widget, with the plain value it shows and gives."""

    def __init__(self, declared: settings.Declared):
        self.declared = declared
        kind = declared.kind
        if kind == "bool":
            self.widget = QCheckBox()
        elif kind == "choice":
            self.widget = QComboBox()
            for code, label in declared.choices.items():
                self.widget.addItem(label, code)
        elif kind == "int":
            self.widget = QSpinBox()
            nullable = declared.default is None
            self.widget.setRange(NO_VALUE if nullable else declared.minimum, declared.maximum)
            if nullable:
                self.widget.setSpecialValueText(tr("(none)"))
        elif kind == "retention":
            self.widget = QWidget()
            row = QHBoxLayout(self.widget)
            row.setContentsMargins(0, 0, 0, 0)
            self.parts = {}
            for kind_code, kind_label in settings.RETENTION_KINDS.items():
                box = QComboBox()
                for code, label in settings.RETENTION.items():
                    box.addItem(label, code)
                row.addWidget(QLabel(kind_label))
                row.addWidget(box)
                self.parts[kind_code] = box
        elif kind == "recall_levels":
            # Per level: hours to notify, working days to finish.
            self.widget = QWidget()
            row = QHBoxLayout(self.widget)
            row.setContentsMargins(0, 0, 0, 0)
            self.parts = {}
            for level in declared.default:
                hours, days = QSpinBox(), QSpinBox()
                hours.setRange(1, 720)
                hours.setSuffix(tr(" h"))
                days.setRange(1, 365)
                days.setSuffix(tr(" working days"))
                row.addWidget(QLabel(level))
                row.addWidget(hours)
                row.addWidget(days)
                self.parts[level] = (hours, days)
        else:
            self.widget = QLineEdit()
            if kind in ("folder", "file"):
                self.line = self.widget
                self.widget = QWidget()
                row = QHBoxLayout(self.widget)
                row.setContentsMargins(0, 0, 0, 0)
                row.addWidget(self.line, 1)
                browse = QPushButton(tr("Browse…"))
                browse.clicked.connect(self._browse)
                row.addWidget(browse)
        self.widget.setObjectName(f"setting_{declared.key}")
        self.widget.setToolTip(declared.help)

    def _browse(self) -> None:
        if self.declared.kind == "folder":
            chosen = QFileDialog.getExistingDirectory(self.widget, self.declared.label, self.line.text())
        else:
            chosen, _ = QFileDialog.getOpenFileName(self.widget, self.declared.label, self.line.text(),
                                                    tr("Fonts (*.ttf *.ttc *.otf)"))
        if chosen:
            self.line.setText(chosen)

    def show(self, value) -> None:
        kind, w = self.declared.kind, self.widget
        if kind == "bool":
            w.setChecked(bool(value))
        elif kind == "choice":
            w.setCurrentIndex(max(0, w.findData(value)))
        elif kind == "int":
            w.setValue(NO_VALUE if value is None else int(value))
        elif kind == "retention":
            for kind_code, box in self.parts.items():
                box.setCurrentIndex(max(0, box.findData(value.get(kind_code))))
        elif kind == "recall_levels":
            for level, (hours, days) in self.parts.items():
                pair = (value or {}).get(level) or self.declared.default[level]
                hours.setValue(int(pair[0]))
                days.setValue(int(pair[1]))
        elif kind in ("folder", "file"):
            self.line.setText(str(value or ""))
        else:
            w.setText("" if value is None else str(value))

    def value(self):
        kind, w = self.declared.kind, self.widget
        if kind == "bool":
            return w.isChecked()
        if kind == "choice":
            return w.currentData()
        if kind == "int":
            return None if w.value() == NO_VALUE else w.value()
        if kind == "retention":
            return {kind_code: box.currentData() for kind_code, box in self.parts.items()}
        if kind == "recall_levels":
            return {level: [hours.value(), days.value()] for level, (hours, days) in self.parts.items()}
        if kind in ("folder", "file"):
            return self.line.text().strip()
        return w.text().strip()


class SettingsPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.editors: dict[str, _Editor] = {}
        self.loaded: dict[str, object] = {}
        body = QWidget()
        column = QVBoxLayout(body)
        for group in settings.GROUPS:
            box = QGroupBox(group)
            form = QFormLayout(box)
            for declared in (d for d in settings.DECLARATIONS if d.group == group):
                editor = _Editor(declared)
                self.editors[declared.key] = editor
                form.addRow(declared.label, editor.widget)
                if declared.help:
                    hint = QLabel(declared.help, wordWrap=True)
                    hint.setStyleSheet("color: #5b665f;")
                    form.addRow("", hint)
            column.addWidget(box)
        column.addWidget(QLabel(tr("Recent changes")))
        self.history = QTableWidget(0, 5)
        self.history.setObjectName("settingsHistory")
        self.history.setHorizontalHeaderLabels([tr("When"), tr("Who"), tr("Setting"), tr("New value"), tr("Why")])
        self.history.horizontalHeader().setStretchLastSection(True)
        self.history.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.history.setMinimumHeight(160)
        column.addWidget(self.history)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)

        self.reason = QLineEdit(placeholderText=tr("Why the change (kept in the audit log)"))
        self.reason.setObjectName("settingsReason")
        self.error = QLabel(wordWrap=True)
        self.error.setObjectName("settingsError")
        self.error.setStyleSheet("color: #b00020;")
        self.save_button = QPushButton(tr("Save"))
        self.save_button.setObjectName("settingsSave")
        self.save_button.clicked.connect(self.save)
        self.backup_button = QPushButton(tr("Backup and restore…"))
        self.backup_button.clicked.connect(self._backup)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("Reason for the change")))
        bar.addWidget(self.reason, 1)
        bar.addWidget(self.save_button)
        bar.addWidget(self.backup_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error)
        layout.addLayout(bar)
        self._busy = False
        if not ctx.may("configure"):
            self.save_button.setEnabled(False)
            self.reason.setEnabled(False)
        self.load()

    def load(self) -> None:
        with self.ctx.read() as session:
            self.loaded = {key: settings.get(session, key) for key in self.editors}
            changes = _recent_changes(session)
        for key, editor in self.editors.items():
            editor.show(self.loaded[key])
        self.history.setRowCount(len(changes))
        for row, values in enumerate(changes):
            for col, text in enumerate(values):
                self.history.setItem(row, col, QTableWidgetItem(text))
        self.history.resizeColumnsToContents()

    def changed(self) -> dict[str, object]:
        return {key: editor.value() for key, editor in self.editors.items() if editor.value() != self.loaded[key]}

    def save(self) -> None:
        changes, reason = self.changed(), self.reason.text().strip()
        if not changes:
            self.error.setText(tr("Nothing was changed."))
            return
        if not reason:
            self.error.setText(tr("Please give the reason for the change: the audit log keeps it with who and when."))
            self.reason.setFocus()
            return

        def write(session):
            for key, value in changes.items():
                settings.put(session, key, value, reason=reason)
            return sorted(changes)

        def done(_keys) -> None:
            if isValid(self):
                self._busy = False
                self.reason.clear()
                self.error.setText(tr("Saved."))
                self.load()

        def failed(error: BaseException) -> None:
            if not isValid(self):
                return
            self._busy = False
            if isinstance(error, ValidationError):
                self.error.setText(error.message)  # inline, naming the setting
            else:
                show_error(self, error)

        self._busy = True
        self.error.clear()
        self.ctx.runner.run(self.ctx.write(write), done, failed)

    def _backup(self) -> None:
        from .backup_dialog import BackupDialog

        self._backup_dialog = BackupDialog(self.ctx, self)
        self._backup_dialog.open()


def _recent_changes(session, limit: int = 50) -> list[tuple[str, str, str, str, str]]:
    """Who changed which setting, when, to what and why, from the audit log."""
    from sqlalchemy import select

    from app.models import AuditEntry

    rows = session.execute(select(AuditEntry.at, AuditEntry.actor, AuditEntry.data, AuditEntry.reason)
                           .where(AuditEntry.table_name == "setting", AuditEntry.action != "delete")
                           .order_by(AuditEntry.id.desc()).limit(limit)).all()
    found = []
    for at, actor, data, reason in rows:
        row = json.loads(data)
        key = row.get("key", "")
        found.append((at.strftime("%Y-%m-%d %H:%M"), actor, settings.LABELS.get(key, key),
                      row.get("value", ""), reason or ""))
    return found
