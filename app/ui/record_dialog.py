"""One window per record: enter a new one, look at one, amend a locked one.

The form is a ``LedgerForm``; saving runs ``app.services.entry`` on the task
runner, so the window stays responsive while the database works. A submitted
(locked) record opens read-only; "更正" makes it editable, and saving asks for
the reason and writes an amendment. Fields with amendments carry a marker whose
tooltip is their history; the whole history is listed at the bottom.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError, ValidationError
from app.i18n import tr
from app.ledgers import Ledger, ledger as ledger_named
from app.services import attachments, entry, signatures
from app.services.gs1 import GS_SHOWN, parse_scan
from app.services.record_view import AmendmentLine, lookup_choices, lookup_marks, read_record

from .attachments_panel import AttachmentsPanel
from .context import AppContext
from .dialogs import Dialogs, show_error
from .forms import LedgerForm
from .supplier_notice import SupplierNotice

BANNER_STYLE = "background: #fff4d6; border: 1px solid #f0c36d; border-radius: 3px; padding: 6px;"
SCAN_FIELDS = ("supplier_lot", "production_date", "expiry_date")
MINIMUM_SIZE = QSize(480, 360)
HISTORY_ROWS_SHOWN = 5
DEFAULT_SIZE = QSize(720, 780)
INVALID_COLOR = QColor("#c62828")
SIGNATURE_IMAGE_HEIGHT = 40


def snapshot_locked(snapshot) -> bool:
    return snapshot is not None and snapshot.locked


def same_value(declaration: Ledger, name: str, raw: object, stored: object) -> bool:
    """Whether what the form shows still is what is stored (5 = 5.000, '' = None)."""
    f = declaration.field(name)
    try:
        new = f.convert(raw)
    except ValueError:
        return False
    if f.kind == "bool":
        return bool(new) == bool(stored)
    if stored == "":
        stored = None
    return new == stored


class ScanEdit(QLineEdit):
    """Takes what a USB scanner types. The group separator (FNC1) that a
    keyboard path cannot carry as a control character is kept as a visible
    "<GS>" (every font has those letters), which ``parse_scan`` reads as GS."""

    def keyPressEvent(self, event) -> None:
        control = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if event.text() == "\x1d" or (control and event.key() == Qt.Key.Key_BracketRight):
            self.insert(GS_SHOWN)
            return
        super().keyPressEvent(event)


class RecordDialog(QDialog):
    """Open with ``RecordDialog.open(ctx, ledger, record_id)``, not the constructor."""

    saved = Signal(int)
    _windows: dict[tuple, "RecordDialog"] = {}

    @classmethod
    def open(
        cls, ctx: AppContext, ledger: Ledger | str, record_id: int | None = None, parent: QWidget | None = None
    ) -> "RecordDialog | None":
        """Show the record's window (raise it if it is open already); None,
        after telling the user, when the record cannot be read."""
        declaration = ledger_named(ledger) if isinstance(ledger, str) else ledger
        key = (id(ctx), declaration.key, record_id)
        existing = cls._windows.get(key) if record_id is not None else None
        if existing is not None and shiboken6.isValid(existing) and existing.ctx is ctx:
            existing.showNormal()
            existing.raise_()
            existing.activateWindow()
            return existing
        try:
            dialog = cls(ctx, declaration, record_id, parent)
        except UserError as error:  # deleted meanwhile
            show_error(parent, error)
            return None
        if record_id is None:
            key = key + (id(dialog),)  # any number of new records at once
        cls._windows[key] = dialog
        dialog.destroyed.connect(lambda *_args: cls._windows.pop(key, None))
        dialog.show()
        return dialog

    def __init__(self, ctx: AppContext, declaration: Ledger, record_id: int | None = None, parent: QWidget | None = None):
        creating = record_id is None
        with ctx.read() as session:  # first: a record that cannot be read makes no window
            lookups, marks = lookup_choices(session, declaration), lookup_marks(session, declaration)
            snapshot = None if creating else read_record(session, declaration, record_id)
        super().__init__(parent)
        self.ctx = ctx
        self.ledger = declaration
        self.record_id = record_id
        self.snapshot = snapshot
        self._saving = False
        self._dirty = False
        self._amending = False
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setObjectName(f"record_{declaration.key}")
        number_field = entry.auto_numbered(declaration.key)
        self.form = LedgerForm(
            declaration, lookups=lookups, marks=marks, creating=creating, fixed=entry.fixed_fields(declaration.key),
            auto_numbered=(number_field,) if creating and number_field else (),
        )
        self.form.changed.connect(self._on_changed)

        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.hide()

        layout = QVBoxLayout(self)
        # The form scrolls, so the window need not be as tall as all its rows:
        # the layout does not impose its minimum size on the window.
        layout.setSizeConstraint(QVBoxLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(MINIMUM_SIZE)
        layout.addWidget(self.banner)
        self.scan: ScanEdit | None = None
        self.supplier_notice: SupplierNotice | None = None
        if creating and declaration.key == "incoming_inspection":
            layout.addLayout(self._scan_row())
            # Why the chosen supplier may not deliver, before the rest is typed.
            self.supplier_notice = SupplierNotice(ctx, self.form)
            layout.addWidget(self.supplier_notice)
        layout.addWidget(self.form, 1)
        self.history = QTreeWidget()
        self.history.setObjectName("history")
        self.history.setRootIsDecorated(False)
        self.history.setHeaderLabels([tr("Time"), tr("By"), tr("Item"), tr("Old value"), tr("New value"), tr("Reason")])
        self.history_title = QLabel(tr("Amendment history"))
        layout.addWidget(self.history_title)
        layout.addWidget(self.history)
        layout.addLayout(self._signature_section())
        self.attachments = self._attachments_panel()
        layout.addLayout(self._button_row())

        self._show_snapshot()
        self.setWindowTitle(self._title())
        self._restore_geometry()

    # ------------------------------------------------------------ layout

    def _scan_row(self) -> QVBoxLayout:
        self.scan = ScanEdit()
        self.scan.setObjectName("scan")
        self.scan.setPlaceholderText(tr("Scan the GS1 barcode or QR code on the package"))
        self.scan.returnPressed.connect(self.apply_scan)
        self.scan_hint = QLabel()
        self.scan_hint.setObjectName("scanHint")
        self.scan_hint.setWordWrap(True)
        line = QHBoxLayout()
        line.addWidget(QLabel(tr("Scan")))
        line.addWidget(self.scan, 1)
        column = QVBoxLayout()
        column.addLayout(line)
        column.addWidget(self.scan_hint)
        self.scan_hint.hide()
        return column

    def _signature_section(self) -> QVBoxLayout:
        self.signatures_title = QLabel(tr("Signatures"))
        self.sign_button = QPushButton(tr("Sign…"))
        self.sign_button.setObjectName("signButton")
        self.sign_button.setAutoDefault(False)
        self.sign_button.clicked.connect(self.open_sign_dialog)
        self.signatures = QTreeWidget()
        self.signatures.setObjectName("signatures")
        self.signatures.setRootIsDecorated(False)
        self.signatures.setHeaderLabels([tr("Meaning"), tr("Printed name"), tr("Time"), tr("State"), tr("Handwritten signature")])
        self.signatures.setIconSize(QSize(SIGNATURE_IMAGE_HEIGHT * 4, SIGNATURE_IMAGE_HEIGHT))
        title = QHBoxLayout()
        title.addWidget(self.signatures_title, 1)
        title.addWidget(self.sign_button)
        column = QVBoxLayout()
        column.addLayout(title)
        column.addWidget(self.signatures)
        return column

    def _attachments_panel(self) -> AttachmentsPanel | None:
        """Scans, photos and PDFs of the record (R3.6), below its signatures."""
        if self.ledger.key in attachments.NOT_ATTACHABLE:
            return None
        panel = AttachmentsPanel(self.ctx, self.ledger.key, self.record_id)
        panel.changed.connect(self._attachments_changed)
        self.layout().addWidget(panel)
        return panel

    def _attachments_changed(self) -> None:
        """A first file fills the record's own scan column (a licence's scan,
        a product's label image): show it, unless the user is typing."""
        name = attachments.attachment_field(self.ledger)
        if name is None or name not in self.form.rows or self._dirty or self._amending:
            return
        with self.ctx.read() as session:
            self.snapshot = read_record(session, self.ledger, self.record_id)
            attached = self.snapshot.values[name]
            filename = attachments.filename_of(session, attached) if attached else None
        combo = self.form.editor(name)
        if filename is not None and combo.findData(attached) < 0:
            combo.addItem(filename, attached)  # the form's list was read when the window opened
        self.form.load(self.snapshot.values)

    def refresh_signatures(self) -> None:
        shown = self.record_id is not None and bool(self.ledger.signatures)
        for widget in (self.signatures_title, self.sign_button, self.signatures):
            widget.setVisible(shown)
        self.sign_button.setEnabled(self.ctx.may("sign"))
        self.signatures.clear()
        if not shown:
            return
        with self.ctx.read() as session:
            lines = signatures.lines(session, self.ledger.model, self.record_id)
        for line in lines:
            valid = line.valid
            state = tr("Missing") if valid is None else tr("Valid") if valid else tr("Invalid")
            at = line.signed_at.strftime("%Y-%m-%d %H:%M") if line.signed_at else ""
            item = QTreeWidgetItem([line.meaning, line.printed_name, at, state, ""])
            if not valid:
                item.setForeground(3, QBrush(INVALID_COLOR))
            if line.image_png:
                pixmap = QPixmap()
                pixmap.loadFromData(line.image_png, "PNG")
                item.setData(4, Qt.ItemDataRole.DecorationRole,
                             pixmap.scaledToHeight(SIGNATURE_IMAGE_HEIGHT, Qt.TransformationMode.SmoothTransformation))
            self.signatures.addTopLevelItem(item)
        for column in range(self.signatures.columnCount()):
            self.signatures.resizeColumnToContents(column)
        rows = max(1, len(lines))
        header = self.signatures.header().sizeHint().height()
        row_height = self.signatures.sizeHintForRow(0) if lines else self.signatures.fontMetrics().height()
        self.signatures.setFixedHeight(header + rows * row_height + 2 * self.signatures.frameWidth() + 2)

    def signature_rows(self) -> list[list[str]]:
        """The signatures as shown, one list of column texts per required meaning."""
        return [
            [self.signatures.topLevelItem(i).text(c) for c in range(self.signatures.columnCount())]
            for i in range(self.signatures.topLevelItemCount())
        ]

    def open_sign_dialog(self) -> None:
        from .sign_dialog import SignDialog

        dialog = SignDialog.open(self.ctx, self.ledger.key, self.record_id, self)
        if dialog is not None:
            dialog.signed.connect(lambda _signature_id: self.refresh_signatures())

    def _button_row(self) -> QHBoxLayout:
        self.status = QLabel()
        self.status.setObjectName("status")
        self.amend_button = QPushButton(tr("Amend"))
        self.cancel_amend_button = QPushButton(tr("Cancel amendment"))
        self.save_button = QPushButton(tr("Save"))
        self.close_button = QPushButton(tr("Close"))
        for button in (self.amend_button, self.cancel_amend_button, self.save_button, self.close_button):
            # A scanner ends with Enter: it must never press a button.
            button.setAutoDefault(False)
            button.setDefault(False)
        self.amend_button.clicked.connect(self.start_amending)
        self.cancel_amend_button.clicked.connect(self.cancel_amending)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        if self.ledger.key == "incoming_inspection" and self.record_id is not None:
            # G§35: the factory's own inspection of this delivery.
            self.inspect_button = QPushButton(tr("Incoming inspection…"))
            self.inspect_button.setObjectName("inspectReceipt")
            self.inspect_button.setAutoDefault(False)
            self.inspect_button.clicked.connect(self.open_inspection)
            self.ctx.offer(self.inspect_button, "enter", "inspection")
            row.addWidget(self.inspect_button)
        for button in (self.amend_button, self.cancel_amend_button, self.save_button, self.close_button):
            row.addWidget(button)
        return row

    def open_inspection(self):
        from .inspection_screen import InspectionDialog

        return InspectionDialog.open(self.ctx, "incoming", receipt_id=self.record_id, parent=self.parentWidget())

    def _title(self) -> str:
        if self.record_id is None:
            return tr("{ledger} — new", ledger=self.ledger.title)
        return f"{self.ledger.title} {self.snapshot.number}"

    # ------------------------------------------------------------ state

    @property
    def locked(self) -> bool:
        return self.snapshot is not None and self.snapshot.locked

    def _show_snapshot(self) -> None:
        """Put the record (if any) on the form and set what may be done."""
        snapshot = self.snapshot
        if snapshot is not None:
            self.form.load(snapshot.values)
            self._show_history(snapshot.amendments)
        else:
            self.history_title.hide()
            self.history.hide()
        self.refresh_signatures()
        self._dirty = False
        self._amending = False
        self._update_mode()

    def _update_mode(self) -> None:
        may_enter = self.ctx.may("enter", self.ledger.key)
        if self.record_id is None:
            editable, can_amend = entry.plain_form(self.ledger.key) and may_enter, False
        elif self.locked:
            editable, can_amend = self._amending, not self._amending and self.ctx.may("amend")
        else:
            editable, can_amend = entry.editable(self.ledger.key) and may_enter, False
        self.form.set_read_only(not editable)
        self.amend_button.setVisible(can_amend)
        self.cancel_amend_button.setVisible(self._amending)
        self.save_button.setVisible(editable)
        self.save_button.setEnabled(not self._saving)
        self.save_button.setText(tr("Saving…") if self._saving else tr("Save"))
        self._update_banner()

    def _update_banner(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            text = None if entry.plain_form(self.ledger.key) else entry.refusal(self.ledger.key)
        elif self._amending:
            text = tr("Amending: correct the wrong fields, then save and give the reason. The original values are kept.")
        elif snapshot.sealed_in:
            text = tr("Filed in the sealed archive {archive_no}. To change it, click Amend and give a reason; "
                      "the amendment is listed on the volume's remarks sheet.", archive_no=snapshot.sealed_in)
        elif snapshot.locked and snapshot.submitted_at:
            when = snapshot.submitted_at.strftime("%Y-%m-%d %H:%M")
            text = tr("Submitted and locked ({time}, {who}). To change it, click Amend and give a reason.",
                      time=when, who=snapshot.submitted_by or "")
        elif snapshot.locked:
            text = tr("Locked: {reason}. To change it, click Amend and give a reason.", reason=snapshot.lock_reason)
        elif not entry.editable(self.ledger.key):
            text = entry.refusal(self.ledger.key)
        else:
            text = None
        if not self.ctx.may("enter", self.ledger.key) and not snapshot_locked(snapshot):
            text = tr("Your role may read this ledger but not enter records in it.")
        self.banner.setText(text or "")
        self.banner.setVisible(bool(text))

    def _on_changed(self) -> None:
        self._dirty = True
        self.status.clear()

    def start_amending(self) -> None:
        self._amending = True
        self._update_mode()
        first = next((row for row in self.form.rows.values() if not row.fixed), None)
        if first is not None:
            first.editor.focus.setFocus()

    def cancel_amending(self) -> None:
        self._show_snapshot()

    # ------------------------------------------------------------ history

    def _show_history(self, lines: list[AmendmentLine]) -> None:
        self.history.clear()
        by_field: dict[str, list[str]] = {}
        for line in lines:
            label = self._label(line.field)
            old, new = self.form.display(line.field, line.old), self.form.display(line.field, line.new)
            at = line.at.strftime("%Y-%m-%d %H:%M")
            self.history.addTopLevelItem(QTreeWidgetItem([at, line.by, label, old, new, line.reason]))
            by_field.setdefault(line.field, []).append(
                tr("{time} {who}: {old} → {new} (reason: {reason})", time=at, who=line.by, old=old or "—", new=new or "—", reason=line.reason)
            )
        for name in self.form.rows:
            history = by_field.get(name)
            self.form.set_marker(name, "\n".join(history) if history else None)
        for column in range(self.history.columnCount() - 1):
            self.history.resizeColumnToContents(column)
        rows = max(1, min(len(lines), HISTORY_ROWS_SHOWN))
        row_height = self.history.sizeHintForRow(0) if lines else self.history.fontMetrics().height()
        header = self.history.header().sizeHint().height()
        self.history.setFixedHeight(header + rows * row_height + 2 * self.history.frameWidth() + 2)
        self.history_title.setVisible(bool(lines))
        self.history.setVisible(bool(lines))

    def _label(self, name: str) -> str:
        try:
            return self.ledger.field(name).label
        except KeyError:
            return name

    def history_rows(self) -> list[list[str]]:
        """The history as shown, one list of column texts per amendment."""
        return [
            [self.history.topLevelItem(i).text(c) for c in range(self.history.columnCount())]
            for i in range(self.history.topLevelItemCount())
        ]

    # ------------------------------------------------------------ scanning

    def apply_scan(self) -> None:
        """Fill lot and dates from what the scanner typed into the scan field."""
        try:
            found = parse_scan(self.scan.text())
        except UserError as error:
            self.scan_hint.setStyleSheet("color: #c62828;")
            self.scan_hint.setText(error.message)
        else:
            filled = []
            for name in SCAN_FIELDS:
                if found[name]:
                    self.form.set_value(name, found[name])
                    filled.append(self.ledger.field(name).label)
            parts = []
            if found["gtin"]:
                parts.append(tr("GTIN {gtin}", gtin=found["gtin"]))
            if filled:
                parts.append(tr("filled in: {fields}", fields="、".join(filled)))
            self.scan_hint.setStyleSheet("color: #2e7d32;")
            self.scan_hint.setText("；".join(parts))
        self.scan_hint.show()
        self.scan.selectAll()  # the next scan replaces this one

    # ------------------------------------------------------------ saving

    def changes(self) -> dict[str, object]:
        """The fields whose value differs from the stored record."""
        stored = self.snapshot.values
        return {
            name: raw
            for name, raw in self.form.values().items()
            if not same_value(self.ledger, name, raw, stored.get(name))
        }

    def save(self) -> None:
        if self._saving:
            return
        self.form.clear_errors()
        local = self.form.errors()
        if local:
            self.form.show_errors(local)
            return
        key = self.ledger.key
        if self.record_id is None:
            values = self.form.values()
            self._run(self.ctx.write(lambda session: entry.save_new(session, key, values)), self._created)
            return
        changes = self.changes()
        if not changes:
            show_error(self, UserError(tr("Nothing was changed.")))
            return
        reason = None
        if self.locked:
            reason = Dialogs.ask_text(self, tr("Reason for the amendment"), tr("Why is this record being amended?"))
            if reason is None:
                return  # the user thought better of it
            if not reason.strip():
                show_error(self, UserError(tr("An amendment needs a reason; nothing was saved.")))
                return
        record_id, version = self.record_id, self.snapshot.version
        self._run(self.ctx.write(lambda session: entry.amend(session, key, record_id, changes, reason, version)),
                  self._changed)

    def _run(self, task, on_success) -> None:
        self._saving = True
        self._update_mode()
        self.status.setText(tr("Saving…"))
        self.ctx.runner.run(task, lambda result: self._finished(on_success, result), self._failed)

    def _finished(self, on_success, result) -> None:
        self._saving = False
        on_success(result)

    def _failed(self, error: BaseException) -> None:
        self._saving = False
        self._update_mode()
        self.status.clear()
        if isinstance(error, ValidationError):
            self.form.show_errors(error.errors)
        else:
            show_error(self, error)

    def _created(self, record_id: int) -> None:
        self._dirty = False
        self.saved.emit(record_id)
        self.accept()

    def _changed(self, record_id: int) -> None:
        with self.ctx.read() as session:
            self.snapshot = read_record(session, self.ledger, record_id)
        self._show_snapshot()
        self.status.setText(tr("Saved."))
        self.saved.emit(record_id)

    # ------------------------------------------------------------ closing

    def _settings_key(self) -> str:
        return f"record_dialog/{self.ledger.key}/geometry"

    def _restore_geometry(self) -> None:
        geometry = QSettings().value(self._settings_key())
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)

    def done(self, result: int) -> None:
        if self._saving:
            return  # the save finishes first; its result needs this window
        if result == QDialog.DialogCode.Rejected and self._dirty and not Dialogs.confirm(
            self, tr("Unsaved changes"), tr("The record has unsaved changes. Close without saving?")
        ):
            return
        QSettings().setValue(self._settings_key(), self.saveGeometry())
        super().done(result)
