"""Saving a row entered on a form through the right service
(app.services.entry), on the demo factory (no Qt)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import open_database
from app.errors import UserError
from app.models import Customer, Feeding
from app.services import acting, entry


@pytest.fixture(scope="module")
def sessions(demo_db_file):
    """The session's demo database; these tests write nothing (every session is rolled back)."""
    engine, Session = open_database(f"sqlite:///{demo_db_file[0]}", actor=acting.system("tester"))
    yield Session
    engine.dispose()


def count(sessions, model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_rows_made_by_workflows_are_refused_with_the_screen(sessions):
    assert entry.creatable("customer") and entry.creatable("incoming_inspection")
    assert not entry.creatable("feeding")
    # An inspection has its entry window (items with the report): New opens it; no sheet imports one.
    assert entry.creatable("inspection") and not entry.plain_form("inspection")
    with sessions() as session, pytest.raises(UserError, match="批次工作台"):
        entry.save_new(session, "feeding", {})
    assert "进货查验记录" in entry.refusal("material_lot")
    assert count(sessions, Feeding) > 0


def test_a_duplicate_number_is_an_error_at_its_field(sessions):
    with sessions() as session:
        name = session.scalar(select(Customer.name).limit(1))
    with sessions() as session, pytest.raises(UserError) as caught:
        entry.save_new(session, "customer", {"name": name, "address": "上海", "phone": "021-1"})
    assert caught.value.errors[0].field == "name"


def test_finished_goods_movement_keeps_the_running_stock(sessions):
    from app.models import CommodityBatch, FinishedGoodsMovement, Person, Warehouse

    with sessions() as session:
        # the newest: the demo factory has sealed the archives of the months before
        commodity = session.scalar(select(CommodityBatch).where(CommodityBatch.status == "released")
                                   .order_by(CommodityBatch.id.desc()).limit(1))
        store = session.scalar(select(Warehouse).where(Warehouse.kind == "finished").limit(1))
        person = session.scalar(select(Person.id).limit(1))
        values = dict(
            commodity_batch_id=commodity.id, warehouse_id=store.id, moved_at="2026-11-20 09:00",
            status="合格待售", handed_over_by=person,
        )
        last = session.scalar(
            select(FinishedGoodsMovement.balance).where(
                FinishedGoodsMovement.commodity_batch_id == commodity.id, FinishedGoodsMovement.warehouse_id == store.id
            ).order_by(FinishedGoodsMovement.id.desc()).limit(1)
        ) or 0
        row_id = entry.save_new(session, "finished_goods_movement", dict(values, kind="in", units="7"))
        assert session.get(FinishedGoodsMovement, row_id).balance == last + 7
        with pytest.raises(UserError, match="超过"):
            entry.save_new(session, "finished_goods_movement", dict(values, kind="out", units=str(last + 8)))
        with pytest.raises(UserError, match="「出入库类别」不能为空"):
            entry.save_new(session, "finished_goods_movement", dict(values, units="1"))
        session.rollback()
