"""Alembic migrations, shipped inside the package and run from code at start-up."""

from __future__ import annotations

from alembic.config import Config
from sqlalchemy.engine import Connection

from app.paths import migrations_dir


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config
