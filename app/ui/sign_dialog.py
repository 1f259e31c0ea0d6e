"""Sign a record: the meaning, the signer's user name and password again, and
a handwritten signature on the pad.

The electronic signature itself is ``app.services.signatures.sign``: it binds
the signer, the meaning, the moment and the handwritten image to the
record's exact content. A saved signature specimen is put on the pad only
after the password has been checked again (``specimen_strokes``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sqlalchemy.orm import Session

from app.errors import UserError
from app.i18n import tr
from app.ledgers import ledger as ledger_named
from app.services import signatures
from app.services.guards import describe

from .context import AppContext
from .dialogs import show_error
from .signature_pad import SignaturePad

ERROR_STYLE = "color: #c62828;"


def meanings_to_sign(session, model: type, record_id: int) -> tuple[str, list[str]]:
    """What the record is called, and its declared meanings not validly signed yet."""
    obj = session.get(model, record_id)
    if obj is None:
        raise UserError(tr("This record no longer exists."))
    return describe(obj), [entry.meaning for entry in signatures.status(session, obj) if not entry.valid]


class SignDialog(QDialog):
    """Open with ``SignDialog.open(ctx, ledger_key, record_id, parent)``."""

    signed = Signal(int)  # the new signature's id

    @classmethod
    def open(cls, ctx: AppContext, ledger_key: str, record_id: int, parent: QWidget | None = None) -> "SignDialog | None":
        try:
            dialog = cls(ctx, ledger_key, record_id, parent)
        except UserError as error:
            show_error(parent, error)
            return None
        dialog.show()
        return dialog

    def __init__(self, ctx: AppContext, ledger_key: str, record_id: int, parent: QWidget | None = None):
        declaration = ledger_named(ledger_key)
        with ctx.read() as session:
            what, meanings = meanings_to_sign(session, declaration.model, record_id)
        self.model = declaration.model
        self.record_id = record_id
        self._build(ctx, tr("Sign {record}", record=what), meanings, parent)

    def _build(self, ctx: AppContext, title: str, meanings: list[str], parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._busy = False
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("signDialog")
        self.setWindowTitle(title)

        self.meaning = QComboBox()
        self.meaning.setObjectName("meaning")
        self.meaning.addItems(meanings)
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.pad = SignaturePad()
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()

        form = QFormLayout()
        form.addRow(tr("Meaning"), self.meaning)
        form.addRow(tr("User name"), self.username)
        form.addRow(tr("Password"), self.password)

        self.save_specimen = QCheckBox(tr("Keep this as my saved signature"))
        self.save_specimen.setObjectName("saveSpecimen")
        self.specimen_button = QPushButton(tr("Use my saved signature"))
        self.specimen_button.setObjectName("useSpecimen")
        self.specimen_button.setToolTip(tr("Enter your user name and password first."))
        self.specimen_button.clicked.connect(self.use_specimen)
        self.undo_button = QPushButton(tr("Undo stroke"))
        self.clear_button = QPushButton(tr("Clear"))
        self.sign_button = QPushButton(tr("Sign"))
        self.cancel_button = QPushButton(tr("Cancel"))
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button.clicked.connect(self.pad.clear)
        self.sign_button.clicked.connect(self.sign)
        self.cancel_button.clicked.connect(self.reject)
        for button in (self.specimen_button, self.undo_button, self.clear_button, self.cancel_button):
            button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.specimen_button)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(tr("Sign by hand below:")))
        layout.addWidget(self.pad)
        layout.addWidget(self.save_specimen)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        if not meanings:
            self._show_error(tr("Every signature this record needs is present and valid."))
            for widget in (self.meaning, self.username, self.password, self.pad, self.sign_button,
                           self.specimen_button, self.save_specimen):
                widget.setEnabled(False)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _credentials(self) -> tuple[str, str] | None:
        if not self.username.text().strip() or not self.password.text():
            self._show_error(tr("Enter your user name and password."))
            return None
        return self.username.text(), self.password.text()

    def use_specimen(self) -> None:
        """Put the user's saved signature on the pad, once the password is right."""
        if self._busy:
            return
        self._show_error("")
        credentials = self._credentials()
        if credentials is None:
            return
        self._busy = True
        self.specimen_button.setEnabled(False)
        self.ctx.runner.run(
            self.ctx.write(lambda session: signatures.specimen_strokes(session, *credentials)),
            self._specimen_loaded, self._failed,
        )

    def _specimen_loaded(self, strokes: str) -> None:
        self._busy = False
        self.specimen_button.setEnabled(True)
        self.pad.load_json(strokes)

    def sign(self) -> None:
        if self._busy or not self.meaning.currentText():
            return
        self._show_error("")
        credentials = self._credentials()
        if credentials is None:
            return
        if self.pad.is_empty():
            self._show_error(tr("Sign by hand on the pad first."))
            return
        (username, password), meaning = credentials, self.meaning.currentText()
        strokes, keep = self.pad.to_json(), self.save_specimen.isChecked()
        sign = self.signing(username, password, meaning, strokes)

        def work(session) -> int:
            result = sign(session)
            if keep:
                signatures.save_specimen(session, username, password, strokes)
            return result

        self._busy = True
        self.sign_button.setEnabled(False)
        self.ctx.runner.run(self.ctx.write(work), self._succeeded, self._failed)

    def signing(self, username: str, password: str, meaning: str, strokes: str) -> Callable[[Session], int]:
        """What the Sign button writes, on a worker: here the signature of the record."""
        model, record_id = self.model, self.record_id

        def sign(session: Session) -> int:
            obj = session.get(model, record_id)
            if obj is None:
                raise UserError(tr("This record no longer exists."))
            return signatures.sign(session, obj, username, password, meaning, strokes=strokes).id

        return sign

    def _succeeded(self, signature_id: int) -> None:
        self._busy = False
        self.signed.emit(signature_id)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._busy = False
        self.sign_button.setEnabled(True)
        self.specimen_button.setEnabled(True)
        self.password.clear()
        if isinstance(error, UserError):  # a ValidationError's message names every field
            self._show_error(error.message)
        else:
            show_error(self, error)

    def done(self, result: int) -> None:
        if self._busy:
            return  # the signature is being written; its result needs this window
        super().done(result)
