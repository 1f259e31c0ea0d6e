"""R4.1, R4.3, R4.4: the trace screen.

A number (typed, or scanned: a scanner types it and presses Enter) is traced
forward to the customers or backward to the suppliers on the task runner.
The worker returns plain data: the service's ``to_json()`` and the tree of
rows derived from it by ``build_tree`` (Qt-free, so it is testable alone);
the GUI thread only turns rows into items. A batch reached along several
paths (mixing) is expanded once; later occurrences say "see above", so the
tree grows with the number of links, never with the number of paths.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton, QRadioButton,
    QSplitter, QTableWidget, QTableWidgetItem, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.errors import UserError
from app.i18n import lazy, tr
from app.ledgers.choices import BATCH_STATUS, COMMODITY_STATUS, MATERIAL_LOT_STATUS

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


@dataclass
class Node:
    """One row of the trace tree: plain strings, built on the worker."""

    cells: list[str]
    children: list[Node] = field(default_factory=list)


def _qty(text) -> str:
    """"65.000" -> "65", "209.770" -> "209.77"."""
    try:
        return format(Decimal(str(text)).normalize(), "f")
    except InvalidOperation:
        return str(text or "")


class _Index:
    """The result's entries by number, and who links to whom."""

    def __init__(self, data: dict):
        self.lots = {e["lot_no"]: e for e in data["material_lots"]}
        self.batches = {e["batch_no"]: e for e in data["product_batches"]}
        self.commodities = {e["lot_code"]: e for e in data["commodity_batches"]}
        self.deliveries = {e["delivery_no"]: e for e in data["deliveries"]}
        self.customer_of = {d["delivery_no"]: c for c in data["customers"] for d in c["deliveries"]}
        self.supplier_of = {lot["lot_no"]: s for s in data["suppliers"] for lot in s["lots"]}
        self.expanded: set[str] = set()

    # ------------------------------------------------------------- rows

    def lot(self, e: dict, quantity: str) -> Node:
        details = tr("Supplier lot {lot}, {supplier}", lot=e["supplier_lot"], supplier=e.get("supplier", ""))
        return Node([f"{tr('Material lot')} {e['lot_no']}", e["material"], quantity, e["production_date"] or "",
                     f"{details}；{MATERIAL_LOT_STATUS.get(e['status'], e['status'])}"])

    def batch(self, e: dict, quantity: str) -> Node:
        status = BATCH_STATUS.get(e["status"], e["status"])
        if e["output_quantity"] is None:
            status += "；" + tr("not completed")
        return Node([f"{tr('Product batch')} {e['batch_no']}", e["product"], quantity, e["production_date"], status])

    def commodity(self, e: dict) -> Node:
        quantity = tr("{units} units ({used} {unit})", units=e["units"], used=_qty(e["product_quantity_used"]),
                      unit=e["unit"])
        return Node([f"{tr('Commodity batch')} {e['lot_code']}", f"{e['product']} {e['spec']}", quantity,
                     e["production_date"], COMMODITY_STATUS.get(e["status"], e["status"])])

    def delivery(self, e: dict) -> Node:
        confirmed = tr("receipt confirmed") if e["confirmed"] else tr("receipt not confirmed")
        return Node([f"{tr('Delivery')} {e['delivery_no']}", e["customer"], tr("{units} units", units=e["units"]),
                     e["sale_date"], f"{tr('Certificate {number}', number=e['certificate_no'])}；{confirmed}"])

    @staticmethod
    def party(label: str, e: dict, quantity: str = "") -> Node:
        contact = " ".join(x for x in (e.get("contact_person"), e.get("phone")) if x)
        return Node([f"{label} {e['name']}", e.get("address") or "", quantity, "", contact])

    @staticmethod
    def fed(link: dict) -> str:
        return tr("Fed {quantity} {unit}", quantity=_qty(link["quantity"]), unit=link["unit"])

    def _once(self, node: Node, number: str) -> bool:
        """True the first time a batch is met; later rows point back to it."""
        if number in self.expanded:
            node.cells[4] += "；" + tr("continued above")
            return False
        self.expanded.add(number)
        return True

    # ---------------------------------------------------------- forward

    def batch_forward(self, e: dict, quantity: str) -> Node:
        node = self.batch(e, quantity)
        if self._once(node, e["batch_no"]):
            for link in e["fed_into"]:
                if link["batch_no"] in self.batches:
                    node.children.append(self.batch_forward(self.batches[link["batch_no"]], self.fed(link)))
            for link in e["packed_into"]:
                if link["lot_code"] in self.commodities:
                    node.children.append(self.commodity_forward(self.commodities[link["lot_code"]]))
        return node

    def commodity_forward(self, e: dict) -> Node:
        node = self.commodity(e)
        node.children = [self.delivery_forward(self.deliveries[d["delivery_no"]])
                         for d in e["deliveries"] if d["delivery_no"] in self.deliveries]
        return node

    def delivery_forward(self, e: dict) -> Node:
        node = self.delivery(e)
        customer = self.customer_of.get(e["delivery_no"])
        if customer is not None:
            node.children.append(self.party(tr("Customer"), customer))
        return node

    def forward(self) -> list[Node]:
        roots = []
        for e in self.lots.values():
            node = self.lot(e, tr("Received {quantity} {unit}", quantity=_qty(e["quantity_received"]), unit=e["unit"]))
            node.children = [self.batch_forward(self.batches[link["batch_no"]], self.fed(link))
                             for link in e["fed_into"] if link["batch_no"] in self.batches]
            roots.append(node)
        roots += [self.batch_forward(e, self._made(e)) for e in self.batches.values() if not e["inputs"]]
        roots += [self.commodity_forward(e) for e in self.commodities.values() if e["batch_no"] not in self.batches]
        roots += [self.delivery_forward(e) for e in self.deliveries.values() if e["lot_code"] not in self.commodities]
        return roots

    # --------------------------------------------------------- backward

    def batch_backward(self, e: dict, quantity: str) -> Node:
        node = self.batch(e, quantity)
        if self._once(node, e["batch_no"]):
            for link in e["inputs"]:
                if link["kind"] == "material_lot" and link["lot_no"] in self.lots:
                    node.children.append(self.lot_backward(self.lots[link["lot_no"]], self.fed(link)))
                elif link.get("batch_no") in self.batches:
                    node.children.append(self.batch_backward(self.batches[link["batch_no"]], self.fed(link)))
        return node

    def lot_backward(self, e: dict, quantity: str) -> Node:
        node = self.lot(e, quantity)
        supplier = self.supplier_of.get(e["lot_no"])
        if supplier is not None:
            node.children.append(self.party(tr("Supplier"), supplier))
        return node

    def commodity_backward(self, e: dict) -> Node:
        node = self.commodity(e)
        batch = self.batches.get(e["batch_no"])
        if batch is not None:
            used = tr("Used {quantity} {unit}", quantity=_qty(e["product_quantity_used"]), unit=e["unit"])
            node.children.append(self.batch_backward(batch, used))
        return node

    def backward(self) -> list[Node]:
        roots = []
        for e in self.deliveries.values():
            node = self.delivery(e)
            if e["lot_code"] in self.commodities:
                node.children.append(self.commodity_backward(self.commodities[e["lot_code"]]))
            roots.append(node)
        roots += [self.commodity_backward(e) for e in self.commodities.values() if not e["deliveries"]]
        roots += [self.batch_backward(e, self._made(e)) for e in self.batches.values()
                  if not e["packed_into"] and not e["fed_into"]]
        roots += [self.lot_backward(e, tr("Received {quantity} {unit}", quantity=_qty(e["quantity_received"]),
                                          unit=e["unit"])) for e in self.lots.values() if not e["fed_into"]]
        return roots

    @staticmethod
    def _made(e: dict) -> str:
        if e["output_quantity"] is None:
            return ""
        return tr("Produced {quantity} {unit}", quantity=_qty(e["output_quantity"]), unit=e["unit"])


def build_tree(data: dict) -> list[Node]:
    index = _Index(data)
    return index.forward() if data["direction"] == "forward" else index.backward()


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


def balance_rows(balance: dict) -> list[tuple[list[str], list[str]]]:
    """(cells, flags) per lot and per batch of the mass balance, discrepancies first."""
    rows = []
    for e in balance["material_lots"]:
        rows.append(([tr("Material lot"), e["lot_no"], e["unit"], e["received"], e["issued"], e["written_off"],
                      "", "", e["in_stock"]], e["flags"]))
    for e in balance["product_batches"]:
        rows.append(([tr("Product batch"), e["batch_no"], e["unit"], e["fed"], e["produced"] or "", e["losses"],
                      e["packed"], e["fed_onward"], e["on_hand"]], e["flags"]))
    rows.sort(key=lambda row: not row[1])  # discrepancies first, where they are seen
    return [([*cells[:3], *(_qty(c) if c else "" for c in cells[3:])], flags) for cells, flags in rows]


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
        self.export_button.clicked.connect(self.export)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("Number:")))
        bar.addWidget(self.number, 1)
        for widget in (self.forward_button, self.backward_button, self.trace_button, self.busy,
                       self.copy_button, self.export_button):
            bar.addWidget(widget)

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
        self.export_button.setEnabled(False)

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
        self.export_button.setEnabled(True)

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

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(tree_text(self.nodes))

    def export(self) -> None:
        if self.data is None:
            return
        name = tr("trace_{number}.json", number=self.data["query"])
        path = Dialogs.save_file(self, tr("Export trace result"), name, tr("JSON files (*.json)"))
        if not path:
            return
        if not path.lower().endswith(".json"):
            path += ".json"
        text = json.dumps(self.data, ensure_ascii=False, indent=2)

        def write(_progress):
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
            return path

        self.ctx.runner.run(write, lambda saved: isValid(self) and self._exported(saved),
                            lambda error: isValid(self) and show_error(self, error))

    def _exported(self, path: str) -> None:
        log.info("trace exported to %s", path)
        self.note.setText(tr("Saved to {path}", path=path))
