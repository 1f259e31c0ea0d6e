"""The derived search indexes (app.search_index) agree with the ledger
declarations, and a search through them finds what a LIKE over the columns
finds, on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm)."""

from __future__ import annotations

import pytest
from sqlalchemy import or_

from app import search_index
from app.ledgers import ledger
from app.services import common
from app.services.ledger_query import Filters, LedgerQuery

from .builders import lot, plant


@pytest.mark.parametrize("table", sorted(search_index.SEARCHED))
def test_the_index_covers_the_ledgers_own_searched_columns(table):
    query = LedgerQuery(ledger(table))
    own = {f.name for f in query.searched_fields() if f.kind != "ref"}
    assert set(search_index.SEARCHED[table]) == own
    assert set(search_index.SORTED[table]) <= set(ledger(table).field_names)


def _ids(session, table: str, term: str) -> list[int]:
    query = LedgerQuery(ledger(table), session.get_bind().dialect.name)
    return session.scalars(query.ids(Filters(term), *query.default_sort())).all()


def _like_ids(session, table: str, term: str) -> list[int]:
    """The search as it was: a case-blind LIKE over every searched column."""
    query = LedgerQuery(ledger(table), session.get_bind().dialect.name)
    statement = query.ids(Filters(), *query.default_sort())
    conditions = [query._matches(f, term) for f in query.searched_fields()]
    return session.scalars(statement.where(or_(*conditions))).all()


def test_a_search_through_the_index_finds_what_like_finds(session):
    p = plant(session)
    soy = lot(session, p, p.soy, supplier_lot="SUP-Ab%9_x")
    lot(session, p, p.sugar, supplier_lot="other-7")
    session.flush()
    receipt = session.get(type(soy.receipt), soy.receipt_id)
    for term in ("SUP", "sup-ab", "Ab%9_", "%9_x", "其他", soy.lot_no, soy.lot_no[-5:], "p-a", "zzz", 'a"b'):
        for table in ("incoming_inspection", "material_lot", "stock_movement"):
            assert _ids(session, table, term) == _like_ids(session, table, term), (table, term)
    assert receipt.id in _ids(session, "incoming_inspection", "sup-ab%9")
    # A row changed after it was indexed is found by its new text only (the triggers keep it).
    common.amend(session, receipt, {"remarks": "复检合格 RECHECK-42"}, "补记")
    assert _ids(session, "incoming_inspection", "check-4") == [receipt.id]
    assert _ids(session, "incoming_inspection", "复检合格") == [receipt.id]
