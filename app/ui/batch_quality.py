"""The inspections and retained samples of the batch on the workbench, and
the way into the inspection window for it: an in-process control check while
the batch is in production (G§36), the semi-finished or finished inspection
once it is completed (G§38, G§39)."""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from app.i18n import tr
from app.ledgers.choices import PRODUCT_KIND
from app.services.batch_view import BatchDetail, WorkbenchData

from .workflow_kit import RED, RED_BG, action_button, fill_table, label_of, make_table, row, selected_key


class QualitySection(QWidget):
    def __init__(self, bench):
        super().__init__()
        self.bench = bench
        self.hold = QLabel("")
        self.hold.setObjectName("holdNote")
        self.hold.setWordWrap(True)
        self.hold.setStyleSheet(f"color: {RED.name()}; font-weight: bold;")
        self.hold.hide()
        self.in_process_button = action_button(tr("In-process control check…"),
                                               lambda: self.open_inspection("in_process"))
        self.product_button = action_button("", lambda: self.open_inspection(self._product_kind))
        self.reports = make_table([label_of("inspection", "report_no"), label_of("inspection", "kind"),
                                   label_of("inspection", "sampled_at"), label_of("inspection", "conclusion"),
                                   label_of("inspection", "inspector_id")], stretch=1)
        self.reports.itemDoubleClicked.connect(lambda _item: self.open_report())
        self.samples = make_table([label_of("retained_sample", name) for name in
                                   ("kept_on", "name", "spec", "quantity", "location", "disposal_date")], stretch=4)
        reports = QGroupBox(tr("Inspection reports of this batch (double-click to open)"))
        reports_layout = QVBoxLayout(reports)
        reports_layout.addLayout(row(self.in_process_button, self.product_button))
        reports_layout.addWidget(self.reports)
        samples = QGroupBox(tr("Retained samples of this batch"))
        QVBoxLayout(samples).addWidget(self.samples)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hold)
        layout.addWidget(reports, 3)
        layout.addWidget(samples, 2)
        self._product_kind = "finished"
        self._batch: int | None = None
        for button in (self.in_process_button, self.product_button):
            bench.ctx.offer(button, "enter", "inspection")

    def show_detail(self, detail: BatchDetail, data: WorkbenchData) -> None:
        self._batch = detail.id
        finished = detail.product_kind == PRODUCT_KIND["finished"]
        self._product_kind = "finished" if finished else "semi_finished"
        self.product_button.setText(tr("Finished product inspection…") if finished
                                    else tr("Semi-finished product inspection…"))
        self.in_process_button.setEnabled(detail.is_open)
        self.product_button.setEnabled(not detail.is_open)
        self.product_button.setToolTip("" if not detail.is_open else tr("Inspected once the batch is completed."))
        self.hold.setText(detail.hold or "")
        self.hold.setVisible(bool(detail.hold))
        fill_table(
            self.reports,
            [[r.report_no, r.kind, r.sampled_at.strftime("%Y-%m-%d %H:%M"), r.conclusion, r.inspector]
             for r in detail.inspections],
            keys=[r.id for r in detail.inspections],
            backgrounds=[None if r.passed else RED_BG for r in detail.inspections],
            foregrounds=[None if r.passed else RED for r in detail.inspections],
        )
        fill_table(self.samples, [[str(s.kept_on), s.name, s.spec, s.quantity, s.location, str(s.disposal_date)]
                                  for s in detail.samples])

    def open_inspection(self, kind: str):
        """The inspection window for this batch; the workbench shows the report once saved."""
        from .inspection_screen import InspectionDialog

        dialog = InspectionDialog.open(self.bench.ctx, kind, batch_id=self._batch, parent=self.bench)
        dialog.saved.connect(lambda _report_id: shiboken6.isValid(self.bench) and self.bench.reload())
        return dialog

    def open_report(self):
        from .record_dialog import RecordDialog

        report = selected_key(self.reports)
        return RecordDialog.open(self.bench.ctx, "inspection", report, parent=self.bench) if report else None
