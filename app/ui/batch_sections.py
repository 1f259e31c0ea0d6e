"""The four sections of the batch workbench: feeding, CCP readings, process
records, completion. Each shows a ``BatchDetail`` and hands what the user
entered to the workbench's methods (the same ones tests call)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.i18n import tr
from app.ledgers import ledger
from app.services.batch_view import NEAR_EXPIRY_DAYS, BatchDetail, WorkbenchData
from app.services.production import STERILISATION_PARAMETER

from .workflow_kit import (
    AMBER_BG,
    GREEN,
    RED,
    RED_BG,
    DecimalEdit,
    ErrorLabel,
    IdCombo,
    action_button,
    datetime_edit,
    fill_table,
    fmt_qty,
    label_of,
    make_table,
    moment,
    row,
    select_key,
    selected_key,
)


def _stamp(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


class FeedingSection(QWidget):
    def __init__(self, bench):
        super().__init__()
        self.bench = bench
        self.show_all = QCheckBox(tr("Show every material and batch in stock"))
        self.show_all.toggled.connect(lambda _on: bench.reload())
        self.sources = make_table(
            [tr("Source kind"), tr("Lot or batch no."), tr("Material or product"), tr("Stock left"),
             label_of("feeding", "unit"), label_of("material_lot", "expiry_date")],
            numbers=(3,),
        )
        self.sources.itemSelectionChanged.connect(self._source_chosen)
        legend = QLabel(tr("Red: expired, cannot be fed. Yellow: expires within {days} days.", days=NEAR_EXPIRY_DAYS))
        legend.setStyleSheet("color: #6b6b6b;")
        self.quantity = DecimalEdit(label_of("feeding", "quantity"))
        self.unit = QLabel("")
        # The time the paper record says, and who handed the material over (G§22).
        self.fed_at = datetime_edit()
        self.handed_over = IdCombo()
        self.operator = IdCombo()
        self.method = QLineEdit()
        self.method.setPlaceholderText(label_of("feeding", "method"))
        self.button = action_button(tr("Feed into batch"), self._feed)
        self.error = ErrorLabel()
        self.feedings = make_table(
            [label_of("feeding", "fed_at"), tr("Lot or batch no."), tr("Material or product"),
             label_of("feeding", "quantity"), label_of("feeding", "unit"), label_of("feeding", "operator_id"),
             label_of("feeding", "method")],
            numbers=(3,),
        )
        self.offer = offer = QGroupBox(tr("Material lots and batches that can be fed"))
        top = QVBoxLayout(offer)
        top.addLayout(row(legend, self.show_all))
        top.addWidget(self.sources, 1)
        top.addLayout(row(label_of("feeding", "quantity"), self.quantity, self.unit,
                          label_of("feeding", "fed_at"), self.fed_at,
                          label_of("stock_movement", "handed_over_by"), self.handed_over,
                          label_of("feeding", "operator_id"), self.operator, self.method, self.button))
        top.addWidget(self.error)
        done = QGroupBox(tr("Feeding records of this batch"))
        QVBoxLayout(done).addWidget(self.feedings)
        layout = QVBoxLayout(self)
        layout.addWidget(offer, 3)
        layout.addWidget(done, 2)
        self._units: dict[str, str] = {}

    def show_detail(self, detail: BatchDetail, data: WorkbenchData) -> None:
        self.operator.set_people(data.people, posts=("production",), team=detail.team)
        self.handed_over.set_people(data.people, posts=("storage",))
        colours = {"expired": RED_BG, "near": AMBER_BG, "ok": None}
        kinds = {"lot": tr("Material lot"), "batch": tr("Product batch")}
        fill_table(
            self.sources,
            [[kinds[s.kind], s.number, s.name, fmt_qty(s.stock), s.unit, str(s.expiry or "")] for s in detail.sources],
            keys=[s.number for s in detail.sources],
            backgrounds=[colours[s.state] for s in detail.sources],
        )
        self._units = {s.number: s.unit for s in detail.sources}
        fill_table(self.feedings, [
            [_stamp(f.fed_at), f.number, f.name, fmt_qty(f.quantity), f.unit, f.operator, f.method]
            for f in detail.feedings
        ])
        self.offer.setVisible(detail.is_open)  # a completed batch takes no more feeding
        self.button.setEnabled(detail.is_open)

    def _source_chosen(self) -> None:
        self.unit.setText(self._units.get(selected_key(self.sources), ""))

    def _feed(self) -> None:
        number = selected_key(self.sources)
        if number is None:
            self.error.show_message(tr("Choose a lot or a batch in the table first."))
            return
        self.bench.feed(number, self.quantity.value(), operator_id=self.operator.current_id(),
                        method=self.method.text().strip() or None, fed_at=moment(self.fed_at),
                        handed_over_by=self.handed_over.current_id())


class CCPSection(QWidget):
    def __init__(self, bench):
        super().__init__()
        self.bench = bench
        self.ccps = make_table(
            [label_of("ccp_reading", "ccp_id"), tr("Monitored parameter"), tr("Critical limits"),
             tr("Monitoring frequency"), tr("Corrective action in the plan")],
            stretch=4,
        )
        self.ccps.setMaximumHeight(110)
        self.ccp = IdCombo()
        self.ccp.currentIndexChanged.connect(self._ccp_chosen)
        self.value = DecimalEdit(label_of("ccp_reading", "value"), signed=True)
        self.limits = QLabel("")
        self.operator = IdCombo()
        self.button = action_button(tr("Record reading"), self._record)
        self.error = ErrorLabel()
        self.readings = make_table(
            [label_of("ccp_reading", "measured_at"), label_of("ccp_reading", "ccp_id"),
             label_of("ccp_reading", "value"), tr("Critical limits"), tr("Reading result"),
             label_of("ccp_reading", "operator_id"), label_of("ccp_reading", "corrective_action"),
             label_of("ccp_reading", "corrected_by")],
            stretch=6, numbers=(2,),
        )
        self.readings.itemSelectionChanged.connect(self._reading_chosen)
        self.readings.itemDoubleClicked.connect(lambda _item: self._correct())
        self.correct_button = action_button(tr("Correct deviation…"), self._correct)
        self.correct_error = ErrorLabel()
        plan = QGroupBox(tr("Critical control points of the product"))
        top = QVBoxLayout(plan)
        top.addWidget(self.ccps)
        top.addLayout(row(label_of("ccp_reading", "ccp_id"), self.ccp, label_of("ccp_reading", "value"), self.value,
                          self.limits, label_of("ccp_reading", "operator_id"), self.operator, self.button))
        top.addWidget(self.error)
        done = QGroupBox(tr("Readings of this batch"))
        bottom = QVBoxLayout(done)
        bottom.addWidget(self.readings, 1)
        self.corrector = IdCombo()
        bottom.addLayout(row(label_of("ccp_reading", "corrected_by"), self.corrector, self.correct_button,
                             QLabel(tr("Deviations in red block the release until corrected."))))
        self._open: set[int] = set()
        self._limits: dict[int, str] = {}
        bottom.addWidget(self.correct_error)
        layout = QVBoxLayout(self)
        layout.addWidget(plan)
        layout.addWidget(done, 1)

    def show_detail(self, detail: BatchDetail, data: WorkbenchData) -> None:
        self._limits = {c.id: c.limits for c in detail.ccps}
        fill_table(self.ccps, [[c.name, c.parameter, c.limits, c.frequency, c.corrective_action] for c in detail.ccps])
        self.ccp.set_rows([(c.id, c.name) for c in detail.ccps])
        self.operator.set_people(data.people, posts=("production",), team=detail.team)
        self.corrector.set_people(data.people, posts=("quality", "process"))
        results, backgrounds, foregrounds = [], [], []
        for r in detail.readings:
            if r.open_deviation:
                results.append(tr("Deviation, not corrected"))
                backgrounds.append(RED_BG)
                foregrounds.append(RED)
            elif r.deviation:
                results.append(tr("Deviation, corrected"))
                backgrounds.append(AMBER_BG)
                foregrounds.append(None)
            else:
                results.append(tr("Within limits"))
                backgrounds.append(None)
                foregrounds.append(None)
        fill_table(
            self.readings,
            [[_stamp(r.measured_at), r.ccp, f"{fmt_qty(r.value)} {r.unit}", r.limits, result, r.operator,
              r.corrective_action or "", r.corrected_by or ""] for r, result in zip(detail.readings, results)],
            keys=[r.id for r in detail.readings], backgrounds=backgrounds, foregrounds=foregrounds,
            tooltips=[r.corrective_action for r in detail.readings],
        )
        self._open = {r.id for r in detail.readings if r.open_deviation}
        if selected_key(self.readings) is None and self._open:  # point at the first deviation to correct
            select_key(self.readings, next(r.id for r in detail.readings if r.open_deviation))
        for widget in (self.ccp, self.value, self.operator, self.button):
            widget.setEnabled(detail.is_open and bool(detail.ccps))
        self._reading_chosen()

    def _ccp_chosen(self, _index: int = 0) -> None:
        limits = self._limits.get(self.ccp.current_id(), "")
        self.limits.setText(tr("Limits: {limits}", limits=limits) if limits else "")

    def _reading_chosen(self) -> None:
        self.correct_button.setEnabled(selected_key(self.readings) in self._open)

    def _record(self) -> None:
        self.bench.record_ccp(self.ccp.currentText(), self.value.value(), operator_id=self.operator.current_id())

    def _correct(self) -> None:
        reading = selected_key(self.readings)
        if reading in self._open:
            self.bench.ask_correction(reading)


class RecordsSection(QWidget):
    """A sterilisation record (with the parameter its method needs, G§31) and a
    changeover cleaning record (G§29), their labels taken from the declarations."""

    def __init__(self, bench):
        super().__init__()
        self.bench = bench
        steril, clean = ledger("sterilisation_record"), ledger("cleaning_record")
        self.method = QComboBox()
        for code, label in steril.field("method").choices.items():
            self.method.addItem(label, code)
        self.method.currentIndexChanged.connect(self._method_chosen)
        self.started = datetime_edit()
        self.duration = QSpinBox()
        self.duration.setRange(1, 999999)
        self.duration.setValue(15)
        self.parameter_label = QLabel("")
        self.parameter = DecimalEdit(signed=True)
        self.steril_operator = IdCombo()
        self.steril_button = action_button(tr("Save sterilisation record"), self._sterilise)
        self.steril_error = ErrorLabel()
        form = QFormLayout()
        form.addRow(steril.field("method").label, self.method)
        form.addRow(steril.field("started_at").label, self.started)
        form.addRow(steril.field("duration_seconds").label, self.duration)
        form.addRow(self.parameter_label, self.parameter)
        form.addRow(steril.field("operator_id").label, self.steril_operator)
        form.addRow("", self.steril_button)
        form.addRow(self.steril_error)
        self.steril_box = steril_box = QGroupBox(steril.title)
        steril_box.setLayout(form)

        self.line = IdCombo()
        self.area = QLineEdit()
        self.cleaned = datetime_edit()
        self.checks = QLineEdit()
        self.agents = QLineEdit()
        self.validation = QLineEdit()
        self.clean_operator = IdCombo()
        self.clean_button = action_button(tr("Save cleaning record"), self._clean)
        self.clean_error = ErrorLabel()
        form = QFormLayout()
        for name, widget in (("line_id", self.line), ("area", self.area), ("cleaned_at", self.cleaned),
                             ("checks", self.checks), ("agents", self.agents), ("validation", self.validation),
                             ("operator_id", self.clean_operator)):
            form.addRow(clean.field(name).label, widget)
        form.addRow("", self.clean_button)
        form.addRow(self.clean_error)
        self.clean_box = clean_box = QGroupBox(clean.title)
        clean_box.setLayout(form)

        self.records = make_table(
            [tr("Record time"), tr("Record kind"), tr("Record content"), label_of("process_record", "operator_id")],
            stretch=2,
        )
        done = QGroupBox(tr("Process records of this batch"))
        QVBoxLayout(done).addWidget(self.records)
        entries = QHBoxLayout()
        entries.addWidget(steril_box, 1)
        entries.addWidget(clean_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(entries)
        layout.addWidget(done, 1)
        self._batch: int | None = None
        self._method_chosen()

    def show_detail(self, detail: BatchDetail, data: WorkbenchData) -> None:
        self.line.set_rows(data.lines)
        if detail.id != self._batch:  # another batch: defaults from its product and line
            self._batch = detail.id
            if detail.sterilisation_method:
                self.method.setCurrentIndex(max(0, self.method.findData(detail.sterilisation_method)))
            self.line.setCurrentIndex(max(0, self.line.findText(detail.line)))
        self.steril_operator.set_people(data.people, posts=("production",), team=detail.team)
        self.clean_operator.set_people(data.people, posts=("production",), team=detail.team)
        fill_table(self.records, [[_stamp(r.at), r.title, r.summary, r.operator] for r in detail.records])
        self.steril_box.setEnabled(detail.is_open)
        self.clean_box.setEnabled(detail.is_open)

    def _method_chosen(self, _index: int = 0) -> None:
        name, _label = STERILISATION_PARAMETER.get(self.method.currentData(), ("temperature_c", ""))
        self.parameter_label.setText(label_of("sterilisation_record", name))

    def _sterilise(self) -> None:
        self.bench.add_sterilisation(
            self.method.currentData(), self.parameter.value(), self.duration.value(),
            started_at=moment(self.started), operator_id=self.steril_operator.current_id(),
        )

    def _clean(self) -> None:
        self.bench.add_cleaning(
            self.area.text(), self.checks.text(), self.validation.text(), agents=self.agents.text(),
            line_id=self.line.current_id(), cleaned_at=moment(self.cleaned),
            operator_id=self.clean_operator.current_id(),
        )


class CompletionSection(QWidget):
    def __init__(self, bench):
        super().__init__()
        self.bench = bench
        self.fed = QLabel("")
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(f"color: {RED.name()};")
        self.output = DecimalEdit(label_of("product_batch", "output_quantity"))
        self.loss = DecimalEdit(label_of("product_batch", "loss_quantity"))
        self.output.textEdited.connect(self._suggest_loss)
        self.units = [QLabel(""), QLabel("")]
        self.button = action_button(tr("Complete batch"), self._complete)
        self.error = ErrorLabel()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"color: {GREEN.name()}; font-weight: bold;")
        self.entry = QGroupBox(tr("Output and loss"))
        form = QFormLayout(self.entry)
        form.addRow(tr("Fed in total"), self.fed)
        form.addRow(label_of("product_batch", "output_quantity"), row(self.output, self.units[0]))
        form.addRow(label_of("product_batch", "loss_quantity"), row(self.loss, self.units[1]))
        form.addRow("", row(self.button))
        form.addRow(self.error)
        layout = QVBoxLayout(self)
        layout.addWidget(self.warning)
        layout.addWidget(self.entry)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        self._detail: BatchDetail | None = None

    def show_detail(self, detail: BatchDetail, data: WorkbenchData) -> None:
        self._detail = detail
        self.fed.setText("；".join(f"{fmt_qty(q)} {unit}" for unit, q in detail.fed) or tr("Nothing fed yet"))
        for label in self.units:
            label.setText(detail.unit)
        deviations = detail.open_deviations
        self.warning.setText(
            tr("{count} CCP deviation(s) of this batch have no corrective action yet: the goods cannot be released "
               "until they are corrected.", count=deviations) if deviations else ""
        )
        self.warning.setVisible(bool(deviations))
        self.entry.setVisible(detail.is_open)
        if detail.is_open:
            self.summary.setText("")
        else:
            self.summary.setText(tr(
                "{status} {at}: output {output} {unit}, loss {loss} {unit}, best before {expiry}. "
                "The batch record is locked.",
                status=detail.status_label, at=_stamp(detail.finished_at), output=fmt_qty(detail.output),
                loss=fmt_qty(detail.loss), unit=detail.unit, expiry=detail.expiry_date or "—",
            ))

    def _suggest_loss(self, text: str) -> None:
        detail = self._detail
        try:
            output = Decimal(text)
        except (InvalidOperation, ValueError):
            return
        if detail is not None:
            loss = detail.fed_in(detail.unit) - output
            self.loss.setText(fmt_qty(loss) if loss >= 0 else "")

    def _complete(self) -> None:
        self.bench.complete(self.output.value(), self.loss.value())
