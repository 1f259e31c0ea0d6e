"""Start-up, navigation, remembered geometry, the crash dialog."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QSettings

from app.ui import app as ui_app
from app.ui.dialogs import Dialogs
from app.ui.main_window import HOME, LINK_TABLES, MainWindow, pages


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    return w


def test_every_page_builds(window):
    keys = [page.key for page in pages()]
    assert {"trace", "archive_browser", "batch_workbench", "release_desk", "upload_status"} <= set(keys)
    for key in keys:
        widget = window.navigate(key)
        assert window.stack.currentWidget() is widget
        if key == HOME or key in LINK_TABLES:  # reached by the toolbar, or from the parent record
            assert window.nav.currentItem() is None
        else:
            assert window.nav.currentItem().text(0) == next(p.title for p in pages() if p.key == key)


def test_navigation_groups_follow_the_factory(window):
    groups = [window.nav.topLevelItem(i).text(0) for i in range(window.nav.topLevelItemCount())]
    assert groups[:3] == ["基础数据", "进货查验", "生产"] and groups[-2:] == ["追溯", "上传与统计"]


def test_geometry_is_remembered(qtbot, ctx):
    QSettings().remove("main")
    first = MainWindow(ctx)
    qtbot.addWidget(first)
    first.resize(701, 555)  # the offscreen screen is 800×800: stay inside it
    first.close()
    second = MainWindow(ctx)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (701, 555)


def test_empty_database_offers_the_demo(qtbot, empty_ctx, monkeypatch):
    asked = []
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda cls, parent, title, text: asked.append(text) or False))
    ui_app.offer_demo(empty_ctx, None)
    assert len(asked) == 1 and "演示" in asked[0]


def test_full_database_does_not_offer_the_demo(ctx, monkeypatch):
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda *a: pytest.fail("asked")))
    ui_app.offer_demo(ctx, None)


def test_a_crash_shows_the_log_location(window, monkeypatch, caplog):
    shown = []
    monkeypatch.setattr(Dialogs, "crash", classmethod(lambda cls, parent, text: shown.append(text)))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    ui_app._install_crash_dialog(lambda: window)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    assert shown and "foodarchive.log" in shown[0]
    assert any("boom" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_language_can_be_chosen(window, monkeypatch):
    told = []
    monkeypatch.setattr(Dialogs, "info", classmethod(lambda cls, parent, title, text: told.append(text)))
    settings_menu = window.menuBar().actions()[0].menu()
    language_menu = settings_menu.actions()[0].menu()
    english = next(a for a in language_menu.actions() if a.data() == "en")
    english.trigger()
    assert QSettings().value("ui/language") == "en" and told
    QSettings().setValue("ui/language", "zh_CN")
