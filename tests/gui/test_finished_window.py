"""Issue 17 §4: a window that feels finished — Qt's own texts in Chinese, no
table names, ids or database URLs on screen, pages that follow every write."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractItemView, QApplication, QDialogButtonBox, QGroupBox, QLabel, QLineEdit, QListWidget, QMessageBox,
    QTreeWidget,
)

from app import i18n
from app.ledgers.choices import RECORD_KIND
from app.models import Customer
from app.ui.app import install_qt_translations
from app.ui.main_window import MainWindow
from app.ui.record_dialog import RecordDialog

# Qt's standard button texts as they read untranslated (mnemonics stripped).
ENGLISH_BUTTONS = {"OK", "Cancel", "Yes", "No", "Close", "Apply", "Save", "Open", "Reset", "Help", "Discard",
                   "Abort", "Retry", "Ignore", "Yes to All", "No to All", "Save All", "Restore Defaults"}
TABLE_NAMES = set(RECORD_KIND)


@pytest.fixture
def chinese_qt(qapp):
    assert install_qt_translations(qapp, "zh_CN")
    yield
    install_qt_translations(qapp, "en")


@pytest.fixture
def window(qtbot, ctx, chinese_qt):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    return w


def visible_texts(widget) -> list[str]:
    """What a user reads on a page: labels, buttons, group titles, placeholders,
    table headers and the cells of the first rows, tree items."""
    texts: list[str] = []
    for child in [widget, *widget.findChildren(object)]:
        if not hasattr(child, "isVisibleTo") or not child.isVisibleTo(widget.window()):
            continue
        if isinstance(child, (QLabel, QAbstractButton)):
            texts.append(child.text())
        elif isinstance(child, QGroupBox):
            texts.append(child.title())
        elif isinstance(child, QLineEdit):
            texts += [child.text(), child.placeholderText()]
        if isinstance(child, QTreeWidget):
            it = [child.topLevelItem(i) for i in range(child.topLevelItemCount())]
            while it:
                item = it.pop()
                texts += [item.text(c) for c in range(child.columnCount())]
                it += [item.child(i) for i in range(item.childCount())]
        elif isinstance(child, QListWidget):
            texts += [child.item(i).text() for i in range(child.count())]
        elif isinstance(child, QAbstractItemView) and child.model() is not None:
            model = child.model()
            columns = model.columnCount(QModelIndex())
            texts += [str(model.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(columns)]
            for row in range(min(model.rowCount(QModelIndex()), 5)):
                texts += [str(model.index(row, c).data() or "") for c in range(columns)]
    return [t for t in texts if t]


def offending(texts: list[str]) -> list[str]:
    bad = []
    for text in texts:
        if set(re.findall(r"[a-z][a-z_]*[a-z]", text)) & TABLE_NAMES and "_" in text:
            bad.append(text)  # a table name such as product_batch
        elif re.fullmatch(r"[a-z_]+", text) and text in TABLE_NAMES:
            bad.append(text)
        elif text.replace("&", "") in ENGLISH_BUTTONS:
            bad.append(text)
        elif "sqlite:" in text or "postgresql" in text:
            bad.append(text)
    return bad


def test_the_detector_sees_what_the_issue_saw():
    assert offending(["product_batch", "&OK", "Cancel", "sqlite:////home/a/foodarchive.db", "来源台账 product_batch"]) \
        == ["product_batch", "&OK", "Cancel", "sqlite:////home/a/foodarchive.db", "来源台账 product_batch"]
    assert offending(["产品批生产记录", "确定", "SC10123010000011", "demo.db"]) == []


def test_qt_standard_buttons_are_chinese(chinese_qt):
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                           | QDialogButtonBox.StandardButton.Yes | QDialogButtonBox.StandardButton.No
                           | QDialogButtonBox.StandardButton.Close)
    texts = [b.text().replace("&", "") for b in box.buttons()]
    assert len(texts) == 5 and not set(texts) & ENGLISH_BUTTONS
    assert "确定" in "".join(texts) and "取消" in "".join(texts)
    message = QMessageBox(QMessageBox.Icon.Question, "标题", "正文",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    assert not {b.text().replace("&", "") for b in message.buttons()} & ENGLISH_BUTTONS


def test_no_page_shows_a_table_name_an_english_button_or_a_database_url(qtbot, ctx, window):
    assert i18n.language() == "zh_CN"
    status = window.where.text()
    assert "demo.db" in status and "sqlite" not in status and "用户：" in status and "企业：" in status
    pages = [window.nav.topLevelItem(g).child(i).data(0, Qt.ItemDataRole.UserRole)
             for g in range(window.nav.topLevelItemCount()) for i in range(window.nav.topLevelItem(g).childCount())]
    found = {}
    for key in ["home", *pages]:
        page = window.navigate(key)
        ctx.runner.settle()
        QApplication.processEvents()
        bad = offending(visible_texts(page))
        if bad:
            found[key] = bad[:5]
    assert found == {}
    assert offending(visible_texts(window.nav)) == []


def test_saving_a_record_updates_another_open_page(qtbot, ctx, window):
    customers = window.navigate("customer")
    before = customers.model.rowCount()
    # The record is saved from a window of its own, not from the customer page.
    dialog = RecordDialog.open(ctx, "customer")
    qtbot.addWidget(dialog)
    ctx.runner.settle()
    dialog.form.set_value("name", "上海新开超市有限公司")
    dialog.form.set_value("address", "上海市闵行区")
    dialog.form.set_value("phone", "021-60001234")
    with qtbot.waitSignal(ctx.runner.data_changed, timeout=10000):
        dialog.save()
    assert customers.model.rowCount() == before + 1


def test_a_page_out_of_view_reads_again_when_shown(qtbot, ctx, window):
    customers = window.navigate("customer")
    before = customers.model.rowCount()
    window.navigate("material")
    dialog = RecordDialog.open(ctx, "customer")
    qtbot.addWidget(dialog)
    ctx.runner.settle()
    dialog.form.set_value("name", "上海另一家超市有限公司")
    dialog.form.set_value("address", "上海市徐汇区")
    dialog.form.set_value("phone", "021-60005678")
    with qtbot.waitSignal(ctx.runner.data_changed, timeout=10000):
        dialog.save()
    assert customers.model.rowCount() == before  # not in view: not read yet
    assert window.navigate("customer").model.rowCount() == before + 1


def test_f5_reads_the_page_again(qtbot, ctx, window):
    customers = window.navigate("customer")
    before = customers.model.rowCount()
    ctx.write(lambda s: s.add(Customer(name="外部写入的购货者", address="上海", phone="021-1")) or s.flush())(None)
    assert customers.model.rowCount() == before  # written behind the window's back: no signal
    window.findChild(QAction, "refreshAction").trigger()
    assert customers.model.rowCount() == before + 1
