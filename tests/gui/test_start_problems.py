"""What the window says when it cannot start normally (issue 14): a database
that cannot be opened gets a dialog saying what happened and what to do,
before any other window; a missing Chinese font is said before the first
screen, in Chinese and in English (the Chinese would show as boxes)."""

from __future__ import annotations

import socket
import sqlite3
import sys

import pytest

from app.db import open_database
from app.ui import app as ui_app
from app.ui.dialogs import Dialogs


@pytest.fixture
def said(monkeypatch):
    """Every warning dialog and login, in the order they came."""
    events: list[tuple] = []
    monkeypatch.setattr(Dialogs, "warn", classmethod(lambda cls, parent, title, text: events.append(("warn", title, text))))
    monkeypatch.setattr("app.ui.login.log_in", lambda ctx, parent=None: events.append(("login",)) or False)
    # pytest-qt's own handler collects Qt's messages; the start must not replace it here,
    # nor leave its crash dialog as the hook of later tests.
    monkeypatch.setattr(ui_app, "_route_qt_messages", lambda: None)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    return events


@pytest.fixture
def factory_db(tmp_path):
    path = tmp_path / "factory.db"
    engine, _ = open_database(f"sqlite:///{path}")
    engine.dispose()
    return path


def test_no_chinese_font_is_said_before_the_first_screen(qapp, said, factory_db, monkeypatch):
    monkeypatch.setattr(ui_app, "cjk_font_families", lambda: [])
    assert ui_app.run(str(factory_db), []) == 0
    assert [event[0] for event in said] == ["warn", "login"]
    _, title, text = said[0]
    assert "缺少中文字体" in title and "No Chinese font" in title
    assert "fonts-wqy-microhei" in text and "方框" in text and "shows Chinese text as boxes" in text


def test_with_a_chinese_font_nothing_is_said(qapp, said, factory_db):
    assert ui_app.cjk_font_families()  # CI installs fonts-wqy-microhei
    assert ui_app.run(str(factory_db), []) == 0
    assert said == [("login",)]


def expect_refusal(said, capsys, db: str, *words: str) -> str:
    assert ui_app.run(db, []) == 1
    assert [event[0] for event in said] == ["warn"]  # no login, no main window
    _, title, text = said[0]
    assert title == "无法打开数据库"
    for word in words:
        assert word in text
    assert "[SQL" not in text and "sqlalche.me" not in text and "Traceback" not in text
    assert capsys.readouterr().err.strip() == f"错误：{text}"  # and one line for the command line
    return text


def test_a_missing_database_names_the_path_and_init(qapp, said, capsys, tmp_path):
    missing = tmp_path / "moved.db"
    expect_refusal(said, capsys, str(missing), str(missing), "不存在", "init")
    assert not missing.exists()


def test_a_corrupt_database_says_restore_a_backup(qapp, said, capsys, tmp_path):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"\0garbage" * 512)
    expect_refusal(said, capsys, str(corrupt), "已损坏", "备份")


def test_a_newer_database_says_install_the_newer_program(qapp, said, capsys, factory_db):
    with sqlite3.connect(factory_db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff9999'")
    conn.close()
    expect_refusal(said, capsys, str(factory_db), "更新版本", "最新版本")


def test_a_read_only_database_asks_for_write_access(qapp, said, capsys, factory_db):
    # Root ignores file permissions; SQLite's read-only mode is what such a file gives.
    url = f"sqlite:///{factory_db.as_uri()}?mode=ro&uri=true"
    expect_refusal(said, capsys, url, "只读", "写入权限")


def test_an_unreachable_server_says_check_the_server(qapp, said, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    expect_refusal(said, capsys, f"postgresql+psycopg://postgres@127.0.0.1:{port}/foodarchive",
                   f"127.0.0.1:{port}", "拒绝连接", "PostgreSQL 服务")


def test_a_database_error_during_work_is_explained_in_the_window(qapp, monkeypatch):
    from app.ui.dialogs import show_error

    shown = []
    monkeypatch.setattr(Dialogs, "warn", classmethod(lambda cls, parent, title, text: shown.append((title, text))))
    error = sqlite3.OperationalError("attempt to write a readonly database")
    error.sqlite_errorname = "SQLITE_READONLY"
    show_error(None, error)
    assert shown and shown[0][0] == "计算机环境问题" and "只读" in shown[0][1]
