"""A packaging lot reaches batches through packaging records: a recall of a
bottle lot must find the batches, commodity batches and customers it reached."""

from __future__ import annotations

from app.services import common, distribution, production, trace

from .builders import lot, plant, released_commodity


def test_packaging_lot_traces_forward_and_backward(session):
    p = plant(session)
    bottles = common.create(session, "material", dict(code="M010", name="PET瓶 250mL", category="packaging", unit="只"))
    licence = next(d for d in p.supplier.documents if d.number == "SC10123010000011")
    from app.models import SupplierDocumentMaterial

    session.add(SupplierDocumentMaterial(document_id=licence.id, material_id=bottles.id))
    session.flush()
    session.refresh(licence, ["covered"])
    bottle_lot = lot(session, p, bottles, quantity="500", unit="只", supplier_lot="PET-7")
    commodity = released_commodity(session, p, lot(session, p, p.soy))
    batch = commodity.product_batch
    production_record = dict(
        material_lot_id=bottle_lot.id, issued="120", used="100", wasted="2",
        recorded_at="2026-11-19 10:00", operator_id=p.person.id,
    )
    production.add_record(session, "packaging_record", batch, production_record)
    distribution.deliver(session, commodity, p.customer, 10, dict(sale_date="2026-11-20", clerk_id=p.person.id))

    forward = trace.trace(session, "PET-7", "forward").to_json()
    assert [b["batch_no"] for b in forward["product_batches"]] == [batch.batch_no]
    assert [c["name"] for c in forward["customers"]] == [p.customer.name]
    backward = trace.trace(session, commodity.lot_code, "backward").to_json()
    assert bottle_lot.lot_no in {entry["lot_no"] for entry in backward["material_lots"]}
