"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db import has_schema, make_engine, upgrade
from app.migrations import alembic_config
from app.models import Base
from app.search_index import include_object


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_creates_and_downgrade_removes_everything(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    assert not has_schema(engine)
    upgrade(engine)
    upgrade(engine)  # a second start-up changes nothing
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]


def test_sqlite_pragmas_on_every_connection(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert (pragma("foreign_keys"), pragma("journal_mode"), pragma("synchronous")) == (1, "wal", 2)
