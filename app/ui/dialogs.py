"""Every dialog the application opens goes through here, so a test can
replace it (``monkeypatch.setattr(Dialogs, "ask_text", ...)``) and no test blocks."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from app.errors import UserError
from app.i18n import tr

from .tasks import Cancelled

log = logging.getLogger("ui")


class Dialogs:
    @classmethod
    def info(cls, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    @classmethod
    def warn(cls, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.warning(parent, title, text)

    @classmethod
    def confirm(cls, parent: QWidget | None, title: str, text: str) -> bool:
        answer = QMessageBox.question(parent, title, text)
        return answer == QMessageBox.StandardButton.Yes

    @classmethod
    def ask_text(cls, parent: QWidget | None, title: str, label: str) -> str | None:
        text, ok = QInputDialog.getText(parent, title, label)
        return text if ok else None

    @classmethod
    def save_file(cls, parent: QWidget | None, title: str, name: str, filter: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, title, name, filter)
        return path or None

    @classmethod
    def open_file(cls, parent: QWidget | None, title: str, filter: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, title, "", filter)
        return path or None

    @classmethod
    def open_files(cls, parent: QWidget | None, title: str, filter: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(parent, title, "", filter)
        return paths

    @classmethod
    def crash(cls, parent: QWidget | None, text: str) -> None:
        QMessageBox.critical(parent, tr("Unexpected error"), text)


def show_error(parent: QWidget | None, error: BaseException) -> None:
    """Classify, then show (architecture.md habit 4): the user's own mistake,
    a problem of the computer (a file, the database, the network: app/problems.py)
    with what to do, or a bug with where its details are."""
    if isinstance(error, Cancelled):
        return
    from app.problems import explain

    message = explain(error)
    if isinstance(error, UserError):
        Dialogs.warn(parent, tr("Cannot do that"), error.message)
        return
    if message is not None:
        log.info("environment problem: %s", error)
        Dialogs.warn(parent, tr("Problem with the computer"), message)
        return
    log.error("bug", exc_info=(type(error), error, error.__traceback__))
    from app import log as app_log

    path = app_log.setup()  # the file the traceback went to; None when the folder cannot be written
    Dialogs.crash(parent, tr("Something went wrong. Details were written to the log: {path}", path=path) if path
                  else tr("Something went wrong. The log folder cannot be written, so no details were kept."))
