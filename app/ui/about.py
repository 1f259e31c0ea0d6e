"""帮助 → 关于: what is installed, where its data lives, which schema it speaks."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app import __version__
from app.i18n import tr

from .context import AppContext


def about_facts(ctx: AppContext) -> list[tuple[str, str]]:
    from app import paths
    from app.db import current_revision

    with ctx.engine.connect() as connection:
        revision = current_revision(connection) or "—"
    return [
        (tr("Version"), __version__),
        (tr("Database"), ctx.engine.url.render_as_string(hide_password=True)),
        (tr("Schema revision"), revision),
        (tr("Data folder"), str(paths.data_dir())),
        (tr("Log folder"), str(paths.log_dir())),
        (tr("Runs on"), f"Python {platform.python_version()}, PySide6 {pyside_version}, {platform.system()} {platform.release()}"),
    ]


class AboutDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(tr("About"))
        title = QLabel(f"<h2>{tr('Food Quality Technical Archives')} {__version__}</h2>")
        title.setObjectName("aboutTitle")
        facts = QFormLayout()
        for label, value in about_facts(ctx):
            field = QLabel(value)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            facts.addRow(label + "：", field)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(QLabel(tr("One product, one batch, one file: the quality records of a small food factory.")))
        layout.addLayout(facts)
        layout.addWidget(buttons)
