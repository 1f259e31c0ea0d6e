"""基础数据 → 合格供方名录: the supplier list, and below it the chosen
supplier with its documents, platform checks, products, evaluations and
status history; the quality manager evaluates (admits), suspends and
resumes here, the purchaser adds documents and checks.

Loads and writes run on the task runner (``WorkflowScreen``); the widgets
see ``suppliers.SupplierOverview`` snapshots only.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.i18n import tr
from app.ledgers import registry
from app.ledgers.choices import SUPPLIER_STATUS, VERDICT
from app.models import Supplier
from app.services import suppliers

from .context import AppContext
from .dialogs import Dialogs
from .ledger_model import LedgerTableModel
from .ledger_page import LedgerPage
from .standing import background, colour, show_badge, standing_badge
from .workflow_kit import AMBER_BG, RED, RED_BG, ErrorLabel, WorkflowScreen, fill_table, make_table, selected_key

DAY = "%Y-%m-%d"
HINT_STYLE = "color: #8a4b00;"


def _day(value) -> str:
    return value.strftime(DAY) if value else ""


class SupplierTableModel(LedgerTableModel):
    """The supplier list with its status column in the standing's colour and
    words (需复评 for a qualified supplier whose re-evaluation is overdue)."""

    def __init__(self, ctx: AppContext, ledger, parent=None):
        self._standings: dict[int, str] = {}
        super().__init__(ctx, ledger, parent)
        self._status_column = self.ledger.field_names.index("status")

    def _requery(self) -> None:
        super()._requery()
        with self.ctx.read() as session:
            self._standings = suppliers.standings(session)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if index.isValid() and index.column() == self._status_column and 0 <= index.row() < self.rowCount():
            code = self._standings.get(self.record_id(index.row()))
            if role == Qt.ItemDataRole.ForegroundRole:
                return colour(code)
            if role == Qt.ItemDataRole.BackgroundRole:
                return background(code)
            if code == suppliers.OVERDUE and role == Qt.ItemDataRole.DisplayRole:
                return suppliers.STANDING[code]
            if code == suppliers.OVERDUE and role == Qt.ItemDataRole.ToolTipRole:
                return tr("Qualified supplier; the periodic re-evaluation is overdue")
        return super().data(index, role)


class SupplierList(LedgerPage):
    model_class = SupplierTableModel


class SupplierPage(QWidget):
    """The page of the navigation: the list above, the chosen supplier below."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.list = SupplierList(ctx, registry()["supplier"])
        self.detail = SupplierDetail(ctx)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.list.table.selectionModel().currentRowChanged.connect(self._chosen)
        self.list.model.modelReset.connect(self._after_reset)
        self.detail.changed.connect(self._refresh_list)

    def _chosen(self, current: QModelIndex, _previous=None) -> None:
        if current.isValid():
            self.detail.show_supplier(self.list.model.record_id(current.row()))

    def _after_reset(self) -> None:
        shown = self.detail.supplier_id
        row = self.list.model.row_of(shown) if shown is not None else None
        if row is not None:
            self.list.table.selectRow(row)

    def _refresh_list(self) -> None:
        self.list.model.refresh()

    def refresh(self) -> None:
        """After a write anywhere (or F5): the list, and the supplier shown."""
        self.list.model.refresh()
        if self.detail.supplier_id is not None:
            self.detail.show_supplier(self.detail.supplier_id)

    def select(self, supplier_id: int) -> None:
        """Choose a supplier as a click on its row would."""
        row = self.list.model.row_of(supplier_id)
        if row is not None:
            self.list.table.setCurrentIndex(self.list.model.index(row, 0))
        else:
            self.detail.show_supplier(supplier_id)


class SupplierDetail(QWidget):
    """One supplier: standing, actions, and its records in tabs."""

    changed = Signal()  # after a write (the list's status column changes)
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.supplier_id: int | None = None
        self.snapshot: suppliers.SupplierOverview | None = None
        self.screen = _Loader(ctx, self)
        self.screen.loaded.connect(self.loaded)
        self.screen.changed.connect(self.changed)

        self.name = QLabel(tr("Choose a supplier in the list above."))
        self.name.setObjectName("supplierName")
        font = self.name.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.name.setFont(font)
        self.badge = standing_badge()
        self.due = QLabel()
        self.due.setObjectName("reviewDue")
        self.hint = QLabel()
        self.hint.setObjectName("admissionHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(HINT_STYLE)
        self.hint.hide()
        self.error = ErrorLabel()
        self.error.setObjectName("supplierError")

        self.evaluate_button = self._button(tr("Evaluate / admit…"), "evaluateButton", self.evaluate)
        self.suspend_button = self._button(tr("Suspend supplies…"), "suspendButton", self.suspend)
        self.resume_button = self._button(tr("Resume supplies…"), "resumeButton", self.resume)
        for button in (self.evaluate_button, self.suspend_button, self.resume_button):
            ctx.offer(button, "qualify")
        self.document_button = self._button(tr("Add document…"), "addDocument", lambda: self._new("supplier_document"))
        self.coverage_button = self._button(tr("Add covered material…"), "addCoverage", self._new_coverage)
        self.check_button = self._button(tr("Add platform check…"), "addCheck", lambda: self._new("platform_check"))
        self.product_button = self._button(tr("Add product supplied…"), "addProduct", lambda: self._new("supplier_material"))
        for button, key in ((self.document_button, "supplier_document"), (self.coverage_button, "supplier_document_material"),
                            (self.check_button, "platform_check"), (self.product_button, "supplier_material")):
            ctx.offer(button, "enter", key)

        header = QHBoxLayout()
        header.addWidget(self.name)
        header.addWidget(self.badge)
        header.addSpacing(12)
        header.addWidget(self.due)
        header.addStretch(1)
        for button in (self.evaluate_button, self.suspend_button, self.resume_button):
            header.addWidget(button)

        self.documents = make_table([tr("Document"), tr("Number"), tr("Issuer"), tr("Valid from"), tr("Valid to"),
                                     tr("Products covered")], stretch=5)
        self.documents.setObjectName("documents")
        self.checks = make_table([tr("Date checked"), tr("Platform"), tr("Column"), tr("Result"), tr("Checked by")], stretch=3)
        self.checks.setObjectName("checks")
        self.supplied = make_table([tr("Material"), tr("Spec"), tr("Quality requirements")], stretch=2)
        self.supplied.setObjectName("supplied")
        self.evaluations = make_table([tr("Evaluated on"), tr("Evaluation kind"), tr("Score"), tr("Verdict"), tr("Conclusion"),
                                       tr("Evaluator"), tr("Next due"), tr("Approval")], stretch=4, numbers=(2,))
        self.evaluations.setObjectName("evaluations")
        self.evaluations.doubleClicked.connect(self._open_evaluation)
        self.history = make_table([tr("Changed at"), tr("Previous status"), tr("New status"), tr("Reason for the change"),
                                   tr("Done by")], stretch=3)
        self.history.setObjectName("history")

        self.tabs = QTabWidget()
        self.tabs.setObjectName("supplierTabs")
        self.tabs.addTab(self._with_buttons(self.documents, self.document_button, self.coverage_button), tr("Qualification documents"))
        self.tabs.addTab(self._with_buttons(self.checks, self.check_button), tr("Platform checks"))
        self.tabs.addTab(self._with_buttons(self.supplied, self.product_button), tr("Products supplied"))
        self.tabs.addTab(self.evaluations, tr("Evaluations"))
        self.tabs.addTab(self.history, tr("Status history"))

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        layout.addWidget(self.tabs, 1)
        self._update_buttons()

    @staticmethod
    def _button(text: str, name: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAutoDefault(False)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    @staticmethod
    def _with_buttons(table, *buttons) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 4, 0, 0)
        line = QHBoxLayout()
        for button in buttons:
            line.addWidget(button)
        line.addStretch(1)
        column.addLayout(line)
        column.addWidget(table, 1)
        return box

    # ------------------------------------------------------------ loading

    def show_supplier(self, supplier_id: int | None) -> None:
        self.supplier_id = supplier_id
        self.error.clear_message()
        if supplier_id is not None:
            self.screen.reload(supplier_id)

    def show_snapshot(self, snapshot: suppliers.SupplierOverview | None) -> None:
        self.snapshot = snapshot
        if snapshot is None:
            return
        self.name.setText(snapshot.name)
        show_badge(self.badge, snapshot.standing)
        self.due.setText(tr("Next evaluation due: {day}", day=_day(snapshot.review_due)) if snapshot.review_due else "")
        overdue = snapshot.standing == suppliers.OVERDUE
        self.due.setStyleSheet(f"color: {RED.name()}; font-weight: bold;" if overdue else "")
        hint = ""
        if snapshot.status in ("pending", "rejected") and snapshot.admission_refusal:
            hint = tr("Before it can be admitted: {reason}", reason=snapshot.admission_refusal)
        elif overdue:
            hint = tr("The periodic re-evaluation is overdue: evaluate it again. Receipts are still accepted, with a warning.")
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self._fill(snapshot)
        self._update_buttons()

    def _fill(self, s: suppliers.SupplierOverview) -> None:
        state_words = {"valid": "", "expired": tr("expired"), "not_yet": tr("not yet valid")}
        fill_table(self.documents, [
            [d.kind, d.number, d.issuer, _day(d.valid_from), f"{_day(d.valid_to) or tr('long-term')} {state_words[d.state]}".strip(),
             d.covers] for d in s.documents
        ], keys=[d.id for d in s.documents], backgrounds=[None if d.state == "valid" else RED_BG for d in s.documents])
        fill_table(self.checks, [[_day(c.checked_on), c.platform, c.column, c.result, c.checked_by] for c in s.checks])
        fill_table(self.supplied, [list(row) for row in s.supplied])
        fill_table(self.evaluations, [
            [_day(e.evaluated_on), e.kind, e.score, VERDICT.get(e.verdict, e.verdict), e.conclusion, e.evaluator,
             _day(e.next_due), e.approval] for e in s.evaluations
        ], keys=[e.id for e in s.evaluations],
            backgrounds=[RED_BG if e.verdict == "fail" else (None if e.approved else AMBER_BG) for e in s.evaluations])
        fill_table(self.history, [
            [h.changed_at.strftime("%Y-%m-%d %H:%M"), h.from_status, SUPPLIER_STATUS.get(h.to_status, h.to_status),
             h.reason, h.changed_by] for h in s.history
        ], foregrounds=[colour(h.to_status) for h in s.history])

    def _update_buttons(self) -> None:
        status = self.snapshot.status if self.snapshot else None
        self.evaluate_button.setEnabled(status is not None)
        self.suspend_button.setEnabled(status == "qualified")
        self.resume_button.setEnabled(status == "suspended")
        for button in (self.document_button, self.coverage_button, self.check_button, self.product_button):
            button.setEnabled(status is not None)
        self.evaluate_button.setText(tr("Evaluate / admit…") if status in ("pending", "rejected") else tr("Re-evaluate…"))

    # ------------------------------------------------------------ actions

    def evaluate(self) -> None:
        if self.snapshot is None:
            return
        from .supplier_evaluation import EvaluationDialog

        self.evaluation_dialog = EvaluationDialog(self.ctx, self.snapshot, self)
        self.evaluation_dialog.evaluated.connect(lambda _id: self._written())
        self.evaluation_dialog.show()

    def suspend(self) -> None:
        self._change_status(suppliers.suspend, tr("Suspend supplies"),
                            tr("Why are supplies from “{name}” suspended?", name=self.snapshot.name if self.snapshot else ""))

    def resume(self) -> None:
        self._change_status(suppliers.resume, tr("Resume supplies"),
                            tr("Why may “{name}” deliver again?", name=self.snapshot.name if self.snapshot else ""))

    def _change_status(self, service, title: str, question: str) -> None:
        if self.snapshot is None:
            return
        reason = Dialogs.ask_text(self, title, question)
        if reason is None:
            return  # cancelled
        supplier_id = self.snapshot.id

        def write(session):
            supplier = session.get(Supplier, supplier_id)
            if supplier is None:
                raise UserError(tr("This record no longer exists."))
            service(session, supplier, reason)
            return supplier_id

        self.screen.submit(write, self.error)

    def _written(self) -> None:
        self.screen.reload(self.supplier_id)
        self.changed.emit()

    def _new(self, ledger_key: str, **values) -> None:
        """A new document, check or product of this supplier, in its record window."""
        if self.snapshot is None:
            return
        from .record_dialog import RecordDialog

        dialog = RecordDialog.open(self.ctx, ledger_key, None, self)
        if dialog is None:
            return
        for name, value in {"supplier_id": self.snapshot.id, **values}.items():
            if name in dialog.form.rows:
                dialog.form.set_value(name, value)
        dialog.saved.connect(lambda _id: self._written())
        self.record_dialog = dialog

    def _new_coverage(self) -> None:
        """A material the chosen document (licence) covers."""
        self._new("supplier_document_material", document_id=selected_key(self.documents))

    def _open_evaluation(self, index: QModelIndex) -> None:
        from .record_dialog import RecordDialog

        evaluation_id = selected_key(self.evaluations)
        if evaluation_id is not None:
            dialog = RecordDialog.open(self.ctx, "supplier_evaluation", evaluation_id, self)
            if dialog is not None:
                dialog.saved.connect(lambda _id: self._written())


class _Loader(WorkflowScreen):
    """Runs the detail's reads and writes on the task runner."""

    def __init__(self, ctx: AppContext, detail: SupplierDetail):
        super().__init__(ctx, detail)
        self.detail = detail
        self.hide()

    def current_key(self):
        return self.detail.supplier_id

    def load_snapshot(self, session, key):
        return suppliers.overview(session, key) if key is not None else None

    def show_snapshot(self, snapshot) -> None:
        self.detail.show_snapshot(snapshot)
