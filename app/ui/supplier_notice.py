"""The receipt form says why the chosen supplier may not deliver as soon as
supplier (and material) are chosen, not after the whole form is typed.

The words are ``services.suppliers.delivery_notice``: the refusal saving
would give (the same ``status_refusal`` and ``licence_refusal`` that
``check_can_deliver`` raises), and warnings that do not refuse (a
re-evaluation overdue, a licence running out). Read on the task runner.
"""

from __future__ import annotations

import datetime as dt
import logging

import shiboken6
from PySide6.QtWidgets import QLabel, QWidget

from app.services import suppliers

from .context import AppContext
from .forms import LedgerForm

log = logging.getLogger("ui")

REFUSED_STYLE = "color: #b3261e; background: #fde2e0; border: 1px solid #e8a39d; border-radius: 3px; padding: 6px;"
WARNING_STYLE = "color: #8a4b00; background: #fff1c2; border: 1px solid #f0c36d; border-radius: 3px; padding: 6px;"
WATCHED = ("supplier_id", "material_id", "receipt_date")


class SupplierNotice(QLabel):
    def __init__(self, ctx: AppContext, form: LedgerForm, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.form = form
        self.setObjectName("supplierNotice")
        self.setWordWrap(True)
        self.hide()
        self.refused = False
        self._asked: tuple = (None, None, None)
        self._number = 0
        form.changed.connect(self.check)

    def _wanted(self) -> tuple:
        values = self.form.values()
        supplier_id, material_id = values.get("supplier_id"), values.get("material_id")
        try:
            day = dt.date.fromisoformat(str(values.get("receipt_date") or "").strip().replace("/", "-"))
        except ValueError:
            day = None
        # Typed text that names no entry yet is not a choice.
        return (supplier_id if isinstance(supplier_id, int) else None,
                material_id if isinstance(material_id, int) else None, day)

    def check(self) -> None:
        wanted = self._wanted()
        if wanted == self._asked:
            return
        self._asked = wanted
        self._number += 1
        if wanted[0] is None:  # no supplier chosen: nothing to say, nothing to read
            self._show(self._number, suppliers.DeliveryNotice(None, None))
            return
        number, sessions = self._number, self.ctx.sessions

        def read(_progress):
            with sessions() as session:
                return suppliers.delivery_notice(session, *wanted)

        self.ctx.runner.run(read, lambda notice: self._show(number, notice), self._failed)

    def _show(self, number: int, notice: suppliers.DeliveryNotice) -> None:
        if not shiboken6.isValid(self) or number != self._number:
            return  # closed, or the choice changed again meanwhile
        self.refused = notice.refusal is not None
        lines = ([notice.refusal] if notice.refusal else []) + list(notice.warnings)
        self.setText("\n".join(lines))
        self.setStyleSheet(REFUSED_STYLE if self.refused else WARNING_STYLE)
        self.setVisible(bool(lines))

    def _failed(self, error: BaseException) -> None:
        # Only a hint: saving checks again and says so if something is wrong.
        log.warning("supplier notice could not be read: %s", error)
