"""The quality manager evaluates a supplier: admission or periodic review.

The evaluation form is the ledger's own (``LedgerForm`` of
``supplier_evaluation``); "Sign and submit" first has the service check the
values (``suppliers.check_evaluation``, nothing written), then opens the
signature window (``SignDialog``), whose Sign writes the evaluation, its
批准 signature and the supplier's new status in one transaction
(``suppliers.evaluate``). Cancelling the signature writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget
from sqlalchemy.orm import Session

from app import clock
from app.errors import UserError, ValidationError
from app.i18n import tr
from app.ledgers import ledger
from app.models import Supplier
from app.services import suppliers
from app.services.suppliers import Signer

from .context import AppContext
from .dialogs import show_error
from .forms import REQUIRED_MARK, LedgerForm
from .sign_dialog import SignDialog
from .standing import show_badge, standing_badge

INTRO_STYLE = "background: #eef4fb; border: 1px solid #b6cde8; border-radius: 3px; padding: 6px;"
HINT_STYLE = "color: #8a4b00; background: #fff1c2; border: 1px solid #f0c36d; border-radius: 3px; padding: 6px;"
KEPT_BY_THE_SERVICE = ("supplier_id", "kind")


class ApprovalSignDialog(SignDialog):
    """Signing what does not exist yet: Sign runs ``write(session, signer)``,
    which writes the record and its signature in one transaction."""

    def __init__(self, ctx: AppContext, title: str, write: Callable[[Session, Signer], int],
                 parent: QWidget | None = None):
        self._write = write
        self._build(ctx, title, [suppliers.APPROVAL], parent)

    def signing(self, username: str, password: str, meaning: str, strokes: str) -> Callable[[Session], int]:
        write = self._write
        return lambda session: write(session, Signer(username, password, strokes))


class EvaluationDialog(QDialog):
    evaluated = Signal(int)  # the new evaluation's id

    def __init__(self, ctx: AppContext, snapshot: suppliers.SupplierOverview, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.supplier_id = snapshot.id
        self.supplier_name = snapshot.name
        self.sign_dialog: ApprovalSignDialog | None = None
        self._busy = False
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("evaluationDialog")
        self.setWindowTitle(tr("Evaluate supplier {name}", name=snapshot.name))

        admission = snapshot.status in ("pending", "rejected")
        intro = QLabel(self._intro(snapshot, admission))
        intro.setObjectName("intro")
        intro.setWordWrap(True)
        intro.setStyleSheet(INTRO_STYLE)
        badge = standing_badge()
        show_badge(badge, snapshot.standing)
        self.hint = QLabel(tr("A passing evaluation will be refused: {reason}", reason=snapshot.admission_refusal or ""))
        self.hint.setObjectName("admissionHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(HINT_STYLE)
        self.hint.setVisible(bool(snapshot.admission_refusal))

        self.form = LedgerForm(ledger("supplier_evaluation"), lookups={}, creating=True, fixed=KEPT_BY_THE_SERVICE)
        today = clock.today()
        self._default_due = suppliers.a_year_after(today)
        self.form.load({"evaluated_on": today, "evaluator": ctx.actor, "next_due": self._default_due})
        # Optional in the ledger (older evaluations have none), required for a new one.
        self.form.label("score").setText(self.form.label("score").text() + REQUIRED_MARK)
        self.form.changed.connect(self._follow)

        self.status = QLabel()
        self.status.setObjectName("status")
        self.submit_button = QPushButton(tr("Sign and submit…"))
        self.submit_button.setObjectName("signAndSubmit")
        self.submit_button.clicked.connect(self.submit)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.clicked.connect(self.reject)
        for button in (self.submit_button, self.cancel_button):
            button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.cancel_button)

        top = QHBoxLayout()
        top.addWidget(intro, 1)
        top.addWidget(badge, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        # The form takes the height its rows need, the spare room goes below it.
        self.form.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout.addWidget(self.form)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.resize(640, 540)

    @staticmethod
    def _intro(snapshot: suppliers.SupplierOverview, admission: bool) -> str:
        if snapshot.status == "suspended":
            return tr("Periodic re-evaluation of a suspended supplier: passing it sets the next due date; the supplier stays suspended until supplies are resumed.")
        if admission:
            return tr("Admission: when the evaluation passes, “{name}” becomes a qualified supplier. The quality manager approves it with a signature.", name=snapshot.name)
        return tr("Periodic re-evaluation of “{name}”: passing it sets the next due date; failing it stops supplies. The quality manager approves it with a signature.", name=snapshot.name)

    def _follow(self) -> None:
        """The due date follows the evaluation date until the user sets it; a
        failed evaluation has none."""
        values = self.form.values()
        failed = values.get("verdict") == "fail"
        due_row = self.form.rows["next_due"]
        if failed and values.get("next_due"):
            self.form.set_value("next_due", None)
        due_row.editor.freeze(failed)
        try:
            evaluated = dt.date.fromisoformat(str(values.get("evaluated_on") or ""))
        except ValueError:
            return
        if not failed and values.get("next_due") in (None, self._default_due.isoformat()):
            self._default_due = suppliers.a_year_after(evaluated)
            if values.get("next_due") != self._default_due.isoformat():
                self.form.set_value("next_due", self._default_due)

    def values(self) -> dict[str, object]:
        return {name: value for name, value in self.form.values().items() if value is not None}

    # ------------------------------------------------------------ submit

    def submit(self) -> None:
        """Check first (nothing is written), then ask for the signature."""
        if self._busy:
            return
        self.form.clear_errors()
        supplier_id, values = self.supplier_id, self.values()
        sessions = self.ctx.sessions

        def check(_progress):
            with sessions() as session:
                supplier = session.get(Supplier, supplier_id)
                if supplier is None:
                    raise UserError(tr("This record no longer exists."))
                suppliers.check_evaluation(session, supplier, values)
            return True

        self._set_busy(True, tr("Checking…"))
        self.ctx.runner.run(check, lambda _ok: self._checked(values), self._failed)

    def _checked(self, values: dict) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False, "")
        supplier_id = self.supplier_id

        def write(session: Session, signer: Signer) -> int:
            supplier = session.get(Supplier, supplier_id)
            if supplier is None:
                raise UserError(tr("This record no longer exists."))
            return suppliers.evaluate(session, supplier, values, signer).id

        self.sign_dialog = ApprovalSignDialog(
            self.ctx, tr("Approve the evaluation of {name}", name=self.supplier_name), write, self)
        self.sign_dialog.signed.connect(self._signed)
        self.sign_dialog.show()

    def _signed(self, evaluation_id: int) -> None:
        self.evaluated.emit(evaluation_id)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False, "")
        if isinstance(error, ValidationError):
            self.form.show_errors(error.errors)
        else:
            show_error(self, error)

    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        self.submit_button.setEnabled(not busy)
        self.status.setText(text)

    def done(self, result: int) -> None:
        if self._busy:
            return
        super().done(result)
