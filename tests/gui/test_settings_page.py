"""Issue 19 §3: every setting on one page, changed by the configure role with a reason the audit log keeps."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import select

from app.models import AuditEntry
from app.services import settings
from app.ui.settings_page import SettingsPage

from .test_users_page import log_in_as


def save(qtbot, page):
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    page.ctx.runner.settle()


def test_every_declared_setting_is_on_the_page_and_a_change_is_audited_with_its_reason(qtbot, empty_ctx):
    ctx = empty_ctx
    log_in_as(ctx, "admin", "admin")
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    assert set(page.editors) == set(settings.SETTINGS) >= {
        "archive_no_pattern", "retention_codes", "report_font", "signature_mode", "backup_folder",
        "backup_keep_daily", "platform_url", "upload_alert_hours", "backup_alert_days"}
    assert page.editors["backup_keep_daily"].widget.value() == 7

    # A change without a reason is not saved.
    page.editors["signature_mode"].widget.setCurrentIndex(page.editors["signature_mode"].widget.findData("纸质签名"))
    page.editors["retention_codes"].parts["safety"].setCurrentIndex(
        page.editors["retention_codes"].parts["safety"].findData("D30"))
    save(qtbot, page)
    assert "请填写修改原因" in page.error.text()
    with ctx.read() as session:
        assert settings.get(session, "signature_mode") == "电子签名"

    # A bad value names its setting inline and nothing is saved.
    page.editors["archive_no_pattern"].widget.setText("{全宗号}-{年度}")
    page.reason.setText("改为纸质签名：签名板坏了")
    save(qtbot, page)
    assert "「档号规则」必须包含 {案卷号}" in page.error.text()
    with ctx.read() as session:
        assert settings.get(session, "signature_mode") == "电子签名"

    page.editors["archive_no_pattern"].widget.setText(settings.DEFAULTS["archive_no_pattern"])
    save(qtbot, page)
    assert page.error.text() == "已保存。"
    with ctx.read() as session:
        assert settings.get(session, "signature_mode") == "纸质签名"
        assert settings.get(session, "retention_codes")["safety"] == "D30"
        entries = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "setting")).all()
    assert {(e.actor, e.reason) for e in entries} == {("admin姓名", "改为纸质签名：签名板坏了")}
    history = [[page.history.item(0, c).text() for c in range(5)] for _ in [0]][0]
    assert history[1] == "admin姓名" and history[4] == "改为纸质签名：签名板坏了"
    assert page.reason.text() == ""


def test_a_user_without_the_configure_role_cannot_change_settings(qtbot, empty_ctx):
    log_in_as(empty_ctx, "wang", "inspector")
    page = SettingsPage(empty_ctx)
    qtbot.addWidget(page)
    assert not page.save_button.isEnabled()
    from app.ui.main_window import MainWindow

    window = MainWindow(empty_ctx)
    qtbot.addWidget(window)
    assert "settings" not in window._pages
