"""Batch workbench (R2.3): one product batch on one screen — feeding, CCP
readings with their deviations, process records, completion.

Every write goes through ``ctx.runner``; a refused write shows the service's
Chinese message next to its action and changes nothing. The public methods
(``select_batch``, ``start_batch``, ``feed``, ``record_ccp``, ``correct``,
``ask_correction``, ``add_sterilisation``, ``add_cleaning``, ``complete``)
return as soon as the work is scheduled; ``changed`` follows each successful
write once the screen shows its result."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QLineEdit, QPushButton, QTabWidget, QVBoxLayout

from app import clock
from app.errors import UserError
from app.i18n import tr
from app.models import CCPReading, CriticalControlPoint, MaterialLot, ProductBatch
from app.services import batch_view, production
from app.services.common import now

from .batch_quality import QualitySection
from .batch_sections import CCPSection, CompletionSection, FeedingSection, RecordsSection
from .context import AppContext
from .dialogs import Dialogs
from .workflow_kit import ErrorLabel, IdCombo, WorkflowScreen, action_button, date_edit, label_of, row


class BatchWorkbench(WorkflowScreen):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, parent)
        self.data: batch_view.WorkbenchData | None = None
        self.batch_id: int | None = None
        self._wanted: int | str | None = None

        self.batch = IdCombo()
        self.batch.setMinimumWidth(360)
        self.batch.activated.connect(lambda _i: self._choose(self.batch.current_id()))
        self.new_button = QPushButton(tr("New batch…"))
        self.new_button.setCheckable(True)
        self.new_button.toggled.connect(self._toggle_new)
        refresh = action_button(tr("Reload"), self.reload)
        self.new_panel = self._build_new_panel()
        self.header = QLabel(tr("Choose a batch above or start a new one."))
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)

        self.feeding = FeedingSection(self)
        self.ccp = CCPSection(self)
        self.records = RecordsSection(self)
        self.completion = CompletionSection(self)
        self.quality = QualitySection(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.feeding, tr("Feeding materials"))
        self.tabs.addTab(self.ccp, tr("CCP readings"))
        self.tabs.addTab(self.records, tr("Processing records"))
        self.tabs.addTab(self.completion, tr("Batch completion"))
        self.tabs.addTab(self.quality, tr("Inspections and retained samples"))
        self.tabs.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addLayout(row(label_of("product_batch", "batch_no"), self.batch, self.new_button, refresh))
        layout.addWidget(self.new_panel)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)
        for widget, action, key in (
            (self.new_button, "enter", "product_batch"),
            (self.feeding.button, "enter", "feeding"),
            (self.ccp.button, "enter", "ccp_reading"),
            (self.ccp.correct_button, "enter", "ccp_reading"),
            (self.records.steril_button, "enter", "sterilisation_record"),
            (self.records.clean_button, "enter", "cleaning_record"),
            (self.completion.button, "enter", "product_batch"),
        ):
            ctx.offer(widget, action, key)
        self.reload()

    def _build_new_panel(self) -> QGroupBox:
        self.new_product = IdCombo()
        self.new_date = date_edit()
        self.new_line = IdCombo()
        self.new_team = QLineEdit()
        self.new_team.setMaximumWidth(120)
        self.new_operator = IdCombo()
        self.new_error = ErrorLabel()
        panel = QGroupBox(tr("Start a new batch"))
        layout = QVBoxLayout(panel)
        layout.addLayout(row(
            label_of("product_batch", "product_id"), self.new_product,
            label_of("product_batch", "production_date"), self.new_date,
            label_of("product_batch", "line_id"), self.new_line,
            label_of("product_batch", "team"), self.new_team,
            label_of("product_batch", "operator_id"), self.new_operator,
            action_button(tr("Start production"), self._start_from_panel),
        ))
        layout.addWidget(self.new_error)
        panel.hide()
        return panel

    # ------------------------------------------------------------- loading

    def current_key(self):
        return (self._wanted, self.feeding.show_all.isChecked())

    def load_snapshot(self, session, key):
        wanted, show_all = key
        return batch_view.load(session, batch_view.batch_to_show(session, wanted), show_all)

    def show_snapshot(self, data: batch_view.WorkbenchData) -> None:
        self.data = data
        detail = data.detail
        self.batch_id = detail.id if detail else None
        self._wanted = self.batch_id
        rows = list(data.batches)
        if detail and all(row_id != detail.id for row_id, _ in rows):
            rows.append((detail.id, f"{detail.batch_no} · {detail.product} · {detail.status_label}"))
        self.batch.set_rows(rows)
        if detail is None:
            self.batch.setCurrentIndex(-1)
        else:
            self.batch.select_id(detail.id)
        self.new_product.set_rows(data.products)
        self.new_line.set_rows(data.lines)
        self.new_operator.set_people(data.people, posts=("production",))
        self.tabs.setEnabled(detail is not None)
        if detail is None:
            self.header.setText(tr("Choose a batch above or start a new one."))
            return
        self.header.setText(self._header(detail))
        for section in (self.feeding, self.ccp, self.records, self.completion, self.quality):
            section.show_detail(detail, data)

    def _header(self, d: batch_view.BatchDetail) -> str:
        colour = "#1b6e20" if d.status == "completed" else ("#8a5a00" if d.is_open else "#b3261e")
        parts = [
            f"<b style='font-size:14pt'>{d.batch_no}</b>　{d.product}（{d.product_kind}）",
            f"<span style='color:{colour}'><b>{d.status_label}</b></span>",
            f"{label_of('product_batch', 'production_date')} {d.production_date}",
        ]
        if d.line:
            parts.append(f"{label_of('product_batch', 'line_id')} {d.line}")
        if d.team:
            parts.append(f"{label_of('product_batch', 'team')} {d.team}")
        text = "　·　".join(parts)
        if d.hold:
            text += f"<br><span style='color:#b3261e'><b>{html.escape(d.hold)}</b></span>"
        if d.open_deviations:
            text += "<br><span style='color:#b3261e'><b>" + tr(
                "{count} CCP deviation(s) without corrective action: release is blocked.", count=d.open_deviations
            ) + "</b></span>"
        return text

    def _choose(self, batch_id: int | None) -> None:
        if batch_id is not None and batch_id != self.batch_id:
            self._wanted = batch_id
            self.reload()

    def _toggle_new(self, on: bool) -> None:
        self.new_panel.setVisible(on)
        self.new_error.clear_message()

    # ------------------------------------------------------- test-facing API

    def select_batch(self, batch_no: str) -> None:
        """Show the batch with this number (``loaded`` follows)."""
        self._wanted = batch_no
        self.reload()

    def start_batch(self, product: str, production_date: dt.date | None = None, *, line: str | None = None,
                    team: str | None = None, operator: str | None = None) -> None:
        """Start a batch of ``product`` (name or its code as listed) and show it."""
        product_id = self.new_product.id_for_text(product)
        if product_id is None:
            self.new_error.show_message(tr("No product named {name}", name=product))
            return
        self._start(product_id, production_date or clock.today(),
                    self.new_line.id_for_text(line) if line else self.new_line.current_id(),
                    team, self.new_operator.id_for_text(operator) if operator else self.new_operator.current_id())

    def _start_from_panel(self) -> None:
        self._start(self.new_product.current_id(), self.new_date.date().toPython(), self.new_line.current_id(),
                    self.new_team.text().strip() or None, self.new_operator.current_id())

    def _start(self, product_id, production_date, line_id, team, operator_id) -> None:
        values = {"product_id": product_id, "production_date": production_date, "line_id": line_id, "team": team,
                  "operator_id": operator_id}
        show_all = self.feeding.show_all.isChecked()

        def write(session):
            values["started_at"] = now(session)
            return production.start_batch(session, values).id

        self.submit(write, self.new_error, next_key=lambda new_id: (new_id, show_all),
                    on_success=lambda: self.new_button.setChecked(False))

    def _shown_batch(self, error: ErrorLabel) -> int | None:
        if self.batch_id is None:
            error.show_message(tr("Choose a batch above or start a new one."))
        return self.batch_id

    def feed(self, number: str, quantity, *, operator_id: int | None = None, method: str | None = None,
             fed_at: dt.datetime | None = None, handed_over_by: int | None = None) -> None:
        """Feed ``quantity`` of a material lot or a completed batch (by its number) into this batch,
        at the time the paper record gives (now when none)."""
        batch_id, operator_id = self._shown_batch(self.feeding.error), operator_id or self.feeding.operator.current_id()
        if batch_id is None:
            return

        def write(session):
            batch = session.get(ProductBatch, batch_id)
            source = batch_view.feed_source(session, number)
            if isinstance(source, MaterialLot):
                production.feed_lot(session, batch, source, quantity, operator_id=operator_id, method=method,
                                    fed_at=fed_at, handed_over_by=handed_over_by)
                return
            production.feed_batch(session, batch, source, quantity, operator_id=operator_id, method=method,
                                  fed_at=fed_at)

        self.submit(write, self.feeding.error)

    def record_ccp(self, ccp_name: str, value, *, operator_id: int | None = None) -> None:
        batch_id, operator_id = self._shown_batch(self.ccp.error), operator_id or self.ccp.operator.current_id()
        if batch_id is None:
            return
        ccp_id = next((c.id for c in self.data.detail.ccps if c.name == ccp_name), None) if self.data else None

        def write(session):
            batch = session.get(ProductBatch, batch_id)
            ccp = session.get(CriticalControlPoint, ccp_id) if ccp_id else None
            if ccp is None:
                raise UserError(tr("The product has no critical control point named {name}", name=ccp_name))
            production.record_ccp(session, batch, ccp, value, operator_id=operator_id)

        self.submit(write, self.ccp.error)

    def ask_correction(self, reading_id: int) -> None:
        """Ask for the corrective action (G§20), then record it."""
        text = Dialogs.ask_text(self, tr("Correct deviation"), tr("Corrective action taken (what was done with the "
                                                                  "product and the cause):"))
        if text is not None:
            self.correct(reading_id, text)

    def correct(self, reading_id: int, text: str, *, by: int | None = None) -> None:
        by = by or self.ccp.corrector.current_id()

        def write(session):
            production.correct_deviation(session, session.get(CCPReading, reading_id), text, by=by)

        self.submit(write, self.ccp.correct_error)

    def add_sterilisation(self, method: str, parameter, duration_seconds: int, *, started_at: dt.datetime | None = None,
                          operator_id: int | None = None) -> None:
        name, _label = production.STERILISATION_PARAMETER.get(method, ("temperature_c", ""))
        values = {"method": method, name: parameter, "duration_seconds": duration_seconds,
                  "operator_id": operator_id or self.records.steril_operator.current_id()}
        self._add_record("sterilisation_record", values, "started_at", started_at, self.records.steril_error)

    def add_cleaning(self, area: str, checks: str, validation: str, *, agents: str | None = None,
                     line_id: int | None = None, cleaned_at: dt.datetime | None = None,
                     operator_id: int | None = None) -> None:
        values = {"area": area, "checks": checks, "validation": validation, "agents": agents or None,
                  "line_id": line_id or self.records.line.current_id(),
                  "operator_id": operator_id or self.records.clean_operator.current_id()}
        self._add_record("cleaning_record", values, "cleaned_at", cleaned_at, self.records.clean_error)

    def _add_record(self, key: str, values: dict, at_field: str, at, error: ErrorLabel) -> None:
        batch_id = self._shown_batch(error)
        if batch_id is None:
            return

        def write(session):
            values[at_field] = at or now(session)
            production.add_record(session, key, session.get(ProductBatch, batch_id), values)

        self.submit(write, error)

    def complete(self, output, loss=None) -> None:
        batch_id = self._shown_batch(self.completion.error)
        if batch_id is None:
            return

        def write(session):
            production.complete_batch(session, session.get(ProductBatch, batch_id), output, loss or 0)

        self.submit(write, self.completion.error)
