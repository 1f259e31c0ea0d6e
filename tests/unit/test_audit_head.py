"""The audit chain's head is read once per transaction (issue 16: the demo
load's thousands of flushes), yet the chain holds: after many flushes, and
after a savepoint whose entries were rolled back. SQLite and PostgreSQL."""

from __future__ import annotations

from unittest import mock

from app.services import audit
from app.services.common import create


def line(session, number: int):
    return create(session, "production_line", {"code": f"L{number:02d}", "name": f"生产线{number}", "automated": False})


def test_one_read_of_the_head_per_transaction_and_the_chain_holds(session):
    real = audit._lock_chain
    with mock.patch.object(audit, "_lock_chain", side_effect=real) as read:
        for number in range(5):
            line(session, number)
        assert read.call_count <= 1
        savepoint = session.begin_nested()
        line(session, 90)
        savepoint.rollback()  # its audit entry is gone: the next one chains to the one before
        line(session, 91)
        assert read.call_count <= 2
    session.flush()
    assert audit.verify(session.connection()) == []
