"""R4.1, R4.3, R4.4: the trace screen.

A number (typed, or scanned: a scanner types it and presses Enter) is traced
forward to the customers or backward to the suppliers on the task runner.
The worker returns plain data: the service's ``to_json()`` and the tree of
rows derived from it by ``build_tree`` (Qt-free, in ``app.services.trace_view``,
so it is testable alone); the GUI thread only turns rows into items.
"""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton, QRadioButton,
    QSplitter, QTableWidget, QTableWidgetItem, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.errors import UserError
from app.i18n import lazy, tr
from app.services.trace_view import Node, balance_rows, build_tree

from .context import AppContext
from .dialogs import Dialogs, show_error

log = logging.getLogger("ui.trace")

RED = QColor("#b00020")
COLUMNS = (lazy("Trace chain"), lazy("Name or address"), lazy("Quantity"), lazy("Date"), lazy("Details"))
BALANCE_COLUMNS = (
    lazy("Kind"), lazy("Lot or batch"), lazy("Unit"), lazy("Received / fed"), lazy("Issued / produced"),
    lazy("Written off / losses"), lazy("Packed"), lazy("Fed onward"), lazy("In stock"), lazy("Result"),
)
BIG_TREE = 2000  # items; larger trees open one level deep


def tree_text(nodes: list[Node]) -> str:
    """Tab-separated: the header, then one line per row, indented by depth."""
    lines = ["\t".join(str(c) for c in COLUMNS)]

    def walk(node: Node, depth: int) -> None:
        lines.append("\t".join(["  " * depth + node.cells[0], *node.cells[1:]]))
        for child in node.children:
            walk(child, depth + 1)

    for root in nodes:
        walk(root, 0)
    return "\n".join(lines) + "\n"


def run_trace_task(ctx: AppContext, number: str, direction: str):
    """The worker's function: plain data only."""
    from app.services.trace import trace

    def task(_progress):
        with ctx.read() as session:
            data = trace(session, number, direction).to_json()
        return data, build_tree(data)

    return task


class TraceView(QWidget):
    """Forward to customers, backward to suppliers, with the mass balance."""

    finished = Signal()
    recall_requested = Signal(str)  # a forward trace's number, for the recall desk

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.data: dict | None = None
        self.nodes: list[Node] = []
        self._generation = 0
        self._build()

    def _build(self) -> None:
        self.number = QLineEdit(placeholderText=tr("Lot, batch, commodity lot code or delivery number; scan or type"))
        self.number.setClearButtonEnabled(True)
        self.number.returnPressed.connect(self.start)
        self.forward_button = QRadioButton(tr("Forward trace (to customers)"), checked=True)
        self.backward_button = QRadioButton(tr("Backward trace (to suppliers)"))
        group = QButtonGroup(self)
        group.addButton(self.forward_button)
        group.addButton(self.backward_button)
        self.trace_button = QPushButton(tr("Start trace"))
        self.trace_button.clicked.connect(self.start)
        self.busy = QProgressBar(minimum=0, maximum=0, maximumWidth=120, textVisible=False, visible=False)
        self.copy_button = QPushButton(tr("Copy"), enabled=False)
        self.copy_button.clicked.connect(self.copy)
        self.export_button = QPushButton(tr("Export"), enabled=False)
        self.export_button.clicked.connect(lambda _checked=False: self.export())
        self.sheet_button = QPushButton(tr("Excel sheet…"), enabled=False)
        self.sheet_button.setObjectName("traceSheet")
        self.sheet_button.clicked.connect(lambda _checked=False: self.export_sheet())
        self.epcis_button = QPushButton(tr("EPCIS file…"), enabled=False)
        self.epcis_button.setObjectName("traceEpcis")
        self.epcis_button.setToolTip(tr("The traced receipts, production, packing, inspections, releases and "
                                        "deliveries as a GS1 EPCIS 2.0 document, the format buyers' traceability "
                                        "systems read"))
        self.epcis_button.clicked.connect(lambda _checked=False: self.export_epcis())
        self.recall_button = QPushButton(tr("Start recall…"), enabled=False)
        self.recall_button.setObjectName("traceRecall")
        self.recall_button.setToolTip(tr("Recall everything this forward trace reaches, or run a drill of it"))
        self.recall_button.clicked.connect(lambda _checked=False: self.request_recall())
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("Number:")))
        bar.addWidget(self.number, 1)
        for widget in (self.forward_button, self.backward_button, self.trace_button, self.busy,
                       self.copy_button, self.export_button, self.sheet_button, self.epcis_button,
                       self.recall_button):
            bar.addWidget(widget)
        self.ctx.offer(self.recall_button, "recall")
        for button in (self.export_button, self.sheet_button, self.epcis_button):
            self.ctx.offer(button, "export")

        self.error = QLabel(visible=False, wordWrap=True)
        self.error.setStyleSheet(f"color: {RED.name()};")
        self.tree = QTreeWidget(alternatingRowColors=True, uniformRowHeights=True)
        self.tree.setHeaderLabels([str(c) for c in COLUMNS])
        self.summary = QLabel(tr("Enter a number and press Enter to trace."), wordWrap=True)
        self.balance_title = QLabel(tr("Mass balance"))
        self.balance = QTableWidget(0, len(BALANCE_COLUMNS), alternatingRowColors=True)
        self.balance.setHorizontalHeaderLabels([str(c) for c in BALANCE_COLUMNS])
        self.balance.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.balance.verticalHeader().setVisible(False)
        self.balance.horizontalHeader().setStretchLastSection(True)

        bottom = QWidget()
        lower = QVBoxLayout(bottom)
        lower.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel()
        for widget in (self.summary, self.balance_title, self.balance, self.note):
            lower.addWidget(widget)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.error)
        layout.addWidget(splitter, 1)

    # ------------------------------------------------------------ actions

    def direction(self) -> str:
        return "forward" if self.forward_button.isChecked() else "backward"

    def run_trace(self, number: str, direction: str = "forward") -> None:
        """Trace ``number`` as if typed; ``finished`` is emitted when done."""
        self.number.setText(number)
        (self.forward_button if direction == "forward" else self.backward_button).setChecked(True)
        self.start()

    def start(self) -> None:
        number = self.number.text().strip()
        self._generation += 1
        generation = self._generation
        self.error.hide()
        self.note.clear()
        self.busy.show()
        self.trace_button.setEnabled(False)
        log.info("trace %s %s", self.direction(), number)
        self.ctx.runner.run(
            run_trace_task(self.ctx, number, self.direction()),
            lambda result: isValid(self) and self._done(generation, result, None),
            lambda error: isValid(self) and self._done(generation, None, error),
        )

    def _done(self, generation: int, result, error: BaseException | None) -> None:
        if generation != self._generation:
            return  # a newer trace was started meanwhile
        self.busy.hide()
        self.trace_button.setEnabled(True)
        if error is None:
            self._show(*result)
        elif isinstance(error, UserError):
            self._clear()
            self.error.setText(error.message)
            self.error.show()
        else:
            self._clear()
            show_error(self, error)
        self.finished.emit()

    def _clear(self) -> None:
        self.data, self.nodes = None, []
        self.tree.clear()
        self.balance.setRowCount(0)
        self.summary.setText("")
        self.copy_button.setEnabled(False)
        for button in (self.export_button, self.sheet_button, self.epcis_button, self.recall_button):
            button.setEnabled(False)

    def _show(self, data: dict, nodes: list[Node]) -> None:
        self.data, self.nodes = data, nodes
        self.tree.setUpdatesEnabled(False)
        self.tree.clear()
        count = [0]

        def item(node: Node) -> QTreeWidgetItem:
            count[0] += 1
            widget_item = QTreeWidgetItem([str(c) for c in node.cells])
            widget_item.setToolTip(len(node.cells) - 1, node.cells[-1])
            widget_item.addChildren([item(child) for child in node.children])
            return widget_item

        self.tree.addTopLevelItems([item(node) for node in nodes])
        if count[0] <= BIG_TREE:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(0)
        self.tree.header().resizeSections(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setUpdatesEnabled(True)
        self._show_balance(data["mass_balance"])
        self.summary.setText(self._summary(data))
        self.copy_button.setEnabled(True)
        for button in (self.export_button, self.sheet_button, self.epcis_button):
            button.setEnabled(True)
        self.recall_button.setEnabled(data["direction"] == "forward" and bool(data["commodity_batches"]))

    @staticmethod
    def _summary(data: dict) -> str:
        return tr(
            "Found {lots} material lots, {batches} product batches, {commodities} commodity batches, "
            "{deliveries} deliveries, {customers} customers and {suppliers} suppliers.",
            lots=len(data["material_lots"]), batches=len(data["product_batches"]),
            commodities=len(data["commodity_batches"]), deliveries=len(data["deliveries"]),
            customers=len(data["customers"]), suppliers=len(data["suppliers"]),
        )

    def _show_balance(self, balance: dict) -> None:
        rows = balance_rows(balance)
        flagged = sum(1 for _cells, flags in rows if flags)
        self.balance_title.setText(
            tr("Mass balance: {count} discrepancies", count=flagged) if flagged
            else tr("Mass balance: no discrepancies")
        )
        self.balance_title.setStyleSheet(f"color: {RED.name()}; font-weight: bold;" if flagged else "")
        self.balance.setRowCount(len(rows))
        for row, (cells, flags) in enumerate(rows):
            for column, text in enumerate([*cells, "；".join(flags) if flags else tr("Balanced")]):
                cell = QTableWidgetItem(text)
                if flags:
                    cell.setForeground(QBrush(RED))
                    cell.setToolTip("\n".join(flags))
                self.balance.setItem(row, column, cell)
        self.balance.resizeColumnsToContents()
        self.balance.resizeRowsToContents()

    def request_recall(self) -> None:
        if self.data is not None:
            self.recall_requested.emit(self.data["query"])

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(tree_text(self.nodes))

    def export_sheet(self) -> None:
        """The flat sheet, offered under its own button: a user need not know
        that the file name's ending chooses the format."""
        self.export(sheet=True)

    def export(self, sheet: bool = False) -> None:
        if self.data is None:
            return
        name = tr("trace_{number}.json", number=self.data["query"])
        filters = [tr("JSON files (*.json)"), tr("Flat trace sheet (*.xlsx)")]
        if sheet:
            name, filters = name[:-len(".json")] + ".xlsx", filters[::-1]
        path = Dialogs.save_file(self, tr("Export trace result"), name, ";;".join(filters))
        if not path:
            return
        if path.lower().endswith(".xlsx"):
            write = self._sheet_task(path)  # issue 6: the FSMA-204-style sortable sheet
        else:
            if not path.lower().endswith(".json"):
                path += ".json"
            text = json.dumps(self.data, ensure_ascii=False, indent=2)

            def write(_progress):
                with open(path, "w", encoding="utf-8") as out:
                    out.write(text)
                return path

        self.ctx.runner.run(write, lambda saved: isValid(self) and self._exported(saved),
                            lambda error: isValid(self) and show_error(self, error))

    def _sheet_task(self, path: str):
        from app.reports.trace_sheet import export_trace
        from app.services.trace import trace

        ctx, number, direction = self.ctx, self.data["query"], self.data["direction"]

        def write(progress):
            with ctx.read() as session:
                export_trace(session, trace(session, number, direction), path, progress.report)
            return path

        return write

    def export_epcis(self) -> None:
        """The traced records as GS1 EPCIS 2.0 events (app.reports.epcis)."""
        if self.data is None:
            return
        path = Dialogs.save_file(self, tr("Export the trace as GS1 EPCIS 2.0"),
                                 tr("epcis_{number}.jsonld", number=self.data["query"]),
                                 tr("EPCIS 2.0 JSON-LD files (*.jsonld)"))
        if not path:
            return
        if not path.lower().endswith((".jsonld", ".json")):
            path += ".jsonld"
        from app.reports.epcis import export_trace
        from app.services.trace import trace

        ctx, number, direction = self.ctx, self.data["query"], self.data["direction"]

        def write(_progress):
            with ctx.read() as session:
                return export_trace(session, trace(session, number, direction), path).events

        self.ctx.runner.run(write, lambda events: isValid(self) and self._exported(path, events),
                            lambda error: isValid(self) and show_error(self, error))

    def _exported(self, path: str, events: int | None = None) -> None:
        log.info("trace exported to %s", path)
        if events is None:
            self.note.setText(tr("Saved to {path}", path=path))
        else:
            self.note.setText(tr("Saved {count} EPCIS events to {path}", count=events, path=path))
