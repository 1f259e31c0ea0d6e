"""Issue 17: the home page — who is signed in, to-dos, alerts — each line opens
its record; the navigation counts them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from sqlalchemy import select

from app.models import ProductBatch
from app.services import quality, users
from app.ui.home_page import LINE
from app.ui.main_window import HOME, MainWindow
from app.ui.record_dialog import RecordDialog

PASSWORD = "correct-horse-9"


def hold_a_batch_in(session) -> str:
    """The inspector finds the newest finished batch below its standard: it is held."""
    batch = session.scalar(select(ProductBatch).where(ProductBatch.batch_no == "NZ2026111901"))
    quality.inspect(session, dict(kind="finished", batch_id=batch.id, sampled_at="2026-11-19 15:00",
                                  sample_quantity="3 盒", sampling_method="随机抽样", inspector_id=1, reviewer_id=2),
                    [dict(item="蛋白质", method="GB 5009.5", requirement="≥ 4.0 g/100g", result="3.1",
                          verdict="fail")])
    return batch.batch_no


def hold_a_batch(ctx) -> str:
    return ctx.write(hold_a_batch_in, as_system=True)(None)


def a_quality_manager(ctx) -> None:
    user_id = ctx.write(lambda s: users.create_user(s, "qian", "钱经理", PASSWORD, ["quality_manager"]).id,
                        as_system=True)(None)
    ctx.log_in(user_id)


def loaded_window(qtbot, ctx) -> MainWindow:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    home = window.stack.currentWidget()
    qtbot.waitUntil(lambda: home.data is not None, timeout=20000)
    return window


def item_with(widget, words: str):
    for index in range(widget.count()):
        if words in widget.item(index).text():
            return widget.item(index)
    raise AssertionError(f"no line with {words!r} in {[widget.item(i).text() for i in range(widget.count())]}")


def test_home_of_a_demo_user_lists_what_needs_doing_and_a_click_opens_it(qtbot, ctx):
    batch_no = hold_a_batch(ctx)
    a_quality_manager(ctx)
    window = loaded_window(qtbot, ctx)
    home = window.stack.currentWidget()
    assert home.objectName() == f"page_{HOME}"
    assert "钱经理" in home.greeting.text() and "质量负责人" in home.greeting.text()

    held = item_with(home.todos, batch_no)
    assert "不合格" in held.text() and "已扣留" in held.text()
    licence = item_with(home.alerts, "食品生产许可证")
    assert "到期" in licence.text()
    sample = item_with(home.alerts, "留样")
    assert "已过期" in sample.text()

    # A click opens the record, in its own window.
    rect = home.alerts.visualItemRect(licence)
    qtbot.mouseClick(home.alerts.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    line = licence.data(LINE)
    dialog = RecordDialog._windows.get((id(ctx), "supplier_document", line.record_id))
    assert dialog is not None and dialog.isVisible()
    dialog.close()
    home.open_line(held)
    assert RecordDialog._windows.get((id(ctx), "product_batch", held.data(LINE).record_id)) is not None

    # The navigation counts the lines that concern each page.
    counts = {window.nav.topLevelItem(g).child(i).data(0, Qt.ItemDataRole.UserRole):
              window.nav.topLevelItem(g).child(i).text(1)
              for g in range(window.nav.topLevelItemCount()) for i in range(window.nav.topLevelItem(g).childCount())}
    assert counts["supplier_document"] == "1" and int(counts["retained_sample"]) >= 1
    assert counts["product_batch"] != ""


def test_the_toolbar_brings_the_home_page_back(qtbot, ctx):
    window = loaded_window(qtbot, ctx)
    window.navigate("material")
    window.findChild(QAction, "homeAction").trigger()
    assert window.stack.currentWidget().objectName() == f"page_{HOME}"


def test_a_write_anywhere_refreshes_the_home_page_and_its_counts(qtbot, ctx):
    window = loaded_window(qtbot, ctx)
    home = window.stack.currentWidget()
    assert not any("已扣留" in line for line in home.lines(home.todos))
    before = int(nav_counts(window)["product_batch"] or 0)
    task = ctx.write(lambda session: hold_a_batch_in(session))
    with qtbot.waitSignal(ctx.runner.data_changed, timeout=20000):
        ctx.runner.run(task, lambda _result: None, lambda error: pytest.fail(str(error)))
    qtbot.waitUntil(lambda: any("已扣留" in line for line in home.lines(home.todos)), timeout=20000)
    assert int(nav_counts(window)["product_batch"]) == before + 1  # the held batch


def nav_counts(window) -> dict[str, str]:
    """The count beside each navigation entry, by the page it opens."""
    return {window.nav.topLevelItem(g).child(i).data(0, Qt.ItemDataRole.UserRole):
            window.nav.topLevelItem(g).child(i).text(1)
            for g in range(window.nav.topLevelItemCount()) for i in range(window.nav.topLevelItem(g).childCount())}
