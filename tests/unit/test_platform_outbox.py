"""R6.1: finalising a record queues it for the platform in the same
transaction, with a key that never changes (both databases)."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.models import Enterprise, OutboxEntry
from app.platform import outbox, profile
from app.services import common, distribution, entry, receiving

from .builders import lot, plant, receipt_values, released_commodity


def queued(session, kind=None):
    query = select(OutboxEntry).order_by(OutboxEntry.id)
    if kind:
        query = query.where(OutboxEntry.kind == kind)
    session.expire_all()
    return session.scalars(query).all()


def test_accepted_receipt_is_queued_with_the_article_50_fields(session):
    p = plant(session)
    receipt = receiving.receive(session, receipt_values(p, p.soy, supplier_lot="HLJ-1"))
    (row,) = queued(session, "purchase")
    assert (row.source_table, row.source_id, row.version, row.status) == ("incoming_inspection", receipt.id, 1, "pending")
    assert row.idempotency_key == f"incoming_inspection-{receipt.id}-v1" and row.label == receipt.receipt_no
    data = json.loads(row.payload)
    # Food Safety Law art. 50: name, spec, quantity, production date or batch, shelf life,
    # receipt date, supplier name, address, contact.
    assert data["goods_name"] == "非转基因大豆" and data["quantity"] == "1000" and data["unit"] == "kg"
    assert (data["production_date"], data["batch_no"], data["shelf_life_days"]) == ("2026-11-01", "HLJ-1", 180)
    assert (data["receipt_date"], data["supplier_name"], data["supplier_address"]) == ("2026-11-10", "黑龙江某粮油有限公司", "黑龙江省哈尔滨市")
    assert data["enterprise_credit_code"] == session.scalar(select(Enterprise.credit_code))
    assert {"supplier_contact", "supplier_phone", "goods_spec"} <= set(profile.load().message("purchase").fields)


def test_rejected_receipt_is_not_a_purchase(session):
    p = plant(session)
    receiving.receive(session, receipt_values(p, p.soy, decision="rejected"))
    assert queued(session, "purchase") == []


def test_a_rollback_takes_the_outbox_row_with_it(session):
    p = plant(session)
    before = len(queued(session))
    savepoint = session.begin_nested()
    receiving.receive(session, receipt_values(p, p.soy))
    assert len(queued(session)) == before + 1
    savepoint.rollback()
    assert len(queued(session)) == before


def test_delivery_is_queued_with_the_article_51_fields(session):
    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy))
    delivery = distribution.deliver(session, commodity, p.customer, 10, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    (row,) = queued(session, "sale")
    data = json.loads(row.payload)
    assert row.label == delivery.delivery_no
    # Art. 51: name, spec, quantity, production date or batch, shelf life,
    # inspection certificate number, sale date, buyer name, address, contact.
    assert (data["product_name"], data["product_spec"], data["quantity"]) == ("原味豆浆", "250mL", 10)
    assert (data["batch_no"], data["production_date"], data["shelf_life_days"]) == (commodity.lot_code, "2026-11-19", 7)
    assert data["certificate_no"] == commodity.certificate_no and data["sale_date"] == "2026-11-20"
    assert (data["buyer_name"], data["buyer_address"], data["buyer_phone"]) == ("联华超市浦东店", "上海市浦东新区", "021-50000000")


def test_enterprise_change_rewrites_a_pending_row_and_versions_a_sent_one(session):
    p = plant(session)
    (first,) = queued(session, "enterprise")
    enterprise_id = first.source_id
    entry.amend(session, "enterprise", enterprise_id, {"phone": "021-1"})
    (row,) = queued(session, "enterprise")  # not sent yet: the same row, the same key
    assert row.idempotency_key == first.idempotency_key and json.loads(row.payload)["phone"] == "021-1"
    row.status = "acknowledged"  # as the sender would after a receipt
    session.flush()
    entry.amend(session, "enterprise", enterprise_id, {"phone": "021-2"})
    rows = queued(session, "enterprise")
    assert [(r.version, r.status) for r in rows] == [(1, "acknowledged"), (2, "pending")]
    assert rows[1].idempotency_key == f"enterprise-{enterprise_id}-v2" and json.loads(rows[1].payload)["phone"] == "021-2"
    assert json.loads(rows[0].payload)["phone"] == "021-1"  # what the platform acknowledged stays as it was
    del p


def test_an_amended_receipt_after_acknowledgement_is_sent_again_as_a_new_version(session):
    p = plant(session)
    receipt = receiving.receive(session, receipt_values(p, p.soy))
    (row,) = queued(session, "purchase")
    row.status = "acknowledged"
    session.flush()
    common.amend(session, receipt, {"certificate_no": "R-002"}, "抄错了报告编号")
    rows = queued(session, "purchase")
    assert [r.version for r in rows] == [1, 2] and json.loads(rows[1].payload)["certificate_no"] == "R-002"


def test_a_change_nobody_sees_on_the_platform_queues_nothing(session):
    p = plant(session)
    receiving.receive(session, receipt_values(p, p.soy))
    before = [(r.id, r.payload) for r in queued(session)]
    entry.amend(session, "enterprise", queued(session, "enterprise")[0].source_id, {"fonds_code": "0002"})
    assert [(r.id, r.payload) for r in queued(session)] == before


def test_recall_is_queued_when_started_and_again_when_closed(session):
    p = plant(session)
    soy = lot(session, p, p.soy)
    commodity = released_commodity(session, p, soy)
    record = distribution.recall(session, commodity.product_batch, dict(started_on="2026-11-20", reason="菌落总数超标", manager_id=p.person.id))
    (row,) = queued(session, "recall")
    assert json.loads(row.payload)["lot_codes"] == commodity.lot_code
    row.status = "acknowledged"
    session.flush()
    distribution.close_recall(session, record, regulator_opinion="同意", corrective_measures="加强杀菌")
    assert [json.loads(r.payload)["status"] for r in queued(session, "recall")] == ["open", "closed"]


def test_outbox_rows_stay_out_of_the_audit_log_and_verify_passes(session):
    from app.services import audit

    p = plant(session)
    receiving.receive(session, receipt_values(p, p.soy))
    row = queued(session, "purchase")[0]
    row.attempts = 3  # sender bookkeeping
    session.flush()
    assert audit.verify(session.connection()) == []
    assert outbox.counts(session)["pending"] == 2
    del p
