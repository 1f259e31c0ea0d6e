"""Named loggers into a rotating file in the user's log folder.

A log folder that cannot be written (a read-only home folder, a full disk)
never stops the program: the log then goes to standard error (warnings and
worse) or, in the windowed build without a console, nowhere; ``setup`` says
so once and returns None instead of the file's path.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys

from app.paths import log_folder

_problem: str | None = None  # why the log file could not be opened, once known


def setup(level: int = logging.INFO) -> str | None:
    """The log file's path, or None when the log folder cannot be written."""
    global _problem
    root = logging.getLogger()
    root.setLevel(level)
    # A handler that fails later (disk full) must not print tracebacks.
    logging.raiseExceptions = False
    if log_file():
        return log_file()
    if _problem is not None:
        return None
    folder = log_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / "foodarchive.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    except OSError as exc:
        from app.problems import os_reason

        _problem = (f"警告：无法写入日志文件夹「{folder}」（{os_reason(exc)}），"
                    "本次运行的日志不保存到文件，警告和错误只显示在这里。")
        _fall_back(root)
        if sys.stderr is not None:
            print(_problem, file=sys.stderr)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return handler.baseFilename


def problem() -> str | None:
    """The warning ``setup`` gave, for the window to show as well."""
    return _problem


def _fall_back(root: logging.Logger) -> None:
    if sys.stderr is None:  # the windowed build: no console to write to
        root.addHandler(logging.NullHandler())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_OneLine("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


class _OneLine(logging.Formatter):
    """On the screen a log record is one line: a traceback belongs in a file."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def log_file() -> str | None:
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            return handler.baseFilename
    return None


def where() -> str:
    """Where to look for details, for messages: the file, or the screen."""
    path = log_file()
    return f"日志 {path}" if path else "上面的输出（日志文件夹不可写，没有日志文件）"
