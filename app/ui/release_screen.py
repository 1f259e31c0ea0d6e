"""Release desk (R2.4–R2.7): pack commodity batches, inspect them for release
with the label check, see what still blocks release, release, deliver.

Every write goes through ``ctx.runner``; a refused write shows the service's
Chinese message next to its action and changes nothing. The public methods
(``select``, ``pack``, ``inspect_release``, ``release``, ``deliver``) return
as soon as the work is scheduled; ``changed`` follows each successful write
once the screen shows its result."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from app.errors import UserError
from app.i18n import tr
from app.models import CommodityBatch
from app.services import distribution, quality, release_view
from app.services.common import now, today

from .context import AppContext
from .release_panels import DeliveryPanel, InspectionPanel, PackPanel
from .workflow_kit import (
    GREEN,
    RED,
    ErrorLabel,
    IdCombo,
    WorkflowScreen,
    action_button,
    fill_table,
    label_of,
    make_table,
    row,
    select_key,
    selected_key,
)


class ReleaseDesk(WorkflowScreen):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, parent)
        self.data: release_view.DeskData | None = None
        self.commodity_id: int | None = None
        self._wanted: int | str | None = None

        self.list = make_table([label_of("commodity_batch", "lot_code"), tr("Product and spec"),
                                tr("Units in stock / packed"), label_of("commodity_batch", "status")],
                               stretch=1, numbers=(2,))
        self.list.itemSelectionChanged.connect(self._picked)
        listing = QGroupBox(tr("Commodity batches waiting for release, and released in the last {days} days",
                               days=release_view.RECENT_DAYS))
        QVBoxLayout(listing).addWidget(self.list)
        self.packing = PackPanel(self)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(listing, 1)
        left_layout.addWidget(self.packing)

        self.header = QLabel(tr("Choose a commodity batch on the left, or pack a new one."))
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.blockers = QLabel("")
        self.blockers.setWordWrap(True)
        self.blockers.setTextFormat(Qt.TextFormat.RichText)
        self.releaser = IdCombo()
        self.release_button = action_button(tr("Release the batch"), lambda: self.release(None))
        self.release_error = ErrorLabel()
        gate = QGroupBox(tr("What still blocks release"))
        gate_layout = QVBoxLayout(gate)
        gate_layout.addWidget(self.blockers)
        gate_layout.addLayout(row(label_of("commodity_batch", "released_by"), self.releaser, self.release_button))
        gate_layout.addWidget(self.release_error)
        self.inspection = InspectionPanel(self)
        self.delivery = DeliveryPanel(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.inspection, tr("Release inspection"))
        self.tabs.addTab(self.delivery, tr("Sales and delivery"))
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.header)
        right_layout.addWidget(gate)
        right_layout.addWidget(self.tabs, 1)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 6)
        splitter.setSizes([520, 580])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        for widget, action, key in (
            (self.packing.button, "enter", "commodity_batch"),
            (self.release_button, "release", None),
            (self.inspection.button, "enter", "inspection"),
            (self.delivery.button, "enter", "delivery"),
        ):
            ctx.offer(widget, action, key)
        self._show_gate(None)
        self.reload()

    # ------------------------------------------------------------- loading

    def current_key(self):
        return self._wanted

    def load_snapshot(self, session, key):
        if isinstance(key, str):
            key = release_view.commodity(session, key).id
        return release_view.load(session, key)

    def show_snapshot(self, data: release_view.DeskData) -> None:
        self.data = data
        detail = data.detail
        self.commodity_id = detail.id if detail else None
        self._wanted = self.commodity_id
        rows = data.commodities
        self.list.blockSignals(True)  # showing a snapshot is not the user picking a row
        fill_table(
            self.list,
            [[c.lot_code, f"{c.product} {c.spec}", f"{c.units_on_hand} / {c.units}", self._gate_text(c)] for c in rows],
            keys=[c.id for c in rows],
            foregrounds=[RED if c.blockers else (GREEN if c.blockers == 0 else None) for c in rows],
        )
        if detail is None or not select_key(self.list, detail.id):
            self.list.clearSelection()
        self.list.blockSignals(False)
        self.packing.show_data(data)
        self.releaser.set_people(data.people, posts=("quality",))
        self.inspection.show_data(data, detail)
        self.delivery.show_data(data, detail)
        self.header.setText(self._header(detail) if detail else
                            tr("Choose a commodity batch on the left, or pack a new one."))
        self._show_gate(detail)

    @staticmethod
    def _gate_text(c: release_view.CommodityRow) -> str:
        """The status, and for a packed lot what its release still waits for."""
        if c.blockers is None:
            return c.status_label
        return tr("Waiting: {count} to clear", count=c.blockers) if c.blockers else tr("Ready for release")

    def _header(self, d: release_view.CommodityDetail) -> str:
        title = f"<b style='font-size:14pt'>{d.lot_code}</b>　{d.product} {d.spec}　<b>{d.status_label}</b><br>"
        parts = [
            f"{label_of('commodity_batch', 'product_batch_id')} {d.batch_no}",
            f"{label_of('commodity_batch', 'units')} {d.units}",
            f"{label_of('commodity_batch', 'units_on_hand')} {d.units_on_hand}",
            f"{label_of('commodity_batch', 'production_date')} {d.production_date}",
            f"{label_of('commodity_batch', 'expiry_date')} {d.expiry_date or '—'}",
        ]
        if d.certificate_no:
            parts.append(f"{label_of('commodity_batch', 'certificate_no')} {d.certificate_no}")
        return title + "　·　".join(parts)

    def _show_gate(self, detail: release_view.CommodityDetail | None) -> None:
        if detail is None:
            self.blockers.setText("")
            self.blockers.setStyleSheet("")
        elif detail.status != "packed":
            self.blockers.setText(tr("Released {at}.", at=f"{detail.released_at:%Y-%m-%d %H:%M}")
                                  if detail.released_at else detail.status_label)
            self.blockers.setStyleSheet("")
        elif detail.blockers:
            self.blockers.setText("<br>".join(f"✗ {text}" for text in detail.blockers))
            self.blockers.setStyleSheet(f"color: {RED.name()};")
        else:
            self.blockers.setText("✓ " + tr("Ready for release"))
            self.blockers.setStyleSheet(f"color: {GREEN.name()}; font-weight: bold;")
        self.release_button.setEnabled(bool(detail and detail.releasable))
        self.releaser.setEnabled(bool(detail and detail.releasable))

    def _picked(self) -> None:
        key = selected_key(self.list)
        if key is not None and key != self.commodity_id:
            self._wanted = key
            self.reload()

    # ------------------------------------------------------- test-facing API

    def select(self, lot_code: str) -> None:
        self._wanted = lot_code
        self.reload()

    def _lot(self, lot_code: str | None) -> str | int | None:
        return lot_code if lot_code is not None else self.commodity_id

    def _resolve(self, session, target) -> CommodityBatch:
        if isinstance(target, int):
            return session.get(CommodityBatch, target)
        if target is None:
            raise UserError(tr("Choose a commodity batch first."))
        return release_view.commodity(session, target)

    def pack(self, batch_no: str, spec: str, units, *, label_checked: bool = True,
             packed_from: dt.datetime | None = None, packed_to: dt.datetime | None = None, team: str | None = None,
             operator_id: int | None = None) -> None:
        """Pack ``units`` of ``spec`` from the completed batch ``batch_no``, then show the new lot."""
        operator_id = operator_id or self.packing.operator.current_id()

        def write(session):
            batch, found = release_view.packing(session, batch_no, spec)
            end = packed_to or now(session)
            return distribution.pack(session, batch, found, units, {
                "packed_from": packed_from or end - dt.timedelta(hours=1), "packed_to": end, "team": team,
                "label_checked": label_checked, "operator_id": operator_id,
            }).id

        self.submit(write, self.packing.error, next_key=lambda new_id: new_id)

    def inspect_release(self, lot_code: str | None, *, passed: bool = True, items: list[dict] | None = None,
                        label_passed: bool | None = None, label_notes: str | None = None,
                        sample_quantity: str | None = None) -> None:
        """Record the release inspection with the label check (G§40). Without
        ``items`` the panel's items are used, their results filled in as
        conforming (``passed``) or not."""
        if items is None:
            result = tr("Conforms to the requirement") if passed else tr("Does not conform to the requirement")
            items = self.inspection.rows(fill_result=result, verdict="pass" if passed else "fail")
        label_passed = passed if label_passed is None else label_passed
        target = self._lot(lot_code)
        values = {"kind": "release", "inspector_id": self.inspection.inspector.current_id(),
                  "reviewer_id": self.inspection.reviewer.current_id(), "label_check_passed": label_passed,
                  "label_check_notes": label_notes, "sample_quantity": sample_quantity}

        def write(session):
            commodity = self._resolve(session, target)
            quality.inspect(session, dict(values, commodity_batch_id=commodity.id, sampled_at=now(session)), items)
            return commodity.id

        self.submit(write, self.inspection.error, next_key=lambda commodity_id: commodity_id)

    def release(self, lot_code: str | None, *, by: int | None = None) -> None:
        target, by = self._lot(lot_code), by or self.releaser.current_id()

        def write(session):
            commodity = self._resolve(session, target)
            distribution.release(session, commodity, by=by)
            return commodity.id

        self.submit(write, self.release_error, next_key=lambda commodity_id: commodity_id)

    def confirm_delivery(self, delivery_no: str, confirmation_no: str, confirmed_on: dt.date, confirmed_by: str) -> None:
        """The buyer's signed 交付确认单 for one delivery of the shown batch."""
        target = self._lot(None)

        def write(session):
            delivery = release_view.delivery(session, delivery_no)
            distribution.confirm_delivery(session, delivery, confirmation_no, confirmed_on, confirmed_by)
            return self._resolve(session, target).id

        self.submit(write, self.delivery.confirm_error, next_key=lambda commodity_id: commodity_id)

    def deliver(self, lot_code: str | None, customer_name: str, units, *, sale_date: dt.date | None = None,
                clerk_id: int | None = None, cold_chain: str | None = None, vehicle: str | None = None) -> None:
        target, clerk_id = self._lot(lot_code), clerk_id or self.delivery.clerk.current_id()

        def write(session):
            commodity = self._resolve(session, target)
            customer = release_view.customer(session, customer_name)
            distribution.deliver(session, commodity, customer, units, {
                "sale_date": sale_date or today(session), "clerk_id": clerk_id, "cold_chain": cold_chain,
                "vehicle": vehicle,
            })
            return commodity.id

        self.submit(write, self.delivery.error, next_key=lambda commodity_id: commodity_id)
