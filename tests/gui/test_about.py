"""帮助 → 关于 shows the one version number of pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from app.db import head_revision
from app.ui.main_window import MainWindow

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


# The offscreen platform says it cannot pass size hints on when a dialog shows.
@pytest.mark.qt_log_ignore("This plugin does not support")
def test_help_about_shows_the_version(qtbot, ctx):
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    menus = {action.text(): action.menu() for action in window.menuBar().actions()}
    about = next(a for a in menus["帮助"].actions() if a.text() == "关于")
    about.trigger()
    dialog = window._about
    qtbot.waitExposed(dialog)
    version = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert any("食品质量技术档案" in t and version in t for t in texts)
    assert version in texts and head_revision() in texts
    dialog.close()
