"""R7.3: the counts the upload and statistics page shows — archives, batches,
recent deliveries and the things that need attention — as plain data."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, or_, select

from app.ledgers.choices import DOCUMENT_KIND
from app.models import Archive, CCPReading, Delivery, MaterialLot, ProductBatch

from .common import today
from .suppliers import expiring_documents

WINDOW_DAYS = 30


def statistics(session) -> dict:
    """Counts for the page, as plain data."""
    day = today(session)
    soon = day + dt.timedelta(days=WINDOW_DAYS)
    # An old "closed" archive was never sealed by two people: it counts as open.
    status = case((Archive.status == "sealed", "sealed"), else_="open")
    archives = session.execute(select(Archive.kind, status, func.count()).group_by(Archive.kind, status))
    batches = session.execute(select(ProductBatch.status, func.count()).group_by(ProductBatch.status))

    def count(model, *conditions) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*conditions))

    documents = [
        {"supplier": d.supplier.name, "kind": DOCUMENT_KIND.get(d.kind, d.kind), "number": d.number,
         "valid_to": d.valid_to}
        for d in expiring_documents(session, WINDOW_DAYS)
    ]
    return {
        "today": day,
        "archives": {(kind, status): n for kind, status, n in archives},
        "batches": dict(batches.all()),
        "deliveries": count(Delivery, Delivery.sale_date > day - dt.timedelta(days=WINDOW_DAYS),
                            Delivery.sale_date <= day),
        "open_deviations": count(CCPReading, CCPReading.deviation.is_(True), or_(
            CCPReading.corrective_action.is_(None), func.trim(CCPReading.corrective_action) == "")),
        "expiring_lots": count(MaterialLot, MaterialLot.status == "available", MaterialLot.quantity_on_hand > 0,
                               MaterialLot.expiry_date.is_not(None), MaterialLot.expiry_date <= soon),
        "expiring_licences": len(documents),
        "documents": documents,
    }
