"""Named loggers into a rotating file in the user's log folder."""

from __future__ import annotations

import logging
import logging.handlers

from app.paths import log_dir


def setup(level: int = logging.INFO) -> str:
    path = log_dir() / "foodarchive.log"
    root = logging.getLogger()
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    return str(path)
