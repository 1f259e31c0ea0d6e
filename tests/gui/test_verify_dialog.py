"""帮助 → 校验数据和审计日志: the anchor from a paper volume typed into the window (issue 19)."""

from __future__ import annotations

import pytest

from app.services import anchors
from app.ui.main_window import MainWindow

WAIT = 120_000  # verifying the demo factory's ≈16,000 entries on a busy machine


@pytest.mark.qt_log_ignore("This plugin does not support")
def test_typing_an_anchor_from_paper(qtbot, ctx, tmp_path):
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    menus = {action.text(): action.menu() for action in window.menuBar().actions()}
    next(a for a in menus["帮助"].actions() if a.text() == "校验数据和审计日志…").trigger()
    dialog = window._verify
    qtbot.waitExposed(dialog)
    ctx.runner.settle()  # the home page gathers its lines in the background first

    dialog.anchor.setText("12ab")  # too short to prove anything: said beside the field, nothing runs
    dialog.start.click()
    assert dialog.error.isVisible() and "「链头哈希」" in dialog.error.text()
    assert not ctx.runner.busy

    with ctx.engine.connect() as connection:
        head = anchors.head(connection)
    dialog.anchor.setText(head.printed.upper())  # as typed from the remarks sheet
    with qtbot.waitSignal(dialog.finished_check, timeout=WAIT) as done:
        dialog.start.click()
    assert done.args == [[]] and not dialog.error.isVisible()
    assert "校验通过" in dialog.summary.text() and f"第 {head.entry} 条" in dialog.results.toPlainText()
    dialog.grab().save(str(tmp_path / "verify-passed.png"))

    dialog.anchor.setText("0123456789abcdef")  # an anchor the chain does not hold: a rewritten chain
    with qtbot.waitSignal(dialog.finished_check, timeout=WAIT) as done:
        dialog.anchor.returnPressed.emit()
    assert any("没有哈希以 0123456789abcdef" in m for m in done.args[0])
    assert "校验未通过" in dialog.summary.text() and "0123456789abcdef" in dialog.results.toPlainText()
    dialog.grab().save(str(tmp_path / "verify-failed.png"))
    dialog.close()
