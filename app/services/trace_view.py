"""The trace result as rows for the trace screen: the tree of plain-string
rows derived from ``TraceResult.to_json()`` by ``build_tree``, and the rows
of the mass balance. A batch reached along several paths (mixing) is
expanded once; later occurrences say "see above", so the tree grows with the
number of links, never with the number of paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from app.i18n import tr
from app.ledgers.choices import BATCH_STATUS, COMMODITY_STATUS, MATERIAL_LOT_STATUS


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
