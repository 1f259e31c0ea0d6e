"""Engine, the one sessionmaker, SQLite pragmas and the upgrade at start-up."""

from __future__ import annotations

import logging

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("db")


def make_engine(url: str, **kwargs) -> Engine:
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling defers BEGIN and breaks
        # SAVEPOINT; take control of it (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed record survives a power cut (R5.3).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Deferred: readers never wait. The audit chain is read only after the
        # flush has written, when this transaction already holds the write lock.
        conn.exec_driver_sql("BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # Importing the services installs the audit and guard listeners on every
    # Session: no session this module hands out can write around them.
    import app.services  # noqa: F401

    return sessionmaker(bind=engine, expire_on_commit=False)


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision."""
    from alembic import command

    from app.migrations import alembic_config

    with engine.begin() as connection:
        config = alembic_config(connection)
        command.upgrade(config, "head")
    log.info("database at head revision: %s", engine.url.render_as_string(hide_password=True))


def head_revision() -> str:
    """The newest schema revision this version of the program knows."""
    from alembic.script import ScriptDirectory

    from app.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(url)
    upgrade(engine)
    return engine, make_sessionmaker(engine)


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")
