"""The SQL of a ledger's table (app.services.ledger_query), without Qt; the
table model on top of it is tested in tests/gui/test_ledger_page.py."""

from __future__ import annotations

from app.ledgers import registry
from app.services.ledger_query import LedgerQuery


def test_every_ledger_has_something_to_search():
    assert all(len(LedgerQuery(declared).searched_fields()) >= 2 for declared in registry().values())
