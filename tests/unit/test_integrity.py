"""R5.1–R5.2: locked records, amendments, the append-only chained audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.errors import RecordLocked, UserError
from app.models import Amendment, AuditEntry
from app.services import audit, common

from .builders import lot, plant


def test_submitted_record_cannot_be_changed_directly(session):
    p = plant(session)
    receipt = lot(session, p, p.soy).receipt
    assert receipt.locked
    savepoint = session.begin_nested()
    receipt.supplier_lot = "CHANGED"
    with pytest.raises(RecordLocked) as err:
        session.flush()
    assert receipt.receipt_no in err.value.message and "更正" in err.value.message
    savepoint.rollback()


def test_amendment_keeps_original_who_when_why(session):
    p = plant(session)
    receipt = lot(session, p, p.soy, supplier_lot="HLJ-1").receipt
    session.info["actor"] = "质量负责人"
    common.amend(session, receipt, {"supplier_lot": "HLJ-2"}, "供应商随货单据批号笔误，按原始单据更正")
    amendment = session.scalars(select(Amendment).where(Amendment.row_id == receipt.id)).one()
    assert (amendment.field, amendment.old_value, amendment.new_value) == ("supplier_lot", "HLJ-1", "HLJ-2")
    assert amendment.created_by == "质量负责人" and "笔误" in amendment.reason
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.table_name == "incoming_inspection", AuditEntry.action == "update")
    ).all()[-1]
    assert entry.actor == "质量负责人" and "笔误" in entry.reason and '"HLJ-2"' in entry.data
    assert audit.verify(session.connection()) == []


def test_amendment_needs_a_reason_and_valid_values(session):
    p = plant(session)
    receipt = lot(session, p, p.soy).receipt
    with pytest.raises(UserError, match="更正理由"):
        common.amend(session, receipt, {"supplier_lot": "X"}, "  ")
    with pytest.raises(UserError, match="「数量」"):
        common.amend(session, receipt, {"quantity": "-1"}, "录入错误")


def test_every_write_is_chained(session):
    plant(session)
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert len(entries) >= 15
    for before, after in zip(entries, entries[1:]):
        assert after.prev_hash == before.hash
    assert {e.action for e in entries} >= {"insert", "update"}


def test_audit_log_rejects_update_and_delete_in_the_database(session):
    plant(session)
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        savepoint = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        savepoint.rollback()


def test_verify_finds_rows_changed_added_or_removed_outside(session):
    p = plant(session)
    assert audit.verify(session.connection()) == []
    session.execute(text("UPDATE customer SET phone = '13800000000' WHERE id = :id"), {"id": p.customer.id})
    session.execute(text("DELETE FROM product_spec WHERE id = :id"), {"id": p.bottle.id})
    session.execute(text("INSERT INTO production_line (code, name, automated) VALUES ('X1', '私接生产线', false)"))
    messages = [f.message for f in audit.verify(session.connection())]
    assert any("客户" in m and "修改" in m for m in messages)
    assert any("产品规格" in m and "删除" in m for m in messages)
    assert any("生产线" in m and "不是经本软件写入" in m for m in messages)


def test_amending_a_receipt_carries_to_its_lot_or_is_refused(session):
    from decimal import Decimal

    from app.services import production

    p = plant(session)
    soy = lot(session, p, p.soy, quantity="100", supplier_lot="HLJ-1")
    common.amend(session, soy.receipt, {"quantity": "120", "supplier_lot": "HLJ-9"}, "按随货单据更正")
    assert (soy.quantity_received, soy.quantity_on_hand, soy.supplier_lot) == (Decimal(120), Decimal(120), "HLJ-9")
    assert audit.verify(session.connection()) == []
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    production.feed_lot(session, batch, soy, "10", operator_id=p.person.id)
    with pytest.raises(UserError, match="已有领用"):
        common.amend(session, soy.receipt, {"quantity": "90"}, "再次更正")
    with pytest.raises(UserError, match="查验结论"):
        common.amend(session, soy.receipt, {"decision": "rejected"}, "改判")
