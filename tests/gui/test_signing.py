"""Signing a record from its window, and who is logged in."""

from __future__ import annotations

import re
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from sqlalchemy import func, select

from app.errors import PermissionDenied
from app.models import Enterprise, IncomingInspection, Signature, User
from app.ledgers import ledger
from app.services import acting, common, receiving, users
from app.ui import app as ui_app
from app.ui import login
from app.ui.dialogs import Dialogs
from app.ui.login import FirstRunDialog, LoginDialog
from app.ui.record_dialog import RecordDialog
from app.ui.sign_dialog import SignDialog

from .test_signature_pad import signature

PASSWORD = "correct-horse-9"

# The sign dialog is a shown window; offscreen Qt says so (environment.md).
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(autouse=True)
def close_without_asking(monkeypatch):
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda cls, *args: True))


def run(ctx, fn, as_system=False):
    """A service call as the application makes it, but waited for."""
    return ctx.write(fn, as_system=as_system)(None)


def add_user(ctx, username, name, roles) -> int:
    return run(ctx, lambda session: users.create_user(session, username, name, PASSWORD, roles).id, as_system=True)


def locked_receipt(ctx) -> int:
    """A submitted receipt nobody has signed yet: the demo's people sign all of
    theirs, so a delivery like its first one arrives again."""
    def make(session):
        source = session.scalars(select(IncomingInspection).where(IncomingInspection.submitted_at.is_not(None))
                                 .order_by(IncomingInspection.id)).first()
        values = {name: getattr(source, name) for name in ledger("incoming_inspection").field_names
                  if name not in ("receipt_no", "paper_ref")}
        receipt = receiving.receive(session, values)
        common.submit(session, receipt)
        return receipt.id

    return run(ctx, make, as_system=True)


def signature_count(ctx) -> int:
    """Signatures on the newest receipt (the one the test signs)."""
    with ctx.read() as session:
        newest = session.scalar(select(func.max(IncomingInspection.id)))
        return session.scalar(select(func.count()).select_from(Signature).where(
            Signature.table_name == "incoming_inspection", Signature.row_id == newest))


@pytest.fixture
def record(qtbot, ctx):
    dialog = RecordDialog.open(ctx, "incoming_inspection", locked_receipt(ctx))
    qtbot.addWidget(dialog)
    return dialog


@pytest.fixture
def opened(monkeypatch, qtbot):
    """The sign dialogs the record window opens (its children: they close with it)."""
    windows = []
    real = SignDialog.open.__func__

    def open_(cls, *args):
        dialog = real(cls, *args)
        windows.append(dialog)
        return dialog

    monkeypatch.setattr(SignDialog, "open", classmethod(open_))
    return windows


def states(dialog) -> dict[str, str]:
    return {row[0]: row[3] for row in dialog.signature_rows()}


def fill(qtbot, dialog: SignDialog, meaning, username, password) -> None:
    dialog.meaning.setCurrentText(meaning)
    qtbot.keyClicks(dialog.username, username)
    qtbot.keyClicks(dialog.password, password)
    signature(dialog.pad)


def test_missing_signatures_are_listed(record):
    assert states(record) == {"操作": "缺少", "复核": "缺少"}
    assert record.sign_button.isVisibleTo(record)


def test_new_record_has_no_signature_section(qtbot, ctx):
    dialog = RecordDialog.open(ctx, "incoming_inspection")
    qtbot.addWidget(dialog)
    assert not dialog.signatures.isVisibleTo(dialog) and not dialog.sign_button.isVisibleTo(dialog)


def test_wrong_password_is_shown_inline_and_writes_nothing(qtbot, ctx, record, opened):
    add_user(ctx, "wang", "王质检", ["inspector"])
    qtbot.mouseClick(record.sign_button, Qt.MouseButton.LeftButton)
    (dialog,) = opened
    assert dialog.password.echoMode() == QLineEdit.EchoMode.Password
    assert [dialog.meaning.itemText(i) for i in range(dialog.meaning.count())] == ["操作", "复核"]
    fill(qtbot, dialog, "操作", "wang", "not-the-password")
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.text() != "")
    assert dialog.error.text() == "用户名或密码不正确" and "c62828" in dialog.error.styleSheet()
    assert dialog.isVisible() and dialog.password.text() == ""
    assert signature_count(ctx) == 0


def test_wrong_role_is_shown_inline(qtbot, ctx, record, opened):
    add_user(ctx, "zhao", "赵操作", ["operator"])
    qtbot.mouseClick(record.sign_button, Qt.MouseButton.LeftButton)
    dialog = opened[0]
    fill(qtbot, dialog, "复核", "zhao", PASSWORD)
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.text() != "")
    assert "无权" in dialog.error.text() and signature_count(ctx) == 0


def test_an_empty_pad_is_refused(qtbot, ctx, record, opened):
    qtbot.mouseClick(record.sign_button, Qt.MouseButton.LeftButton)
    dialog = opened[0]
    qtbot.keyClicks(dialog.username, "wang")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert dialog.error.text() == "请先在签名板上手写签名。" and signature_count(ctx) == 0


def test_signing_then_amending(qtbot, ctx, record, opened):
    add_user(ctx, "wang", "王质检", ["inspector"])
    qtbot.mouseClick(record.sign_button, Qt.MouseButton.LeftButton)
    dialog = opened[0]
    fill(qtbot, dialog, "操作", "wang", PASSWORD)
    with qtbot.waitSignal(dialog.signed, timeout=10000):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    with ctx.read() as session:
        stored = session.scalars(select(Signature).where(
            Signature.table_name == "incoming_inspection", Signature.row_id == record.record_id)).one()
        assert stored.image_png.startswith(b"\x89PNG") and stored.strokes == dialog.pad.to_json()
    rows = {row[0]: row for row in record.signature_rows()}
    assert rows["操作"][1:4:2] == ["王质检", "有效"] and rows["操作"][2]
    assert rows["复核"][3] == "缺少"
    assert signature_count(ctx) == 1
    handwriting = record.signatures.topLevelItem(0).data(4, Qt.ItemDataRole.DecorationRole)
    assert not handwriting.isNull() and handwriting.height() == 40
    assert record.signatures.topLevelItem(1).data(4, Qt.ItemDataRole.DecorationRole) is None

    # The next signer is offered only what is still missing.
    qtbot.mouseClick(record.sign_button, Qt.MouseButton.LeftButton)
    second = opened[1]
    assert [second.meaning.itemText(i) for i in range(second.meaning.count())] == ["复核"]
    second.reject()

    record_id = record.record_id
    run(ctx, lambda session: common.amend(session, session.get(IncomingInspection, record_id), {"certificate_no": "AMENDED-1"}, "抄录错误"))
    record.refresh_signatures()
    assert states(record)["操作"] == "失效"
    invalid = record.signatures.topLevelItem(0)
    assert invalid.foreground(3).color().name() == "#c62828"


def test_saved_signature_is_reused_only_after_the_password(qtbot, ctx, record, opened):
    add_user(ctx, "wang", "王质检", ["inspector"])
    qtbot.mouseClick(record.sign_button, Qt.MouseButton.LeftButton)
    first = opened[0]
    fill(qtbot, first, "操作", "wang", PASSWORD)
    drawn = first.pad.to_json()
    first.save_specimen.setChecked(True)
    with qtbot.waitSignal(first.signed, timeout=10000):
        qtbot.mouseClick(first.sign_button, Qt.MouseButton.LeftButton)

    qtbot.mouseClick(record.sign_button, Qt.MouseButton.LeftButton)
    second = opened[1]
    qtbot.mouseClick(second.specimen_button, Qt.MouseButton.LeftButton)
    assert second.error.text() == "请输入用户名和密码。" and second.pad.is_empty()
    qtbot.keyClicks(second.username, "wang")
    qtbot.keyClicks(second.password, "not-the-password")
    qtbot.mouseClick(second.specimen_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: second.error.text() != "")
    assert second.error.text() == "用户名或密码不正确" and second.pad.is_empty()
    qtbot.keyClicks(second.password, PASSWORD)
    qtbot.mouseClick(second.specimen_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not second.pad.is_empty())
    assert second.pad.to_json() == drawn
    second.reject()


# ------------------------------------------------------------------ login


def test_first_run_creates_the_administrator_who_is_then_logged_in(empty_ctx, monkeypatch):
    created = []

    def first_run(cls, ctx, parent=None):
        created.append(login.create_administrator(ctx, "admin", "管理员", PASSWORD))
        return created[-1]

    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(first_run))
    monkeypatch.setattr(LoginDialog, "ask", classmethod(lambda *a: pytest.fail("asked to log in again")))
    assert login.log_in(empty_ctx)
    assert empty_ctx.may("configure") and not empty_ctx.may("sign") and not empty_ctx.may("amend")
    assert empty_ctx.user_id == created[0] and empty_ctx.actor == "管理员"
    with empty_ctx.read() as session:
        assert users.roles_of(session, session.get(User, created[0])) == {"admin"}
    # From now on every service call runs as the administrator, who signs and amends nothing.
    with pytest.raises(PermissionDenied):
        run(empty_ctx, lambda session: users.require(session, "amend"))
    assert run(empty_ctx, lambda session: session.info.get("user_id"), as_system=True) is None


def test_users_exist_so_only_the_login_is_asked(ctx, monkeypatch):
    user_id = add_user(ctx, "wang", "王质检", ["inspector"])
    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(lambda *a: pytest.fail("first run asked")))
    monkeypatch.setattr(LoginDialog, "ask", classmethod(lambda cls, ctx, parent=None: user_id))
    assert login.log_in(ctx) and ctx.user_id == user_id and ctx.actor == "王质检"


def test_cancelling_logs_nobody_in(empty_ctx, monkeypatch):
    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(lambda *a: None))
    monkeypatch.setattr(LoginDialog, "ask", classmethod(lambda *a: pytest.fail("login asked")))
    assert not login.log_in(empty_ctx) and empty_ctx.user_id is None
    add_user(empty_ctx, "admin", "管理员", ["admin"])
    monkeypatch.setattr(LoginDialog, "ask", classmethod(lambda *a: None))
    assert not login.log_in(empty_ctx) and empty_ctx.user_id is None


def test_run_exits_when_the_login_is_cancelled(qapp, empty_db, monkeypatch):
    from app.db import open_database

    open_database(f"sqlite:///{empty_db}")[0].dispose()  # only init and the default database make one
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run() installs its crash dialog
    monkeypatch.setattr(ui_app, "_route_qt_messages", lambda: None)  # pytest-qt keeps Qt's messages
    monkeypatch.setattr(ui_app.app_log, "setup", lambda: None)
    monkeypatch.setattr(login, "log_in", lambda ctx, parent=None: False)
    monkeypatch.setattr(qapp, "exec", lambda: pytest.fail("main window started"), raising=False)
    assert ui_app.run(str(empty_db), ["foodarchive"]) == 0


def test_first_run_dialog_checks_the_passwords(qtbot, empty_ctx, monkeypatch):
    dialog = FirstRunDialog(empty_ctx)
    qtbot.addWidget(dialog)
    assert dialog.password.echoMode() == QLineEdit.EchoMode.Password == dialog.repeat.echoMode()
    qtbot.keyClicks(dialog.username, "admin")
    qtbot.keyClicks(dialog.display_name, "Admin")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.repeat, PASSWORD + "x")
    dialog.submit()
    assert dialog.error.text() == "两次输入的密码不一致。" and dialog.user_id is None
    dialog.repeat.clear()
    qtbot.keyClicks(dialog.repeat, "short")
    dialog.password.setText("short")
    dialog.submit()
    assert "至少" in dialog.error.text() and not login.has_users(empty_ctx)
    dialog.password.setText(PASSWORD)
    dialog.repeat.setText(PASSWORD)
    shown = []
    monkeypatch.setattr(Dialogs, "info", classmethod(lambda cls, parent, title, text: shown.append((title, text))))
    dialog.submit()
    assert dialog.user_id is not None and dialog.result() == FirstRunDialog.DialogCode.Accepted
    # The recovery code, once: it resets a password without one (users.recover_password).
    [(title, text)] = shown
    assert title == "恢复码" and "只显示这一次" in text
    code = re.search(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){4}", text).group(0)
    with empty_ctx.sessions.as_actor(acting.system("命令行")).begin() as session:
        assert users.recover_password(session, "admin", "new-password-1", recovery_code=code)


def test_login_dialog_shows_a_wrong_password_inline(qtbot, ctx):
    user_id = add_user(ctx, "wang", "王质检", ["inspector"])
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.username, "wang")
    qtbot.keyClicks(dialog.password, "wrong-password")
    dialog.submit()
    assert dialog.error.text() == "用户名或密码不正确" and dialog.user_id is None and dialog.password.text() == ""
    qtbot.keyClicks(dialog.password, PASSWORD)
    dialog.submit()
    assert dialog.user_id == user_id


def test_demo_loads_as_the_system_account(qtbot, empty_ctx, monkeypatch):
    empty_ctx.log_in(login.create_administrator(empty_ctx, "admin", "管理员", PASSWORD))
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda cls, *args: True))
    ui_app.offer_demo(empty_ctx, None)
    empty_ctx.runner.settle()
    with empty_ctx.read() as session:
        assert session.scalar(select(Enterprise.id).limit(1)) is not None


def test_a_user_changes_the_own_password(qtbot, ctx):
    user_id = add_user(ctx, "wang", "王质检", ["inspector"])
    ctx.log_in(user_id)
    dialog = login.ChangePasswordDialog(ctx)
    qtbot.addWidget(dialog)
    assert dialog.username.text() == "wang" and dialog.username.isReadOnly()
    dialog.old.setText("not-the-password")
    dialog.new.setText("new-password-2")
    dialog.repeat.setText("new-password-2")
    dialog.submit()
    assert dialog.error.text() == "用户名或密码不正确"
    dialog.old.setText(PASSWORD)
    dialog.submit()
    assert dialog.result() == login.ChangePasswordDialog.DialogCode.Accepted
    assert login.check_login(ctx, "wang", "new-password-2") == user_id


def test_login_buttons_speak_chinese(qtbot, ctx):
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    texts = sorted(button.text() for button in dialog.buttons.buttons())
    assert texts == ["取消", "确定"]
