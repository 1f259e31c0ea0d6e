"""Several PCs at once (issue 15): N processes feed, receive, sell and number
on one PostgreSQL database and on one SQLite file at the same time, as the
program opens them (writing sessions, services.writing). Afterwards every
lot's stock ledger runs from its receipt through every issue to its stock,
received − issued; nothing was issued twice; every number is unique; the
audit chain holds; and the only refusals are the over-issue messages of a
stock that ran out. The assertions count outcomes, never time."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.db import make_engine, make_sessionmaker, upgrade
from app.errors import UserError
from app.models import (
    CommodityBatch,
    Delivery,
    Feeding,
    IncomingInspection,
    MaterialLot,
    ProductBatch,
    StockMovement,
)
from app.problems import explain
from app.services import acting, audit, common, entry, production, receiving

from . import concurrency_worker as worker
from .builders import base_batch, lot, plant, receipt_values, released_commodity

PCS = 4
# What the shared lot, base batch and commodity batch hold: less than the PCs
# together ask for (worker.ROUNDS × each save), so some saves must be refused.
SOY, BASE, UNITS = Decimal(60), Decimal(50), 30
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request, tmp_path):
    """An empty database of its own, upgraded: a file, or one on the live server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    from tests.conftest import _postgres_database

    admin, name, pg_url = _postgres_database()
    if admin is None:
        pytest.skip("no PostgreSQL server reachable (CI requires one)")
    url = pg_url.render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed(url: str) -> dict:
    """A plant with one lot to feed from, one base batch to mix from, one
    released commodity batch to sell, one open batch to feed into; each
    smaller than what the PCs together will ask of it."""
    engine = make_engine(url)
    with acting.Sessions(make_sessionmaker(engine), acting.system("准备")).begin() as session:
        p = plant(session)
        soy = lot(session, p, p.soy, quantity=str(SOY), supplier_lot="SHARED")
        big = lot(session, p, p.soy, quantity="1000", supplier_lot="BIG")
        commodity = released_commodity(session, p, big, units=UNITS)
        base = base_batch(session, p, big, str(BASE))
        open_batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-21"))
        ids = dict(soy_lot=soy.id, base_batch=base.id, commodity=commodity.id, open_batch=open_batch.id,
                   customer=p.customer.id, person=p.person.id, receipt=receipt_values(p, p.sugar, quantity="10"))
    engine.dispose()
    return ids


def _run_pcs(url: str, ids: dict) -> list[tuple]:
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(PCS), context.Queue()
    processes = [context.Process(target=worker.run, args=(url, pc, ids, start, results)) for pc in range(1, PCS + 1)]
    for process in processes:
        process.start()
    outcomes = []
    for _ in processes:
        _pc, done = results.get(timeout=240)
        outcomes += done
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    return outcomes


def _expected_ok(stock: Decimal, each: Decimal, attempts: int) -> int:
    return min(attempts, int(stock // each))


def test_pcs_feeding_selling_receiving_at_once_lose_nothing(shared_url):
    ids = _seed(shared_url)
    outcomes = _run_pcs(shared_url, ids)

    internal = [o for o in outcomes if o[0] == "internal"]
    assert not internal, internal[0][2]
    refused = [o for o in outcomes if o[0] == "refused"]
    # The only refusals: stock that ran out, each said in Chinese with the stock left.
    assert all("超过" in message and CHINESE.search(message) for _, _, message in refused), refused
    ok = {what: sum(1 for o in outcomes if o[:2] == ("ok", what)) for what in ("feed", "sell", "mix", "receive")}
    attempts = PCS * worker.ROUNDS
    assert ok == {
        "feed": _expected_ok(SOY, worker.FEED_KG, attempts),  # 8 of 12
        "sell": _expected_ok(Decimal(UNITS), Decimal(worker.SELL_UNITS), attempts),  # 10 of 12
        "mix": _expected_ok(BASE, worker.MIX_KG, attempts),  # 8 of 12
        "receive": PCS * worker.RECEIPTS,  # every one, each with numbers of its own
    }

    engine = make_engine(shared_url)
    try:
        with engine.connect() as connection:
            assert audit.verify(connection) == []
        with make_sessionmaker(engine)() as session:
            _assert_ledgers_balance(session, ids, ok)
    finally:
        engine.dispose()


def _assert_ledgers_balance(session, ids: dict, ok: dict) -> None:
    for material_lot in session.scalars(select(MaterialLot)):
        running = Decimal(0)
        moves = session.scalars(select(StockMovement).where(StockMovement.lot_id == material_lot.id)
                                .order_by(StockMovement.id)).all()
        for move in moves:
            running += move.quantity
            assert move.balance == running, f"lot {material_lot.lot_no}: balance {move.balance} after {running}"
        issued = -sum((m.quantity for m in moves if m.kind != "receipt"), Decimal(0))
        assert material_lot.quantity_on_hand == running == material_lot.quantity_received - issued
    soy = session.get(MaterialLot, ids["soy_lot"])
    assert soy.quantity_on_hand == SOY - ok["feed"] * worker.FEED_KG
    fed = session.scalar(select(func.coalesce(func.sum(Feeding.quantity), 0)).where(Feeding.material_lot_id == soy.id))
    assert fed == ok["feed"] * worker.FEED_KG

    base = session.get(ProductBatch, ids["base_batch"])
    mixed = session.scalar(select(func.sum(Feeding.quantity)).where(Feeding.source_batch_id == base.id))
    assert base.quantity_on_hand == base.output_quantity - mixed == BASE - ok["mix"] * worker.MIX_KG

    commodity = session.get(CommodityBatch, ids["commodity"])
    sold = session.scalar(select(func.sum(Delivery.units)).where(Delivery.commodity_batch_id == commodity.id))
    assert commodity.units_on_hand == commodity.units - sold == UNITS - ok["sell"] * worker.SELL_UNITS
    assert session.scalar(select(func.count(func.distinct(Delivery.delivery_no)))) == ok["sell"]
    numbers = session.scalars(select(IncomingInspection.receipt_no).where(IncomingInspection.supplier_lot.like("PC%"))).all()
    assert len(set(numbers)) == ok["receive"]


# ------------------------------------------------------- the locks themselves


def test_a_writing_session_holds_the_write_lock_from_its_start(shared_url, monkeypatch):
    """Taken at the begin, before anything is read: a second writer waits
    (SQLite: bounded by the busy timeout, here none, so it is refused at once
    with the message; PostgreSQL: for the chain lock), instead of the first
    one failing when it comes to write after the second committed."""
    import app.db

    monkeypatch.setattr(app.db, "SQLITE_WRITE_WAIT_SECONDS", 0)
    engine = make_engine(shared_url)
    sessions = acting.Sessions(make_sessionmaker(engine), acting.system("电脑1"))
    try:
        with sessions.begin() as session:
            session.scalar(select(func.count()).select_from(MaterialLot))  # only a read so far
            if engine.dialect.name == "sqlite":
                with pytest.raises(Exception) as refused, sessions.begin():
                    pass
                message = explain(refused.value, shared_url)
                assert "正被另一个程序使用，等了 0 秒仍未释放" in message, message
            else:
                with engine.connect() as other:
                    taken = other.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                          {"key": audit.CHAIN_LOCK}).scalar()
                assert taken is False
    finally:
        engine.dispose()


def test_a_reading_session_does_not_hold_the_write_lock(shared_url):
    engine = make_engine(shared_url)
    sessions = acting.Sessions(make_sessionmaker(engine), acting.system("电脑1"))
    try:
        with sessions() as session:
            session.scalar(select(func.count()).select_from(MaterialLot))
            if engine.dialect.name == "sqlite":
                other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
                try:
                    other.execute("BEGIN IMMEDIATE")  # would raise "database is locked"
                    other.execute("ROLLBACK")
                finally:
                    other.close()
            else:
                with engine.connect() as other:
                    assert other.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                         {"key": audit.CHAIN_LOCK}).scalar() is True
    finally:
        engine.dispose()


def test_a_number_taken_meanwhile_names_who_took_it(shared_url, monkeypatch):
    """A conflict that remains (here: a number counted before another user's
    save of it, as an old count would) says whose save took it and that
    nothing was saved; it does not tell the user the record is wrong."""
    ids = _seed(shared_url)
    engine = make_engine(shared_url)
    maker = make_sessionmaker(engine)
    try:
        with acting.Sessions(maker, acting.system("张三")).begin() as session:
            taken = receiving.receive(session, dict(ids["receipt"])).receipt_no
        monkeypatch.setattr(receiving, "next_number", lambda *_args, **_kw: taken)
        with pytest.raises(UserError) as refused, acting.Sessions(maker, acting.system("李四")).begin() as session:
            entry.save_new(session, "incoming_inspection", dict(ids["receipt"]))
        assert f"{taken} 刚被 张三 同时保存的记录占用" in refused.value.message
        assert "本次没有保存" in refused.value.message
        with maker() as session:
            assert session.scalar(select(func.count()).select_from(IncomingInspection)
                                  .where(IncomingInspection.created_by == "李四")) == 0
    finally:
        engine.dispose()


def test_the_chain_lock_comes_before_any_row_lock(shared_url):
    """The deadlock of issue 15 came from the order: row locks at the flush,
    the chain's lock after. Now, even in a session that did not begin as a
    writer, the first lock taken is the chain's: before the feeding's
    SELECT … FOR UPDATE of its lot and batch, before any INSERT or UPDATE."""
    from sqlalchemy import event

    ids = _seed(shared_url)
    engine = make_engine(shared_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_rest: statements.append(sql.upper()))
    try:
        with acting.Sessions(make_sessionmaker(engine), acting.system("电脑1"))() as session:
            batch, soy = session.get(ProductBatch, ids["open_batch"]), session.get(MaterialLot, ids["soy_lot"])
            statements.clear()  # what loading them took is no lock
            production.feed_lot(session, batch, soy, "1", operator_id=ids["person"])
            session.commit()
    finally:
        engine.dispose()
    locking = [i for i, sql in enumerate(statements)
               if "FOR UPDATE" in sql or sql.lstrip().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert locking
    if engine.dialect.name == "postgresql":
        chain = [i for i, sql in enumerate(statements) if "PG_ADVISORY_XACT_LOCK" in sql]
        assert chain and chain[0] < locking[0], statements[: locking[0] + 1]
        assert any("FOR UPDATE" in sql for sql in statements)
