"""The entry panels of the release desk: packing a commodity batch (G§4(2)),
the release inspection with its label check (G§40) and the delivery to a
customer (R2.7). Each collects what the user entered and hands it to the
desk's methods, the same ones tests call."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QCompleter,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.i18n import lazy, tr
from app.services.release_view import CommodityDetail, DeskData

from .inspection_widgets import ItemsTable, LabelCheck
from .workflow_kit import (
    ErrorLabel,
    IdCombo,
    action_button,
    date_edit,
    datetime_edit,
    fill_table,
    fmt_qty,
    label_of,
    make_table,
    moment,
    row,
    selected_key,
)

# Release checks most factories make on every lot (G§40), offered when the
# product has no release items in its standard yet; the user edits them.
DEFAULT_ITEMS = (
    (lazy("Release check: sensory"), lazy("As the product standard requires")),
    (lazy("Release check: net content"), lazy("JJF 1070: average not below the declared content")),
    (lazy("Release check: packaging and seal"), lazy("No leaks or swelling, seal intact")),
)


class PackPanel(QGroupBox):
    def __init__(self, desk):
        super().__init__(tr("Pack a commodity batch"))
        self.desk = desk
        self.batch = IdCombo()
        self.batch.currentIndexChanged.connect(self._batch_chosen)
        self.spec = IdCombo()
        self.spec.currentIndexChanged.connect(self._spec_chosen)
        self.units = QSpinBox()
        self.units.setRange(1, 10_000_000)
        self.units.valueChanged.connect(self._update_need)
        self.need = QLabel("")
        self.packed_from = datetime_edit()
        self.packed_to = datetime_edit()
        self.team = QLineEdit()
        self.operator = IdCombo()
        self.label_checked = QCheckBox(label_of("commodity_batch", "label_checked"))
        self.button = action_button(tr("Pack the batch"), self._pack)
        self.error = ErrorLabel()
        form = QFormLayout(self)
        form.addRow(label_of("commodity_batch", "product_batch_id"), self.batch)
        form.addRow(label_of("commodity_batch", "spec_id"), self.spec)
        form.addRow(label_of("commodity_batch", "units"), row(self.units, self.need))
        form.addRow(label_of("commodity_batch", "packed_from"), self.packed_from)
        form.addRow(label_of("commodity_batch", "packed_to"), self.packed_to)
        form.addRow(label_of("commodity_batch", "team"), self.team)
        form.addRow(label_of("commodity_batch", "operator_id"), self.operator)
        form.addRow("", self.label_checked)
        form.addRow("", self.button)
        form.addRow(self.error)
        self._packable = {}

    def show_data(self, data: DeskData) -> None:
        self._packable = {p.id: p for p in data.packable}
        self.batch.set_rows([
            (p.id, tr("{batch} {product} (stock {stock} {unit})", batch=p.batch_no, product=p.product,
                      stock=fmt_qty(p.stock), unit=p.unit))
            for p in data.packable
        ])
        self.operator.set_people(data.people, posts=("production",))
        for widget in (self.spec, self.units, self.button):
            widget.setEnabled(bool(data.packable))
        self.packed_to.setDateTime(QDateTime.currentDateTime())  # the last hour, until the user says otherwise
        self.packed_from.setDateTime(QDateTime.currentDateTime().addSecs(-3600))

    def _chosen(self):
        """The chosen batch, and the name and net content of the chosen spec."""
        batch = self._packable.get(self.batch.current_id())
        spec = next(((name, net) for s, name, net in batch.specs if s == self.spec.current_id()), (None, None)) \
            if batch else (None, None)
        return batch, *spec

    def _batch_chosen(self, _index: int = 0) -> None:
        batch = self._packable.get(self.batch.current_id())
        self.spec.set_rows([
            (s, tr("{spec} ({net} {unit} per pack)", spec=name, net=fmt_qty(net), unit=batch.unit))
            for s, name, net in batch.specs
        ] if batch else [])

    def _spec_chosen(self, _index: int = 0) -> None:
        """Offer as many packs as the batch's stock allows."""
        batch, _name, net = self._chosen()
        if net:
            self.units.setValue(max(1, int(batch.stock / net)))
        self._update_need()

    def _update_need(self, _value=0) -> None:
        batch, _name, net = self._chosen()
        if net is None:
            self.need.setText("")
            return
        needed = net * self.units.value()
        self.need.setText(tr("needs {needed} {unit} of {stock} {unit}", needed=fmt_qty(needed), unit=batch.unit,
                             stock=fmt_qty(batch.stock)))
        self.need.setStyleSheet("color: #b3261e;" if needed > batch.stock else "color: #6b6b6b;")

    def _pack(self) -> None:
        batch, spec, _net = self._chosen()
        if batch is None:
            self.error.show_message(tr("No completed batch with stock to pack."))
            return
        self.desk.pack(batch.batch_no, spec or "", self.units.value(), label_checked=self.label_checked.isChecked(),
                       packed_from=moment(self.packed_from), packed_to=moment(self.packed_to),
                       team=self.team.text().strip() or None, operator_id=self.operator.current_id())


class InspectionPanel(QWidget):
    """The release inspection of the lot shown, with its label check (G§40):
    the items of the product's release standard, judged as the results are
    typed; the whole inspection window (sampling slip, retained sample) one
    click away. Both share the widgets of ``inspection_widgets``."""

    def __init__(self, desk):
        super().__init__()
        self.desk = desk
        self.items = ItemsTable(rows_shown=3)
        self.sample_quantity = QLineEdit()
        self.inspector = IdCombo()
        self.reviewer = IdCombo()
        self.label = LabelCheck()
        self.button = action_button(tr("Submit release inspection"), self._submit)
        self.window_button = action_button(tr("Full inspection form (sampling slip, retained sample)…"),
                                           self.open_window)
        self.error = ErrorLabel()
        self.reports = make_table([label_of("inspection", "report_no"), label_of("inspection", "sampled_at"),
                                   label_of("inspection", "conclusion"), label_of("inspection", "label_check_passed")])
        form = QFormLayout()
        form.addRow(label_of("inspection", "sample_quantity"), self.sample_quantity)
        form.addRow(label_of("inspection", "inspector_id"), row(self.inspector, label_of("inspection", "reviewer_id"),
                                                                 self.reviewer))
        layout = QVBoxLayout(self)
        layout.addWidget(self.items, 2)
        layout.addLayout(row(action_button(tr("Add item"), lambda: self.add_item()),
                             action_button(tr("Remove item"), self.items.remove_selected)))
        layout.addWidget(self.label)
        layout.addLayout(form)
        layout.addLayout(row(self.button, self.window_button))
        layout.addWidget(self.error)
        layout.addWidget(self.reports, 1)
        self._shown: int | None = None

    def add_item(self, item: str = "", method: str = "", requirement: str = "", result: str = "") -> None:
        self.items.add_item(item, method, requirement, result)

    def rows(self, *, fill_result: str | None = None, verdict: str | None = None) -> list[dict]:
        """The items as the service takes them; ``fill_result``/``verdict`` fill in for a quick pass."""
        return self.items.rows(fill_result=fill_result, verdict=verdict)

    def show_data(self, data: DeskData, detail: CommodityDetail | None) -> None:
        self.inspector.set_people(data.people, posts=("inspection",))
        self.reviewer.set_people(data.people, posts=("quality",))
        fill_table(self.reports, [list(i) for i in detail.inspections] if detail else [])
        self.setEnabled(detail is not None and detail.status == "packed")
        shown = detail.id if detail else None
        if shown != self._shown:  # another lot: start from its product's release items
            self._shown = shown
            self.items.set_standards(detail.release_items if detail else ())
            if detail is not None and not detail.release_items:
                for item, requirement in DEFAULT_ITEMS:
                    self.add_item(str(item), "", str(requirement))
            if detail is not None and detail.label is not None:
                self.label.set_rules(detail.label)
            self.label.set_all(False)

    def _submit(self) -> None:
        passed, notes = self.label.result()
        self.desk.inspect_release(
            None, items=self.rows(), label_passed=passed, label_notes=notes,
            sample_quantity=self.sample_quantity.text().strip() or None,
        )

    def open_window(self):
        """The inspection window for this lot; the desk shows the report once saved."""
        from .inspection_screen import InspectionDialog

        if self.desk.commodity_id is None:
            return None
        dialog = InspectionDialog.open(self.desk.ctx, "release", commodity_id=self.desk.commodity_id, parent=self.desk)
        dialog.saved.connect(lambda _report_id: shiboken6.isValid(self.desk) and self.desk.reload())
        return dialog


class DeliveryPanel(QWidget):
    def __init__(self, desk):
        super().__init__()
        self.desk = desk
        self.customer = QLineEdit()
        self.customer.setPlaceholderText(tr("Type part of the name"))
        self.completer = QCompleter([], self)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.customer.setCompleter(self.completer)
        self.units = QSpinBox()
        self.units.setRange(1, 10_000_000)
        self.sale_date = date_edit()
        self.clerk = IdCombo()
        self.cold_chain = QLineEdit()
        self.vehicle = QLineEdit()
        self.button = action_button(tr("Record the sale"), self._deliver)
        self.error = ErrorLabel()
        self.deliveries = make_table([label_of("delivery", "delivery_no"), label_of("delivery", "customer_id"),
                                      label_of("delivery", "units"), label_of("delivery", "sale_date"),
                                      tr("Buyer's confirmation")], stretch=1)
        # G§42(三): the buyer's 交付确认单 comes back after the sale.
        self.confirmation_no = QLineEdit()
        self.confirmation_no.setPlaceholderText(label_of("delivery", "confirmation_no"))
        self.confirmed_on = date_edit()
        self.confirmed_by = QLineEdit()
        self.confirmed_by.setPlaceholderText(label_of("delivery", "confirmed_by"))
        self.confirm_button = action_button(tr("Confirm delivery"), self._confirm)
        self.confirm_error = ErrorLabel()
        form = QFormLayout()
        form.addRow(label_of("delivery", "customer_id"), self.customer)
        form.addRow(label_of("delivery", "units"), row(self.units, label_of("delivery", "sale_date"), self.sale_date))
        form.addRow(label_of("delivery", "clerk_id"), self.clerk)
        form.addRow(label_of("delivery", "cold_chain"),
                    row(self.cold_chain, label_of("delivery", "vehicle"), self.vehicle))
        form.addRow("", self.button)
        form.addRow(self.error)
        self.entry = QWidget()
        self.entry.setLayout(form)
        self.confirm = QGroupBox(tr("The buyer's confirmation of the delivery chosen above"))
        confirm = QVBoxLayout(self.confirm)
        confirm.addLayout(row(self.confirmation_no, label_of("delivery", "confirmed_on"), self.confirmed_on,
                              self.confirmed_by, self.confirm_button))
        confirm.addWidget(self.confirm_error)
        layout = QVBoxLayout(self)
        layout.addWidget(self.entry)
        layout.addWidget(self.deliveries, 1)
        layout.addWidget(self.confirm)

    def show_data(self, data: DeskData, detail: CommodityDetail | None) -> None:
        self.completer.model().setStringList([name for _id, name in data.customers])
        self.clerk.set_people(data.people, posts=("storage",))
        rows = detail.deliveries if detail else ()
        fill_table(self.deliveries, [[no, name, str(units), str(day), confirmed or tr("Not confirmed yet")]
                                     for no, name, units, day, confirmed in rows],
                   keys=[no for no, *_rest in rows])
        can = detail is not None and detail.status == "released" and detail.units_on_hand > 0
        self.entry.setEnabled(can)
        if can:
            self.units.setMaximum(detail.units_on_hand)

    def _deliver(self) -> None:
        self.desk.deliver(None, self.customer.text().strip(), self.units.value(),
                          sale_date=self.sale_date.date().toPython(), clerk_id=self.clerk.current_id(),
                          cold_chain=self.cold_chain.text().strip() or None,
                          vehicle=self.vehicle.text().strip() or None)

    def _confirm(self) -> None:
        number = selected_key(self.deliveries)
        if number is None:
            self.confirm_error.show_message(tr("Choose a delivery in the table first."))
            return
        self.desk.confirm_delivery(number, self.confirmation_no.text().strip(),
                                   self.confirmed_on.date().toPython(), self.confirmed_by.text().strip())
