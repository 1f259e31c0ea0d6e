"""The inspection entry window (R2.5, G§34–40): one window for every kind of
inspection — incoming, in-process control, production water, semi-finished,
finished product and factory release.

Top, the sampling slip (抽样单) for the chosen subject: a receipt, a batch, a
commodity batch or the water. Below, the test items prefilled from the
subject's standard (检验项目标准), each judged against its limit as its result
is typed, a failing one in red with its limit before anything is saved; the
evidence of an in-process control check (G§36), the label check of a release
inspection (G§40), the retained sample (留样). Saving writes the report, its
items and the sample in one transaction (``entry.save_new``), on the task
runner. Afterwards the window says what the report did — a held batch, a
stopped lot — offers the signatures and, for a held batch, its warning archive.

Open with ``InspectionDialog.open(ctx, kind, batch_id=…, commodity_id=…,
receipt_id=…, parent=…)``."""

from __future__ import annotations

import html

import shiboken6
from PySide6.QtCore import QDateTime, QSettings, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError, ValidationError
from app.i18n import tr
from app.ledgers.choices import INSPECTION_KIND
from app.models import Inspection
from app.services import entry, inspection_view, signatures
from app.services.inspection_view import EntryData, Outcome, Subject

from .context import AppContext
from .dialogs import show_error
from .inspection_widgets import EvidenceBox, ItemsTable, LabelCheck, SampleBox
from .workflow_kit import GREEN, RED, ErrorLabel, IdCombo, action_button, datetime_edit, label_of, moment

# The slip's fields each kind shows, in order (G§35–40).
SLIP = {
    "incoming": ("sample_base", "sampling_method", "sample_quantity"),
    "in_process": ("process_step", "sampling_method", "sample_quantity"),
    "water": ("sampling_place", "sampling_method", "sample_quantity"),
    "semi_finished": ("sample_base", "sampling_method", "sample_quantity"),
    "finished": ("sample_base", "sampling_method", "sample_quantity"),
    "release": ("sample_base", "sampling_method", "sample_quantity"),
}
TEXT_FIELDS = ("sampling_place", "sample_base", "sampling_method", "sample_quantity", "process_step", "paper_ref",
               "remarks")
SUBJECT_FIELD = {"incoming": "receipt_id", "release": "commodity_batch_id", "water": "material_id"}
DEFAULT_SIZE = QSize(1000, 900)


def subject_label(kind: str) -> str:
    return label_of("inspection", SUBJECT_FIELD.get(kind, "batch_id"))


class InspectionDialog(QDialog):
    saved = Signal(int)  # the report's id, once its outcome is shown
    failed = Signal(str)  # a refused save: the message shown
    subject_loaded = Signal()
    _windows: set = set()  # non-modal windows and the archive browsers they open live here

    @classmethod
    def open(cls, ctx: AppContext, kind: str | None = None, *, batch_id: int | None = None,
             commodity_id: int | None = None, receipt_id: int | None = None,
             parent: QWidget | None = None) -> InspectionDialog:
        dialog = cls(ctx, kind, batch_id=batch_id, commodity_id=commodity_id, receipt_id=receipt_id, parent=parent)
        cls._keep(dialog)
        dialog.show()
        return dialog

    @classmethod
    def _keep(cls, window: QWidget) -> None:
        cls._windows.add(window)
        window.destroyed.connect(lambda *_args: cls._windows.discard(window))

    def __init__(self, ctx: AppContext, kind: str | None = None, *, batch_id: int | None = None,
                 commodity_id: int | None = None, receipt_id: int | None = None, parent: QWidget | None = None):
        with ctx.read() as session:  # a few hundred rows: the lists of the window
            self.data: EntryData = inspection_view.entry_data(session, ctx.user_id, batch_id=batch_id,
                                                              commodity_id=commodity_id, receipt_id=receipt_id)
        super().__init__(parent)
        self.ctx = ctx
        self.subject: Subject | None = None
        self.outcome: Outcome | None = None
        self._wanted = {"incoming": receipt_id, "release": commodity_id, **dict.fromkeys(
            ("in_process", "semi_finished", "finished"), batch_id)}
        self._loads = 0
        self._saving = False
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("inspectionDialog")
        self.setWindowTitle(tr("Inspection entry"))
        kinds = self._kinds(kind, batch_id, commodity_id, receipt_id)

        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        for code in kinds:
            self.kind.addItem(INSPECTION_KIND[code], code)
        self.kind.currentIndexChanged.connect(self._kind_chosen)
        self.subject_caption = QLabel("")
        self.subject_combo = IdCombo()
        self.subject_combo.setObjectName("subject")
        self.subject_combo.setMinimumWidth(380)
        self.subject_combo.activated.connect(lambda _i: self._load_subject())
        self.facts = QLabel("")
        self.facts.setObjectName("facts")
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        # A wrapped label's size hint is measured at a narrow width (too tall): measure it at a form's width.
        self.facts.setMinimumWidth(640)
        self.hold = QLabel("")
        self.hold.setObjectName("holdNote")
        self.hold.setWordWrap(True)
        self.hold.setStyleSheet(f"color: {RED.name()}; font-weight: bold;")
        self.hold.hide()

        self.slip = QGroupBox(tr("Sampling slip"))
        slip = QFormLayout(self.slip)
        slip.addRow(tr("Inspection kind"), self.kind)
        slip.addRow(self.subject_caption, self.subject_combo)
        slip.addRow("", self.facts)
        self.spec = QComboBox()
        self.spec.setEditable(True)
        self.spec.setObjectName("spec")
        slip.addRow(label_of("inspection", "spec"), self.spec)
        self.sampled_at = datetime_edit()
        self.sampled_at.setDateTime(QDateTime(self.data.now))
        slip.addRow(label_of("inspection", "sampled_at"), self.sampled_at)
        self.fields: dict[str, QLineEdit] = {}
        self._rows: dict[str, tuple[QLabel, QLineEdit]] = {}
        for name in TEXT_FIELDS[:5]:
            edit = QLineEdit()
            edit.setObjectName(name)
            caption = QLabel(label_of("inspection", name))
            slip.addRow(caption, edit)
            self.fields[name] = edit
            self._rows[name] = (caption, edit)
        self.inspector = IdCombo()
        self.inspector.setObjectName("inspector")
        self.reviewer = IdCombo()
        self.reviewer.setObjectName("reviewer")
        self.inspector.currentIndexChanged.connect(self._check_people)
        self.reviewer.currentIndexChanged.connect(self._check_people)
        self.people_error = ErrorLabel()
        people = QHBoxLayout()
        people.addWidget(self.inspector)
        people.addWidget(QLabel(label_of("inspection", "reviewer_id")))
        people.addWidget(self.reviewer)
        people.addStretch(1)
        slip.addRow(label_of("inspection", "inspector_id"), people)
        slip.addRow("", self.people_error)

        self.items = ItemsTable()
        self.no_standard = QLabel("")
        self.no_standard.setWordWrap(True)
        self.no_standard.setStyleSheet("color: #8a5a00;")
        self.conclusion = QLabel("")
        self.conclusion.setObjectName("conclusion")
        self.items.changed.connect(self._show_conclusion)
        items_box = QGroupBox(tr("Test items"))
        items_layout = QVBoxLayout(items_box)
        items_layout.addWidget(self.no_standard)
        items_layout.addWidget(self.items, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(action_button(tr("Add item"), lambda: self.items.add_item()))
        buttons.addWidget(action_button(tr("Remove item"), self.items.remove_selected))
        buttons.addStretch(1)
        buttons.addWidget(self.conclusion)
        items_layout.addLayout(buttons)

        self.evidence = EvidenceBox()
        self.label_check = LabelCheck()
        self.sample_box = SampleBox()
        self.fields["paper_ref"] = QLineEdit()
        self.fields["remarks"] = QLineEdit()
        extra = QFormLayout()
        extra.addRow(label_of("inspection", "paper_ref"), self.fields["paper_ref"])
        extra.addRow(label_of("inspection", "remarks"), self.fields["remarks"])

        self.content = QWidget()
        content = QVBoxLayout(self.content)
        content.addWidget(self.hold)
        content.addWidget(self.slip)
        content.addWidget(items_box, 1)
        content.addWidget(self.evidence)
        content.addWidget(self.label_check)
        content.addWidget(self.sample_box)
        content.addLayout(extra)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.content)

        self.error = ErrorLabel()
        self.error.setObjectName("error")
        self.result = QLabel("")
        self.result.setObjectName("result")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.result.hide()
        self.signature_state = QLabel("")
        self.signature_state.setObjectName("signatureState")
        self.save_button = QPushButton(tr("Save inspection report"))
        self.save_button.setObjectName("save")
        self.save_button.clicked.connect(self.save)
        self.sign_button = QPushButton(tr("Sign…"))
        self.sign_button.clicked.connect(self.open_sign_dialog)
        self.report_button = QPushButton(tr("Open the report"))
        self.report_button.clicked.connect(self.open_report)
        self.archive_button = QPushButton(tr("Open the warning archive"))
        self.archive_button.setObjectName("warningArchive")
        self.archive_button.clicked.connect(self.open_warning_archive)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.close)
        for button in (self.sign_button, self.report_button, self.archive_button):
            button.hide()
        for button in (self.save_button, self.sign_button, self.report_button, self.archive_button, close):
            button.setAutoDefault(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.signature_state, 1)
        for button in (self.archive_button, self.report_button, self.sign_button, self.save_button, close):
            bottom.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.result)
        layout.addLayout(bottom)
        ctx.offer(self.save_button, "enter", "inspection")
        if not ctx.may("enter", "inspection"):
            self.error.show_message(tr("Your role may read inspections but not enter them."))
        self._restore_geometry()
        self._kind_chosen()

    @staticmethod
    def _kinds(kind, batch_id, commodity_id, receipt_id) -> list[str]:
        """The kinds the window offers: those that fit what it was opened for."""
        if commodity_id is not None:
            return ["release"]
        if receipt_id is not None:
            return ["incoming"]
        if batch_id is not None:
            offered = ["in_process", "semi_finished", "finished"]
        else:
            offered = list(INSPECTION_KIND)
        if kind in offered:  # the one asked for first
            offered.remove(kind)
            offered.insert(0, kind)
        return offered

    # ------------------------------------------------------------- the subject

    @property
    def kind_code(self) -> str:
        return self.kind.currentData()

    def choose_kind(self, kind: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))

    def _kind_chosen(self, _index: int = 0) -> None:
        kind = self.kind_code
        self.subject_caption.setText(subject_label(kind))
        if kind == "incoming":
            rows = list(self.data.receipts)
        elif kind == "release":
            rows = list(self.data.commodities)
        elif kind == "water":
            rows = [(None, tr("(production water in general)")), *self.data.waters]
        else:
            rows = [(b.id, b.text) for b in self.data.batches if b.fits(kind) or b.id == self._wanted.get(kind)]
        wanted = self._wanted.get(kind)
        self.subject_combo.set_rows(rows, preferred=wanted)
        if kind == "water" and self.data.waters and wanted is None:
            self.subject_combo.select_id(self.data.waters[0][0])
        shown = SLIP[kind]
        for name, (caption, edit) in self._rows.items():
            caption.setVisible(name in shown)
            edit.setVisible(name in shown)
        with_spec = kind not in ("water", "in_process")  # G§36, G§37 ask for none
        self.spec.setVisible(with_spec)
        self.slip.layout().labelForField(self.spec).setVisible(with_spec)
        self.evidence.setVisible(kind == "in_process")
        self.label_check.setVisible(kind == "release")
        self._choose_people()
        self._load_subject()

    def choose_subject(self, key: int | None) -> None:
        """Sample this receipt, batch, commodity batch or water (``subject_loaded`` follows)."""
        self.subject_combo.select_id(key)
        self._load_subject()

    def _load_subject(self) -> None:
        kind, key = self.kind_code, self.subject_combo.current_id()
        self._loads += 1
        number = self._loads
        if key is None and kind != "water":
            self._show_subject(number, None)
            return

        def task(_progress):
            with self.ctx.read() as session:
                return inspection_view.subject(session, kind, key)

        self.ctx.runner.run(task, lambda found: self._show_subject(number, found),
                            lambda error: shiboken6.isValid(self) and show_error(self, error))

    def _show_subject(self, number: int, found: Subject | None) -> None:
        if not shiboken6.isValid(self) or number != self._loads:
            return  # the user chose something else meanwhile
        self.subject = found
        if found is None:
            self.facts.setText(tr("Nothing to sample for this kind yet."))
            self.items.set_standards(())
            self.subject_loaded.emit()
            return
        facts = "　".join(f"{html.escape(k)}：<b>{html.escape(v)}</b>" for k, v in found.facts if v)
        if found.earlier:
            facts += "<br><span style='color:#6b6b6b'>" + tr("Earlier reports: {reports}",
                                                             reports="；".join(found.earlier)) + "</span>"
        self.facts.setText(facts)
        self.hold.setText(found.hold or "")
        self.hold.setVisible(bool(found.hold))
        self.spec.clear()
        self.spec.addItems(list(found.specs))
        self.spec.setCurrentText(found.spec or "")
        self.items.set_standards(found.standards)
        self.no_standard.setText("" if found.standards else tr(
            "No test items are set for this yet (基础数据 → 检验项目标准): add the items below; each is judged by "
            "the inspector."))
        self.no_standard.setVisible(not found.standards)
        if found.label is not None:
            self.label_check.set_rules(found.label)
        self.sample_box.show_defaults(found.sample, found.samples, self.data.people, self.inspector.current_id())
        self.subject_loaded.emit()

    def _choose_people(self) -> None:
        people = self.data.people
        self.inspector.set_people(people, posts=("inspection", "quality"))
        if self.data.me is not None:
            self.inspector.select_id(self.data.me)
        inspector = self.inspector.current_id()
        others = [p for p in people if p.id != inspector]
        preferred = next((p.id for p in others if p.post == "quality"), None) or next((p.id for p in others), None)
        self.reviewer.set_rows([(p.id, p.text) for p in people], preferred)
        self._check_people()

    def _check_people(self, _index: int = 0) -> None:
        same = self.inspector.current_id() is not None and self.inspector.current_id() == self.reviewer.current_id()
        self.people_error.show_message(tr("The reviewer must be someone other than the inspector.") if same else "")

    def _show_conclusion(self) -> None:
        verdict = self.items.conclusion()
        if verdict is None:
            self.conclusion.setText(tr("Conclusion: not yet"))
            self.conclusion.setStyleSheet("")
            return
        passed = verdict == "pass"
        self.conclusion.setText(tr("Conclusion: {verdict}", verdict=tr("conforms") if passed else tr("does not conform")))
        self.conclusion.setStyleSheet(f"color: {(GREEN if passed else RED).name()}; font-weight: bold;")

    # ------------------------------------------------------------- saving

    def values(self) -> dict:
        """What the window holds, as ``entry.save_new`` takes it."""
        kind = self.kind_code
        key = self.subject_combo.current_id()
        values: dict[str, object] = {"kind": kind, SUBJECT_FIELD.get(kind, "batch_id"): key,
                                     "sampled_at": moment(self.sampled_at), "inspector_id": self.inspector.current_id(),
                                     "reviewer_id": self.reviewer.current_id(),
                                     "items": self.items.rows(), "sample": self.sample_box.values()}
        if self.spec.isVisibleTo(self):
            values["spec"] = self.spec.currentText().strip() or None
        for name in SLIP[kind] + ("paper_ref", "remarks"):
            values[name] = self.fields[name].text().strip() or None
        if kind == "in_process":
            values["control_measures"] = self.evidence.measures.text().strip() or None
            values["proficiency_evidence"] = self.evidence.evidence()
        if kind == "release":
            values["label_check_passed"], values["label_check_notes"] = self.label_check.result()
        return values

    def save(self) -> None:
        if self._saving or self.outcome is not None:
            return
        self.error.clear_message()
        if self.people_error.text() and self.people_error.isVisible():
            self._refuse(self.people_error.text())
            return
        if self.subject is None and self.kind_code != "water":
            self._refuse(tr("Choose what was sampled first."))
            return
        waiting = self.items.open_items()
        if waiting:
            self._refuse(tr("Still to fill in or judge: {items}", items="、".join(waiting)))
            return
        values = self.values()
        self._saving = True
        self.save_button.setEnabled(False)
        self.save_button.setText(tr("Saving…"))
        write = self.ctx.write(lambda session: entry.save_new(session, "inspection", values))

        def task(progress):
            report_id = write(progress)
            with self.ctx.read() as session:
                return inspection_view.outcome(session, report_id)

        self.ctx.runner.run(task, self._saved, self._save_failed)

    def _refuse(self, message: str) -> None:
        self.error.show_message(message)
        self.failed.emit(message)

    def _save_failed(self, error: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving = False
        self.save_button.setEnabled(True)
        self.save_button.setText(tr("Save inspection report"))
        if isinstance(error, ValidationError):
            self._refuse("\n".join(e.message for e in error.errors))
        elif isinstance(error, UserError):
            self._refuse(error.message)
        else:
            show_error(self, error)

    def _saved(self, outcome: Outcome) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving = False
        self.outcome = outcome
        self.content.setEnabled(False)  # the report is submitted: it changes by amendment only
        self.save_button.hide()
        self.setWindowTitle(tr("Inspection report {number}", number=outcome.report_no))
        self.result.setText(self._result_text(outcome))
        self.result.show()
        self.sign_button.show()
        self.sign_button.setEnabled(self.ctx.may("sign"))
        self.report_button.show()
        self.archive_button.setVisible(outcome.warning_archive_id is not None)
        self.refresh_signatures()
        self.saved.emit(outcome.id)

    @staticmethod
    def _result_text(outcome: Outcome) -> str:
        kind = INSPECTION_KIND.get(outcome.kind, outcome.kind)
        if outcome.passed:
            return (f"<span style='color:{GREEN.name()}; font-size:13pt'><b>✓ "
                    + tr("{kind} report {number} saved: conforms.", kind=kind, number=outcome.report_no) + "</b></span>")
        lines = [f"<span style='color:{RED.name()}; font-size:13pt'><b>✗ "
                 + tr("{kind} report {number} saved: does not conform.", kind=kind, number=outcome.report_no)
                 + "</b></span>"]
        lines += [f"<span style='color:{RED.name()}'>{html.escape(text)}</span>" for text in outcome.failed]
        if outcome.hold:
            lines.append(f"<b style='color:{RED.name()}'>" + html.escape(outcome.hold) + "</b>")
            lines.append(tr("It may not be fed into another batch, packed or released. Dispose of it as a nonconforming "
                            "product (recall, destruction) and record that in its warning archive."))
        if outcome.lot_stopped:
            lines.append(f"<b style='color:{RED.name()}'>" + html.escape(outcome.lot_stopped) + "</b>")
        if outcome.kind == "in_process":
            lines.append(tr("The control target was missed: record the corrective action or rework on the batch "
                            "workbench."))
        return "<br>".join(lines)

    # ------------------------------------------------------------- after saving

    def refresh_signatures(self) -> None:
        if self.outcome is None:
            return
        with self.ctx.read() as session:
            lines = signatures.lines(session, Inspection, self.outcome.id)
        parts = []
        for line in lines:
            state = tr("Missing") if line.valid is None else (tr("Valid") if line.valid else tr("Invalid"))
            parts.append(f"{line.meaning}：{line.printed_name or '—'} {state}")
        self.signature_state.setText(tr("Signatures") + "：" + "　".join(parts))

    def open_sign_dialog(self):
        from .sign_dialog import SignDialog

        dialog = SignDialog.open(self.ctx, "inspection", self.outcome.id, self)
        if dialog is not None:
            dialog.signed.connect(lambda _signature_id: self.refresh_signatures())
        return dialog

    def open_report(self):
        from .record_dialog import RecordDialog

        return RecordDialog.open(self.ctx, "inspection", self.outcome.id, parent=self.parentWidget())

    def open_warning_archive(self):
        """The held batch's warning archive, in an archive browser of its own."""
        from .archive_browser import ArchiveBrowser

        browser = ArchiveBrowser(self.ctx)
        browser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        browser.setWindowTitle(tr("Warning archive of batch {batch}", batch=self.outcome.batch_no))
        browser.resize(1200, 700)
        archive_id = self.outcome.warning_archive_id
        browser.filter.setText(self.outcome.batch_no)  # the batch and its archives, in the tree
        browser.tree_loaded.connect(lambda: browser.select_archive(archive_id))
        browser.reload()
        browser.select_archive(archive_id)
        self._keep(browser)
        browser.show()
        return browser

    # ------------------------------------------------------------- geometry

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("inspection_dialog/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)

    def done(self, result: int) -> None:
        if self._saving:
            return  # the report is being written; its result needs this window
        QSettings().setValue("inspection_dialog/geometry", self.saveGeometry())
        super().done(result)
