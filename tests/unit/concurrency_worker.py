"""One PC of the concurrency suite (tests/unit/test_concurrency.py), run in a
process of its own (multiprocessing, spawn): it opens the shared database as
the program does and feeds, receives, sells and numbers, each in a writing
session of its own, at the same time as the other PCs.

Every outcome is reported, nothing is raised: ("ok", what) for a save,
("refused", what, message) for a UserError (the over-issue checks), and
("internal", what, traceback) for anything else (a deadlock, "database is
locked", a duplicate number), which the suite counts as a failure."""

from __future__ import annotations

import traceback
from decimal import Decimal

# What each PC does, in rounds (the suite computes the expected totals from it).
ROUNDS = 3
FEED_KG = Decimal("7")  # from the shared soy lot, per round
SELL_UNITS = 3  # from the shared released commodity batch, per round
MIX_KG = Decimal("6")  # from the shared completed base batch, per round
RECEIPTS = 1  # new deliveries received (numbered) in the first rounds


def run(url: str, pc: int, ids: dict, start, results) -> None:
    from app.db import make_engine, make_sessionmaker
    from app.errors import UserError
    from app.models import CommodityBatch, Customer, MaterialLot, ProductBatch
    from app.services import acting, distribution, production, receiving

    engine = make_engine(url)
    sessions = make_sessionmaker(engine, acting.system(f"电脑{pc}"))
    outcomes = []

    def attempt(what: str, work) -> None:
        try:
            with sessions.begin() as session:
                work(session)
            outcomes.append(("ok", what))
        except UserError as exc:
            outcomes.append(("refused", what, exc.message))
        except Exception:  # noqa: BLE001 — reported to the suite, which fails on it
            outcomes.append(("internal", what, traceback.format_exc()))

    def feed(session):
        batch, lot = session.get(ProductBatch, ids["open_batch"]), session.get(MaterialLot, ids["soy_lot"])
        production.feed_lot(session, batch, lot, FEED_KG, operator_id=ids["person"])

    def sell(session):
        commodity, customer = session.get(CommodityBatch, ids["commodity"]), session.get(Customer, ids["customer"])
        distribution.deliver(session, commodity, customer, SELL_UNITS,
                             dict(sale_date="2026-11-21", clerk_id=ids["person"]))

    def mix(session):
        batch, source = session.get(ProductBatch, ids["open_batch"]), session.get(ProductBatch, ids["base_batch"])
        production.feed_batch(session, batch, source, MIX_KG, operator_id=ids["person"])

    def receive(session):
        receiving.receive(session, dict(ids["receipt"], supplier_lot=f"PC{pc}"))

    try:
        start.wait(60)  # every PC starts its first save together
        for round_no in range(ids.get("rounds", ROUNDS)):  # more in the measurement of docs/reliability.md
            attempt("feed", feed)
            attempt("sell", sell)
            attempt("mix", mix)
            if round_no < ids.get("receipts", RECEIPTS):
                attempt("receive", receive)
    finally:
        results.put((pc, outcomes))
        engine.dispose()
