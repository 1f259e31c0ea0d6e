"""Settings → trace codes: the address the labels' QR codes point to (where
the batch pages are published) and the base of the EPCIS export's own
identifiers. Both are enterprise settings, audited like every write."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget
from shiboken6 import isValid

from app.i18n import tr

from .context import AppContext
from .dialogs import show_error

KEYS = ("digital_link_resolver", "epcis_id_base")


class CodesSettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(tr("Trace codes and batch pages"))
        self.setMinimumWidth(620)
        self.resolver = QLineEdit(placeholderText="https://trace.example.cn")
        self.resolver.setObjectName("resolver")
        self.epcis_base = QLineEdit()
        self.epcis_base.setObjectName("epcisBase")
        form = QFormLayout()
        form.addRow(tr("QR code address (GS1 Digital Link resolver)"), self.resolver)
        form.addRow("", self._hint(tr(
            "The batch label's QR code opens <address>/01/<GTIN>/10/<lot>. Publish the folder that "
            "“foodarchive export-pages” writes at this address, then print the labels. The default, "
            "https://id.gs1.org, is GS1's global resolver: it shows none of your pages.")))
        form.addRow(tr("Base of our own EPCIS identifiers"), self.epcis_base)
        form.addRow("", self._hint(tr(
            "For lots, parties and places that have no GS1 key (docs/epcis.md). Use an address on a domain of "
            "your own and set it before the first export you send: identifiers and event IDs change with it.")))
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(tr("Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.load()

    @staticmethod
    def _hint(text: str) -> QLabel:
        label = QLabel(text, wordWrap=True)
        label.setStyleSheet("color: #5b665f;")
        return label

    def load(self) -> None:
        from sqlalchemy import select

        from app.models import Enterprise
        from app.reports.epcis_ids import base_uri
        from app.services import settings

        with self.ctx.read() as session:
            values = {key: settings.get(session, key) for key in KEYS}
            credit_code = session.scalar(select(Enterprise.credit_code).limit(1))
        default_base = base_uri("", credit_code)
        self.resolver.setText(values["digital_link_resolver"])
        self.epcis_base.setText(values["epcis_id_base"])
        self.epcis_base.setPlaceholderText(default_base)

    def save(self) -> None:
        from app.errors import ValidationError
        from app.services import settings

        values = {"digital_link_resolver": self.resolver.text(), "epcis_id_base": self.epcis_base.text()}

        def write(session):
            for key, value in values.items():
                settings.put(session, key, value)

        def failed(error: BaseException) -> None:
            self.buttons.setEnabled(True)
            if isinstance(error, ValidationError):
                self.error.setText(error.message)  # inline, next to the fields it names
                self.error.show()
            else:
                show_error(self, error)

        self.buttons.setEnabled(False)
        self.error.hide()
        self.ctx.runner.run(self.ctx.write(write), lambda _r: isValid(self) and self.accept(),
                            lambda error: isValid(self) and failed(error))
