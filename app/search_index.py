"""Derived indexes that let a ledger of a million rows answer a text search
and a sort without reading every row (issue 18).

* SQLite: one FTS5 table per big ledger, ``<table>_search``, with the
  ``trigram`` tokenizer over the ledger's own text columns (external content:
  the index only, no copy of the text), kept current by triggers. A search of
  three characters or more is a ``MATCH`` on it; the trigram tokenizer cannot
  answer one or two characters (see ``app.services.ledger_query``).
* PostgreSQL: the ``pg_trgm`` extension and a GIN trigram index on each of
  those columns: the ILIKE the search already is then uses them.
* Both: B-tree indexes on the columns a user sorts a big ledger by.

Nothing here is part of the ORM metadata: these are derived and can be
rebuilt at any time. ``install`` creates them (migration 0011); ``repair``
puts back what a later migration may have dropped (SQLite's batch mode copies
a table and loses its triggers) and runs after every upgrade.
``include_object`` keeps Alembic's comparisons from reporting them.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger("db")

SUFFIX = "_search"
PREFIX = "search_"  # of every derived index

# The text columns of each big ledger that its search reads (the ledger's own
# text fields and its number; references are searched in the tables they name).
# Frozen here, not derived from app.ledgers: a migration must not change with the
# code; tests/unit/test_search_index.py checks that the declarations still agree.
SEARCHED: dict[str, tuple[str, ...]] = {
    "delivery": ("delivery_no", "certificate_no", "confirmation_no", "confirmed_by", "cold_chain", "vehicle", "paper_ref",
                 "remarks"),
    "stock_movement": ("note",),
    "feeding": ("unit", "method"),
    "ccp_reading": ("corrective_action",),
    "commodity_batch": ("lot_code", "brand", "team", "certificate_no", "paper_ref", "remarks"),
    "product_batch": ("batch_no", "team", "production_order", "unit", "by_products", "paper_ref", "remarks"),
    "incoming_inspection": (
        "receipt_no", "spec", "unit", "supplier_lot", "certificate_kind", "certificate_no", "quarantine_cert_no",
        "import_cert_no", "gmo_cert_no", "trace_code", "carried_over_additives", "contaminant_values",
        "own_sample_base", "own_sampling_method", "own_sample_size", "own_test_summary", "paper_ref", "remarks"),
    "finished_goods_movement": ("status", "received_by"),
    "material_lot": ("lot_no", "supplier_lot", "unit"),
}

# Columns a user sorts a big ledger by that no other index serves (dates,
# numbers and references are indexed by the models already).
SORTED: dict[str, tuple[str, ...]] = {
    "delivery": ("units", "certificate_no", "confirmation_no", "confirmed", "cold_chain", "vehicle"),
    "stock_movement": ("quantity", "kind"),
    "feeding": ("quantity", "fed_at"),
    "ccp_reading": ("measured_at", "value"),
    "commodity_batch": ("units", "status"),
    "product_batch": ("status", "output_quantity"),
    "incoming_inspection": ("quantity", "decision"),
    "finished_goods_movement": ("units",),
    "material_lot": ("quantity_on_hand", "status"),
}


def search_table(table: str) -> str:
    return table + SUFFIX


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's comparisons: leave the derived tables and indexes out."""
    if type_ == "table" and name and (name.endswith(SUFFIX) or SUFFIX + "_" in name):
        return False
    if type_ == "index" and name and name.startswith(PREFIX):
        return False
    return True


# ------------------------------------------------------------------ SQLite


def _sqlite_ddl(table: str) -> list[str]:
    columns = SEARCHED[table]
    fts = search_table(table)
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts}(rowid, {listed}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({listed}, content='{table}', content_rowid='id', "
        "tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        # Only a change of a searched column touches the index (stock, status… do not).
        f"CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF {listed} ON {table} BEGIN {delete} {insert} END",
    ]


def _sqlite_missing(connection: Connection, table: str) -> bool:
    fts = search_table(table)
    names = {row[0] for row in connection.execute(text(
        "SELECT name FROM sqlite_master WHERE name IN (:t, :i, :d, :u)"),
        {"t": fts, "i": f"{fts}_insert", "d": f"{fts}_delete", "u": f"{fts}_update"})}
    return len(names) < 4


def _sort_indexes(connection: Connection) -> None:
    for table, columns in SORTED.items():
        for column in columns:
            connection.execute(text(f"CREATE INDEX IF NOT EXISTS {PREFIX}{table}_{column} ON {table} ({column}, id)"))


# ------------------------------------------------------------------ PostgreSQL


def _postgres_trigram(connection: Connection) -> bool:
    """pg_trgm, if this database may have it; without it the search still works, slower."""
    savepoint = connection.begin_nested()
    try:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except Exception as exc:  # noqa: BLE001 — no right to create it: say so, go on without
        savepoint.rollback()
        log.warning("pg_trgm is not available (%s): ledger searches read every row", exc)
        return False
    savepoint.commit()
    return True


# ------------------------------------------------------------------ both


def install(connection: Connection) -> None:
    """Create every derived index that is missing, and fill the new ones."""
    if connection.dialect.name == "sqlite":
        for table in SEARCHED:
            if _sqlite_missing(connection, table):
                fts = search_table(table)
                for statement in (f"DROP TRIGGER IF EXISTS {fts}_{name}" for name in ("insert", "delete", "update")):
                    connection.execute(text(statement))
                for statement in _sqlite_ddl(table):
                    connection.execute(text(statement))
                connection.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"))
                log.info("search index %s built", fts)
    elif connection.dialect.name == "postgresql" and _postgres_trigram(connection):
        for table, columns in SEARCHED.items():
            for column in columns:
                connection.execute(text(
                    f"CREATE INDEX IF NOT EXISTS {PREFIX}{table}_{column}_trgm ON {table} "
                    f"USING gin ({column} gin_trgm_ops)"))
    _sort_indexes(connection)


repair = install  # after an upgrade: the same, and cheap when nothing is missing


def drop(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for table in SEARCHED:
            fts = search_table(table)
            for name in ("insert", "delete", "update"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {fts}_{name}"))
            connection.execute(text(f"DROP TABLE IF EXISTS {fts}"))
    elif connection.dialect.name == "postgresql":
        for table, columns in SEARCHED.items():
            for column in columns:
                connection.execute(text(f"DROP INDEX IF EXISTS {PREFIX}{table}_{column}_trgm"))
    for table, columns in SORTED.items():
        for column in columns:
            connection.execute(text(f"DROP INDEX IF EXISTS {PREFIX}{table}_{column}"))

