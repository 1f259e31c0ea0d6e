from sqlalchemy import select, text

from app.models import AuditEntry, Customer
from app.services import audit


def test_insert_is_audited_and_verifies(session):
    session.add(Customer(name="上海某超市", address="上海市", phone="021-12345678"))
    session.flush()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "customer")).all()
    assert [e.action for e in entries] == ["insert"]
    assert audit.verify(session.connection()) == []


def test_direct_sql_edit_is_found(session):
    c = Customer(name="上海某超市", address="上海市", phone="021-12345678")
    session.add(c)
    session.flush()
    session.execute(text("UPDATE customer SET phone = '000' WHERE id = :id"), {"id": c.id})
    findings = audit.verify(session.connection())
    assert any(f.table_name == "customer" and f.row_id == c.id and "修改" in f.message for f in findings)
