"""The trace screen, the archive browser and the upload page on the demo factory."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTreeWidgetItemIterator
from sqlalchemy import text

from app.i18n import tr
from app.ui.dialogs import Dialogs

WAIT = 30000


def sql(ctx, statement: str, **params) -> list:
    with ctx.engine.connect() as connection:
        return connection.execute(text(statement), params).all()


def items(tree):
    iterator = QTreeWidgetItemIterator(tree)
    while item := iterator.value():
        yield item
        iterator += 1


def named(tree, kind: str) -> set[str]:
    """The names on the rows of one kind ("客户 上海…" -> "上海…")."""
    prefix = tr(kind) + " "
    return {item.text(0)[len(prefix):] for item in items(tree) if item.text(0).startswith(prefix)}


# ------------------------------------------------------------------ trace

@pytest.fixture
def view(qtbot, ctx):
    from app.ui.trace_view import TraceView

    widget = TraceView(ctx)
    qtbot.addWidget(widget)
    return widget


def run(qtbot, view, number: str, direction: str) -> None:
    with qtbot.waitSignal(view.finished, timeout=WAIT):
        view.run_trace(number, direction)


def soybean_lot(ctx) -> str:
    return sql(ctx, """
        SELECT l.lot_no FROM material_lot l JOIN material m ON m.id = l.material_id
        WHERE m.name LIKE '%大豆%' AND EXISTS (SELECT 1 FROM feeding f WHERE f.material_lot_id = l.id)
        ORDER BY l.lot_no LIMIT 1""")[0][0]


def test_forward_trace_from_a_soybean_lot_reaches_customers(qtbot, ctx, view):
    lot_no = soybean_lot(ctx)
    run(qtbot, view, lot_no, "forward")

    assert view.error.isHidden()
    assert view.tree.topLevelItem(0).text(0) == f"{tr('Material lot')} {lot_no}"
    customers = named(view.tree, "Customer")
    in_db = {name for (name,) in sql(ctx, "SELECT name FROM customer")}
    assert customers and customers <= in_db
    assert customers == {c["name"] for c in view.data["customers"]}
    assert view.balance.rowCount() == len(view.data["mass_balance"]["material_lots"]) + len(
        view.data["mass_balance"]["product_batches"])
    assert view.busy.isHidden() and view.trace_button.isEnabled()


def test_mixed_batches_nest_and_are_expanded_once(qtbot, ctx, view):
    run(qtbot, view, soybean_lot(ctx), "forward")  # two soymilk-base batches are mixed into one batch

    batch = tr("Product batch") + " "
    rows = [(parent, item) for item in items(view.tree) for parent in [item.parent()] if item.text(0).startswith(batch)]
    assert any(parent is not None and parent.text(0).startswith(batch) for parent, _item in rows)
    expanded = [item.text(0) for _parent, item in rows if item.childCount()]
    assert expanded and len(expanded) == len(set(expanded))
    assert any(tr("continued above") in item.text(4) and not item.childCount() for _parent, item in rows)


def test_a_scanned_delivery_number_traces_back_to_suppliers(qtbot, ctx, view):
    delivery_no = sql(ctx, "SELECT delivery_no FROM delivery ORDER BY id LIMIT 1")[0][0]
    view.backward_button.click()
    qtbot.keyClicks(view.number, delivery_no)  # a scanner types the number, then Enter
    with qtbot.waitSignal(view.finished, timeout=WAIT):
        qtbot.keyClick(view.number, Qt.Key.Key_Return)

    assert view.data["direction"] == "backward"
    assert view.tree.topLevelItem(0).text(0) == f"{tr('Delivery')} {delivery_no}"
    suppliers = named(view.tree, "Supplier")
    in_db = {name for (name,) in sql(ctx, "SELECT name FROM supplier")}
    assert suppliers and suppliers <= in_db


def test_a_mass_balance_discrepancy_is_red_with_its_flag(qtbot, ctx, view):
    lot_no = soybean_lot(ctx)
    with ctx.engine.begin() as connection:  # this test's own copy of the demo database
        connection.execute(text("UPDATE material_lot SET quantity_on_hand = quantity_on_hand + 5 WHERE lot_no = :n"),
                           {"n": lot_no})
    run(qtbot, view, lot_no, "forward")

    last = view.balance.columnCount() - 1
    row = next(r for r in range(view.balance.rowCount()) if view.balance.item(r, 1).text() == lot_no)
    assert lot_no in view.balance.item(row, last).text() and "账实不符" in view.balance.item(row, last).text()
    assert view.balance.item(row, 1).foreground().color().name() == "#b00020"
    assert view.balance.item(row + 1, 1).foreground().color().name() != "#b00020"
    assert "1" in view.balance_title.text()


def test_an_unknown_number_shows_inline_and_opens_no_dialog(qtbot, view):
    run(qtbot, view, "NO-SUCH-LOT-42", "forward")  # any dialog would fail the test (conftest)

    assert not view.error.isHidden()
    assert "NO-SUCH-LOT-42" in view.error.text()
    assert view.tree.topLevelItemCount() == 0
    assert not view.copy_button.isEnabled()


def test_copy_puts_the_tree_on_the_clipboard(qtbot, ctx, view):
    lot_no = soybean_lot(ctx)
    run(qtbot, view, lot_no, "forward")
    QGuiApplication.clipboard().clear()
    view.copy_button.click()

    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0].split("\t")[0] == tr("Trace chain")
    assert lines[1].split("\t")[:2] == [f"{tr('Material lot')} {lot_no}", view.data["material_lots"][0]["material"]]
    assert all(len(line.split("\t")) == len(lines[0].split("\t")) for line in lines)
    assert any(line.startswith("  ") for line in lines)  # children are indented


def test_export_saves_the_json(qtbot, ctx, view, monkeypatch, tmp_path):
    target = tmp_path / "trace.json"
    monkeypatch.setattr(Dialogs, "save_file", classmethod(lambda cls, *args: str(target)))
    run(qtbot, view, soybean_lot(ctx), "forward")
    view.export_button.click()

    qtbot.waitUntil(lambda: str(target) in view.note.text(), timeout=WAIT)
    assert json.loads(target.read_text(encoding="utf-8")) == view.data


# ------------------------------------------------------------------ archive browser

@pytest.fixture
def browser(qtbot, ctx):
    from app.ui.archive_browser import ArchiveBrowser

    widget = ArchiveBrowser(ctx)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.tree.topLevelItemCount() > 0, timeout=WAIT)
    return widget


def commodity_archive(ctx):
    """A commodity archive whose catalogue has an entry of several records."""
    return sql(ctx, """
        SELECT a.id, a.archive_no, a.product_batch_id, b.product_id, b.batch_no, a.cites_archive_id, c.archive_no
        FROM archive a JOIN product_batch b ON b.id = a.product_batch_id JOIN archive c ON c.id = a.cites_archive_id
        WHERE a.kind = 'commodity'
          AND EXISTS (SELECT 1 FROM catalogue_entry e WHERE e.archive_id = a.id AND e.record_ids LIKE '%,%')
        ORDER BY a.id LIMIT 1""")[0]


def open_commodity_archive(qtbot, ctx, browser):
    archive_id, _no, batch_id, product_id, _batch_no, _cited, _cited_no = commodity_archive(ctx)
    with qtbot.waitSignal(browser.batches_loaded, timeout=WAIT):
        browser.tree.expandItem(browser.item_for("product", product_id))
    with qtbot.waitSignal(browser.archive_shown, timeout=WAIT):
        browser.tree.setCurrentItem(browser.item_for("archive", archive_id))
    return archive_id


def test_the_browser_lists_a_batch_with_its_archives(qtbot, ctx, browser):
    _id, _no, batch_id, product_id, batch_no, _cited, _cited_no = commodity_archive(ctx)
    with qtbot.waitSignal(browser.batches_loaded, timeout=WAIT):
        browser.tree.expandItem(browser.item_for("product", product_id))

    batch = browser.item_for("batch", batch_id)
    assert batch.text(0).startswith(batch_no)
    shown = [batch.child(i).text(0) for i in range(batch.childCount())]
    in_db = sql(ctx, "SELECT archive_no FROM archive WHERE product_batch_id = :b", b=batch_id)
    assert len(shown) == len(in_db) >= 2
    assert all(any(no in label for label in shown) for (no,) in in_db)
    assert shown[0].startswith("产品档案")


def test_a_commodity_archive_shows_its_catalogue_and_the_archive_it_cites(qtbot, ctx, browser):
    archive_id = open_commodity_archive(qtbot, ctx, browser)
    _id, archive_no, _batch, _product, _batch_no, cited_id, cited_no = commodity_archive(ctx)

    assert browser.fields["archive_no"].text() == archive_no
    assert browser.fields["kind"].text() == "商品档案"
    assert cited_no in browser.fields["cites"].text()
    entries = sql(ctx, """SELECT seq, COALESCE(doc_no, ''), responsible, title, date, pages FROM catalogue_entry
                          WHERE archive_id = :a ORDER BY seq""", a=archive_id)
    table = browser.catalogue
    shown = [[table.item(r, c).text() for c in range(6)] for r in range(table.rowCount())]
    assert shown == [[str(seq), doc_no, who, title, (date or "").replace("-", ""), str(pages)]
                     for seq, doc_no, who, title, date, pages in entries]

    with qtbot.waitSignal(browser.archive_shown, timeout=WAIT) as shown_signal:
        browser.fields["cites"].linkActivated.emit(f"archive:{cited_id}")
    assert shown_signal.args == [cited_id]
    assert browser.tree.currentItem() is browser.item_for("archive", cited_id)
    assert browser.fields["kind"].text() == "产品档案"


def test_double_clicking_a_catalogue_row_opens_its_first_record(qtbot, ctx, browser, monkeypatch):
    from app.ui.record_dialog import RecordDialog

    opened = []
    monkeypatch.setattr(RecordDialog, "open", classmethod(lambda cls, *args, **kwargs: opened.append((args, kwargs))))
    open_commodity_archive(qtbot, ctx, browser)
    row = next(r for r, e in enumerate(browser.archive["entries"]) if len(e["record_ids"]) > 1)
    entry = browser.archive["entries"][row]
    browser.catalogue.cellDoubleClicked.emit(row, 3)

    assert opened == [((ctx, entry["ledger"], entry["record_ids"][0]), {"parent": browser})]
    assert str(len(entry["record_ids"])) in browser.note.text()


def test_the_filter_finds_a_batch_by_archive_number(qtbot, ctx, browser):
    archive_id, archive_no, batch_id, *_ = commodity_archive(ctx)
    with qtbot.waitSignal(browser.tree_loaded, timeout=WAIT):
        qtbot.keyClicks(browser.filter, archive_no)
    assert browser.item_for("batch", batch_id) is not None
    assert browser.item_for("archive", archive_id) is not None
    batches = [item for item in items(browser.tree) if (item.data(0, Qt.ItemDataRole.UserRole) or ("",))[0] == "batch"]
    assert len(batches) == 1  # only the match is listed


# ------------------------------------------------------------------ upload page

def test_the_upload_page_counts_the_archives(qtbot, ctx):
    from app.ui.upload_page import UploadPage

    page = UploadPage(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.stats is not None, timeout=WAIT)

    (total,) = sql(ctx, "SELECT COUNT(*) FROM archive")[0]
    assert total > 0
    assert page.archive_total.text() == tr("{count} archives in all.", count=total)
    by_kind = sql(ctx, "SELECT kind, status, COUNT(*) FROM archive GROUP BY kind, status")
    assert page.stats["archives"] == {(kind, status): n for kind, status, n in by_kind}
    batches = dict(sql(ctx, "SELECT status, COUNT(*) FROM product_batch GROUP BY status"))
    assert page.stats["batches"] == batches
    assert page.stats["expiring_licences"] >= 1  # the demo's defoamer maker
