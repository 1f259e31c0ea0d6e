"""Where the application keeps its data, and where it finds its resources.

Resources are read through importlib.resources so a frozen build finds them
too; nothing is resolved against the working directory.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from platformdirs import user_data_dir, user_log_dir

APP_NAME = "FoodArchive"
APP_AUTHOR = "FoodArchive"


def data_dir() -> Path:
    path = Path(user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    path = Path(user_log_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "foodarchive.db"


def db_url_from(value: str | None) -> str:
    """Accept a file path or an SQLAlchemy URL (``--db`` / ``FOODARCHIVE_DB``)."""
    value = value or os.environ.get("FOODARCHIVE_DB") or str(default_db_path())
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def migrations_dir() -> Path:
    return Path(str(resources.files("app") / "migrations"))
