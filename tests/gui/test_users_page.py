"""Users and roles: the administrator's page, and screens that hide what a role may not do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import func, select

from app.models import IncomingInspection, User
from app.services import users
from app.ui.batch_screen import BatchWorkbench
from app.ui.ledger_page import LedgerPage
from app.ui.main_window import MainWindow
from app.ui.record_dialog import RecordDialog
from app.ui.release_screen import ReleaseDesk
from app.ledgers import ledger
from app.ui.users_page import UsersPage

PASSWORD = "correct-horse-9"


def log_in_as(ctx, username, *roles) -> int:
    user_id = ctx.write(lambda s: users.create_user(s, username, f"{username}姓名", PASSWORD, roles).id, as_system=True)(None)
    ctx.log_in(user_id)
    return user_id


def user_count(ctx) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(User))


def save(qtbot, page):
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page._busy, timeout=10000)


def rows_by_username(page) -> dict[str, int]:
    return {page.table.item(row, 0).text(): row for row in range(page.table.rowCount())}


def test_administrator_adds_a_user_and_a_bad_entry_changes_nothing(qtbot, ctx):
    log_in_as(ctx, "admin", "admin")
    page = UsersPage(ctx)
    qtbot.addWidget(page)
    before = user_count(ctx)  # the demo factory's staff and this administrator
    assert page.table.rowCount() == before and page.table.item(rows_by_username(page)["admin"], 2).text() == "系统管理员"
    assert "录入记录" in page.role_boxes["operator"].toolTip() and "操作" in page.role_boxes["operator"].toolTip()

    qtbot.keyClicks(page.username, "wang")
    page.display_name.setText("王质检")  # keyClicks types ASCII only
    page.role_boxes["inspector"].setChecked(True)
    qtbot.keyClicks(page.password, "short")
    save(qtbot, page)
    assert "「密码」至少 8 个字符" in page.error.text() and user_count(ctx) == before

    page.password.setText(PASSWORD)
    page.person.setCurrentIndex(1)
    save(qtbot, page)
    assert page.error.text() == "" and user_count(ctx) == before + 1
    row = rows_by_username(page)["wang"]
    assert [page.table.item(row, c).text() for c in (0, 1, 2, 4)] == ["wang", "王质检", "检验员", "在用"]
    assert page.table.item(row, 3).text() != ""
    # The saved user is selected for editing: add a role, stop the login.
    assert page.username.isReadOnly() and page.username.text() == "wang"
    page.role_boxes["operator"].setChecked(True)
    page.active.setChecked(False)
    save(qtbot, page)
    row = rows_by_username(page)["wang"]
    assert page.table.item(row, 2).text() == "检验员、生产操作员" and page.table.item(row, 4).text() == "已停用"


def test_the_last_administrator_is_kept(qtbot, ctx):
    # the demo factory's administrator steps down: this one is then the last
    def step_down(session):
        demo_admin = session.scalar(select(User).where(User.username == "xitongguanli"))
        users.update_user(session, demo_admin.id, demo_admin.display_name, ["quality_manager"], None, False)

    admin_id = log_in_as(ctx, "admin", "admin")
    ctx.write(step_down, as_system=True)(None)
    page = UsersPage(ctx)
    qtbot.addWidget(page)
    page.table.selectRow(rows_by_username(page)["admin"])
    assert page.user_id == admin_id
    page.role_boxes["admin"].setChecked(False)
    page.role_boxes["quality_manager"].setChecked(True)
    save(qtbot, page)
    assert page.error.text() == "至少要保留一位在用的系统管理员"
    with ctx.read() as session:
        assert users.roles_of(session, session.get(User, admin_id)) == {"admin"}


def test_only_the_administrator_sees_users_and_roles(qtbot, ctx):
    log_in_as(ctx, "admin", "admin")
    admin_window = MainWindow(ctx)
    qtbot.addWidget(admin_window)
    assert "users" in admin_window._pages
    log_in_as(ctx, "qian", "quality_manager")
    manager_window = MainWindow(ctx)
    qtbot.addWidget(manager_window)
    assert "users" not in manager_window._pages


def test_screens_hide_what_the_role_may_not_do(qtbot, ctx):
    log_in_as(ctx, "admin", "admin")
    receipts = LedgerPage(ctx, ledger("incoming_inspection"))
    suppliers = LedgerPage(ctx, ledger("supplier"))
    for widget in (receipts, suppliers):
        qtbot.addWidget(widget)
    assert receipts.new_button.isHidden() and not suppliers.new_button.isHidden()

    log_in_as(ctx, "zhao", "operator")
    desk = ReleaseDesk(ctx)
    bench = BatchWorkbench(ctx)
    for widget in (desk, bench):
        qtbot.addWidget(widget)
    assert desk.release_button.isHidden() and desk.delivery.button.isHidden()  # sales are the warehouse's
    assert not bench.feeding.button.isHidden()
    with ctx.read() as session:
        locked = session.scalar(select(IncomingInspection.id).where(IncomingInspection.submitted_at.is_not(None)).limit(1))
    record = RecordDialog(ctx, ledger("incoming_inspection"), locked)
    qtbot.addWidget(record)
    assert not record.amend_button.isVisibleTo(record) and record.sign_button.isEnabled()

    log_in_as(ctx, "sun", "warehouse_keeper")
    desk = ReleaseDesk(ctx)
    qtbot.addWidget(desk)
    assert desk.release_button.isHidden() and not desk.delivery.button.isHidden()

    log_in_as(ctx, "qian", "quality_manager")
    desk = ReleaseDesk(ctx)
    qtbot.addWidget(desk)
    record = RecordDialog(ctx, ledger("incoming_inspection"), locked)
    qtbot.addWidget(record)
    assert not desk.release_button.isHidden() and record.amend_button.isVisibleTo(record)
