"""The audit log's append-only triggers (R5.1): which are missing, and their restoration.

Migration 0001 created them; anyone holding the database file (or a
PostgreSQL owner) can drop or disable them and then rewrite the log. Every
start puts them back (app/db.py) and says so, and ``verify`` reports their
absence — the chain's hashes and its anchors (app/services/anchors.py) show
what was done while they were gone.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger("db")

_SQLITE = {
    f"audit_log_no_{verb.lower()}": (
        f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    for verb in ("UPDATE", "DELETE")
}
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
)
_PG_TRIGGER = (
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
    "ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
)


def _normal(sql: str) -> str:
    return " ".join(sql.split()).lower()


def missing(connection: Connection) -> list[str]:
    """The triggers that are absent, disabled or no longer refuse anything."""
    if connection.dialect.name == "sqlite":
        found = dict(connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")).all())
        return [name for name, sql in _SQLITE.items() if _normal(found.get(name) or "") != _normal(sql)]
    row = connection.execute(text(
        "SELECT t.tgenabled, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE t.tgrelid = to_regclass('audit_log') AND t.tgname = 'audit_log_append_only'")).first()
    intact = row is not None and row.tgenabled in ("O", "A") and "raise exception" in _normal(row.prosrc)
    return [] if intact else ["audit_log_append_only"]


def restore(connection: Connection) -> list[str]:
    """Put back the triggers that are missing; return their names (empty: all were there)."""
    gone = missing(connection)
    if not gone:
        return []
    create(connection, gone)
    log.warning("the audit log's append-only triggers were missing and are restored: %s", ", ".join(gone))
    return gone


def create(connection: Connection, names: list[str]) -> None:
    """(Re)create the named triggers; migration 0017 does, after rebuilding the log."""
    gone = names
    if connection.dialect.name == "sqlite":
        for name in gone:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            connection.execute(text(_SQLITE[name]))
    else:
        connection.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))
        connection.execute(text(_PG_FUNCTION))
        connection.execute(text(_PG_TRIGGER))
