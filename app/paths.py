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


def log_folder() -> Path:
    """Where the log belongs (not created: see ``app.log.setup``)."""
    return Path(user_log_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    path = log_folder()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "foodarchive.db"


def chosen_database(value: str | None) -> tuple[str, bool]:
    """The database URL ``--db`` (or ``FOODARCHIVE_DB``, or the default) names,
    and whether it may be created when missing: only the default database is
    made on first use; any other path must exist (``init`` makes it)."""
    explicit = value or os.environ.get("FOODARCHIVE_DB")
    if explicit:
        return db_url_from(explicit), False
    try:
        return db_url_from(None), True
    except OSError as exc:
        from app.errors import UserError
        from app.problems import file_problem

        folder = Path(user_data_dir(APP_NAME, APP_AUTHOR))
        raise UserError(file_problem(exc, folder, "无法建立数据文件夹") + "也可以用 --db 指定别处的数据库文件。") from exc


def db_url_from(value: str | None) -> str:
    """Accept a file path or an SQLAlchemy URL (``--db`` / ``FOODARCHIVE_DB``)."""
    value = value or os.environ.get("FOODARCHIVE_DB") or str(default_db_path())
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def migrations_dir() -> Path:
    return Path(str(resources.files("app") / "migrations"))
