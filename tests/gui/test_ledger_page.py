"""The ledger table (app.ui.ledger_model) and its page (app.ui.ledger_page) on the
demo factory: every model passes Qt's model tester, every filter and sort gives
the rows plain SQL gives, and opening a record goes through RecordDialog.open."""

from __future__ import annotations

import datetime as dt
import sys
import types

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from sqlalchemy import text

from app.ledgers import ledger, registry
from app.ui.dialogs import Dialogs
from app.ui.ledger_model import ALERT_COLOUR, PAGE_SIZE, LedgerTableModel
from app.ui.ledger_page import LedgerPage


def sql(ctx, statement: str, **params) -> list:
    with ctx.engine.connect() as conn:
        return list(conn.execute(text(statement), params))


def sql_ids(ctx, statement: str, **params) -> list[int]:
    return [row[0] for row in sql(ctx, statement, **params)]


def count(ctx, statement: str, **params) -> int:
    return sql(ctx, statement, **params)[0][0]


def settled(model: LedgerTableModel) -> LedgerTableModel:
    """The model once its count has come back from the task runner (a ledger longer than a page)."""
    model.ctx.runner.settle()
    assert model.counted
    return model


def ids_of(model: LedgerTableModel) -> list[int]:
    return [model.record_id(row) for row in range(settled(model).rowCount())]


def column(model: LedgerTableModel, name: str) -> int:
    return model.ledger.field_names.index(name)


def texts(model: LedgerTableModel, name: str) -> list[str]:
    return [model.data(model.index(row, column(model, name))) for row in range(settled(model).rowCount())]


@pytest.fixture
def receipts(ctx):
    return LedgerTableModel(ctx, ledger("incoming_inspection"))


# ------------------------------------------------------------ every ledger


@pytest.mark.parametrize("key", sorted(registry()))
def test_every_ledger_model_passes_the_model_tester(ctx, qtmodeltester, key):
    model = LedgerTableModel(ctx, ledger(key))
    table = ledger(key).model.__tablename__
    qtmodeltester.check(model)  # before the count of a long ledger comes back, and after
    assert settled(model).rowCount() == count(ctx, f"SELECT count(*) FROM {table}")
    assert model.columnCount() == len(ledger(key).fields)
    # The tester keeps watching while the model re-queries and counts again.
    model.sort(0, Qt.SortOrder.DescendingOrder)
    model.set_filters("2026")
    model.refresh()
    settled(model)


def test_a_long_ledger_shows_its_first_page_and_counts_in_the_background(ctx, qtbot):
    model = LedgerTableModel(ctx, ledger("archive"))
    total = count(ctx, "SELECT count(*) FROM archive")
    assert total > PAGE_SIZE  # the demo's archives: more than a page
    assert (model.rowCount(), model.counted) == (PAGE_SIZE, False)
    with qtbot.waitSignal(model.rowsInserted, timeout=None) as inserted:
        ctx.runner.settle()
    assert inserted.args[1:] == [PAGE_SIZE, total - 1]
    assert (model.rowCount(), model.counted) == (total, True)
    # Pages are windows of the ordered query (the deepest read from the far end):
    # together, exactly the rows the whole query gives, in its order.
    for column_, descending in ((-1, False), (column(model, "archive_no"), True), (column(model, "status"), False)):
        model.sort(column_, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        with ctx.read() as session:
            whole = session.scalars(model.query.ids(model.filters, *model.sorting)).all()
        assert ids_of(model) == whole


def test_headers_are_the_chinese_labels(receipts):
    labels = [receipts.headerData(c, Qt.Orientation.Horizontal) for c in range(receipts.columnCount())]
    assert labels == [f.label for f in ledger("incoming_inspection").fields]
    assert labels[0] == "进货查验单号"


# ------------------------------------------------------------ filters against SQL


def searched_sql(key: str, test: str = "{column} LIKE :pattern") -> str:
    """The search as plain SQL: text fields, the number field, and what references show."""
    declared = ledger(key)
    found = []
    for f in declared.fields:
        if f.kind in ("text", "longtext") or f.name == declared.number_field:
            found.append(test.format(column=f.name))
        elif f.kind == "ref" and ledger(f.lookup.ledger).field(f.lookup.display).kind in ("text", "longtext"):
            target = ledger(f.lookup.ledger).model.__tablename__
            inner = test.format(column=f.lookup.display)
            found.append(f"{f.name} IN (SELECT id FROM {target} WHERE {inner})")
    return " OR ".join(found)


def test_search_is_a_case_blind_like_over_the_text_fields(ctx, receipts):
    total = receipts.rowCount()
    where = searched_sql("incoming_inspection")
    for term in ("大豆", "JH202610", "jh202610", "kg"):
        receipts.set_filters(term)
        expected = sql_ids(ctx, f"SELECT id FROM incoming_inspection WHERE {where} ORDER BY receipt_date DESC, id DESC",
                           pattern=f"%{term}%")
        assert ids_of(receipts) == expected, term
        assert 0 < receipts.rowCount() < total, term
    receipts.set_filters("")
    assert receipts.rowCount() == total


def test_search_finds_what_references_show(ctx):
    model = LedgerTableModel(ctx, ledger("stock_movement"))
    lot_no = sql(ctx, "SELECT l.lot_no FROM stock_movement m JOIN material_lot l ON l.id = m.lot_id LIMIT 1")[0][0]
    model.set_filters(lot_no)
    assert 0 < model.rowCount() == count(ctx, "SELECT count(*) FROM stock_movement WHERE "
                                         + searched_sql("stock_movement"), pattern=f"%{lot_no}%")
    assert lot_no in texts(model, "lot_id")


@pytest.mark.parametrize("term", ["%", "_", "9.0%", "a_b", "/", "'", "x' OR '1'='1"])
def test_search_escapes_like_wildcards_and_quotes(ctx, receipts, term):
    where = searched_sql("incoming_inspection", "instr({column}, :term) > 0")
    receipts.set_filters(term)
    assert receipts.rowCount() == count(ctx, f"SELECT count(*) FROM incoming_inspection WHERE {where}", term=term)
    if term == "%":
        assert receipts.rowCount() > 0  # the demo has specs like 含量≥99.0%


def test_date_range_on_a_date_field_is_inclusive(ctx, receipts):
    first, last = dt.date(2026, 9, 27), dt.date(2026, 10, 28)
    receipts.set_filters(date_from=first, date_to=last)
    expected = count(ctx, "SELECT count(*) FROM incoming_inspection WHERE receipt_date BETWEEN :a AND :b",
                     a=first.isoformat(), b=last.isoformat())
    assert 0 < receipts.rowCount() == expected
    assert set(texts(receipts, "receipt_date")) >= {first.isoformat(), last.isoformat()}
    receipts.set_filters(date_from=first)
    assert receipts.rowCount() == count(
        ctx, "SELECT count(*) FROM incoming_inspection WHERE receipt_date >= :a", a=first.isoformat())


def test_date_range_on_a_datetime_field_includes_the_whole_last_day(ctx):
    model = LedgerTableModel(ctx, ledger("ccp_reading"))
    last_day = sql(ctx, "SELECT max(date(measured_at)) FROM ccp_reading")[0][0]
    day = dt.date.fromisoformat(last_day)
    model.set_filters(date_from=day - dt.timedelta(days=10), date_to=day)
    expected = count(ctx, "SELECT count(*) FROM ccp_reading WHERE date(measured_at) BETWEEN :a AND :b",
                     a=(day - dt.timedelta(days=10)).isoformat(), b=last_day)
    assert 0 < model.rowCount() == expected
    assert any(value.startswith(last_day) for value in texts(model, "measured_at"))


def test_equality_filters(ctx, receipts):
    receipts.set_filters(equals={"decision": "rejected"})
    assert ids_of(receipts) == sql_ids(ctx, "SELECT id FROM incoming_inspection WHERE decision = 'rejected'")
    assert set(texts(receipts, "decision")) == {"拒收"}
    supplier = sql(ctx, "SELECT supplier_id FROM incoming_inspection GROUP BY 1 ORDER BY count(*) DESC")[0][0]
    receipts.set_filters("", equals={"supplier_id": supplier, "decision": "accepted"})
    assert receipts.rowCount() == count(
        ctx, "SELECT count(*) FROM incoming_inspection WHERE supplier_id = :s AND decision = 'accepted'", s=supplier)
    receipts.set_filters(equals={"warehouse_id": None})
    assert receipts.rowCount() == count(ctx, "SELECT count(*) FROM incoming_inspection WHERE warehouse_id IS NULL")
    with pytest.raises(KeyError):
        receipts.set_filters(equals={"no_such_field": 1})


def test_equality_on_a_flag(ctx):
    model = LedgerTableModel(ctx, ledger("ccp_reading"))
    model.set_filters(equals={"deviation": True})
    assert 0 < model.rowCount() == count(ctx, "SELECT count(*) FROM ccp_reading WHERE deviation")
    assert set(texts(model, "deviation")) == {"是"}


def test_filters_combine(ctx, receipts):
    receipts.set_filters("kg", dt.date(2026, 9, 1), dt.date(2026, 10, 31), {"decision": "accepted"})
    where = searched_sql("incoming_inspection", "{column} LIKE '%kg%'")
    assert receipts.rowCount() == count(
        ctx, f"SELECT count(*) FROM incoming_inspection WHERE ({where}) AND decision = 'accepted'"
        " AND receipt_date BETWEEN '2026-09-01' AND '2026-10-31'")


# ------------------------------------------------------------ sorting


def test_default_order_is_newest_first_and_sort_runs_in_sql(ctx, receipts):
    assert ids_of(receipts) == sql_ids(ctx, "SELECT id FROM incoming_inspection ORDER BY receipt_date DESC, id DESC")
    receipts.sort(column(receipts, "quantity"), Qt.SortOrder.DescendingOrder)
    assert ids_of(receipts) == sql_ids(ctx, "SELECT id FROM incoming_inspection ORDER BY quantity DESC, id DESC")
    receipts.sort(column(receipts, "receipt_no"), Qt.SortOrder.AscendingOrder)
    assert texts(receipts, "receipt_no") == sorted(texts(receipts, "receipt_no"))
    receipts.sort(-1)
    assert ids_of(receipts) == sql_ids(ctx, "SELECT id FROM incoming_inspection ORDER BY receipt_date DESC, id DESC")


def test_sort_keeps_the_filters(ctx, receipts):
    receipts.set_filters(equals={"decision": "accepted"})
    receipts.sort(column(receipts, "quantity"), Qt.SortOrder.AscendingOrder)
    assert ids_of(receipts) == sql_ids(
        ctx, "SELECT id FROM incoming_inspection WHERE decision = 'accepted' ORDER BY quantity, id")


def test_ref_columns_sort_by_what_they_show(ctx, receipts):
    receipts.sort(column(receipts, "supplier_id"), Qt.SortOrder.AscendingOrder)
    assert ids_of(receipts) == sql_ids(
        ctx, "SELECT i.id FROM incoming_inspection i JOIN supplier s ON s.id = i.supplier_id ORDER BY s.name, i.id")
    receipts.sort(column(receipts, "supplier_id"), Qt.SortOrder.DescendingOrder)
    shown = texts(receipts, "supplier_id")
    assert shown == sorted(shown, reverse=True)


def test_choice_columns_sort_in_declared_order(ctx):
    model = LedgerTableModel(ctx, ledger("product_batch"))
    model.sort(column(model, "status"), Qt.SortOrder.AscendingOrder)
    order = list(ledger("product_batch").field("status").choices.values())
    ranks = [order.index(label) for label in texts(model, "status")]
    assert ranks == sorted(ranks) and len(set(ranks)) > 1


# ------------------------------------------------------------ what a cell shows


def test_refs_choices_numbers_and_dates_display(ctx, receipts):
    row_id, quantity = sql(ctx, "SELECT id, quantity FROM incoming_inspection WHERE decision = 'rejected'")[0]
    material, supplier, inspector = sql(ctx, """
        SELECT m.name, s.name, p.name FROM incoming_inspection i JOIN material m ON m.id = i.material_id
        JOIN supplier s ON s.id = i.supplier_id JOIN person p ON p.id = i.inspector_id
        WHERE i.id = :id""", id=row_id)[0]
    row = ids_of(receipts).index(row_id)
    shown = {f.name: receipts.data(receipts.index(row, c)) for c, f in enumerate(receipts.fields)}
    assert (shown["material_id"], shown["supplier_id"], shown["inspector_id"]) == (material, supplier, inspector)
    assert shown["decision"] == "拒收"
    assert shown["quantity"] == ledger("incoming_inspection").field("quantity").display(quantity)
    assert dt.date.fromisoformat(shown["receipt_date"])
    number = receipts.index(row, column(receipts, "quantity"))
    assert receipts.data(number, Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert receipts.data(receipts.index(row, 0), Qt.ItemDataRole.TextAlignmentRole) is None
    assert receipts.data(receipts.index(row, 0), Qt.ItemDataRole.ForegroundRole) == ALERT_COLOUR
    accepted = ids_of(receipts).index(sql(ctx, "SELECT id FROM incoming_inspection WHERE decision = 'accepted'")[0][0])
    assert receipts.data(receipts.index(accepted, 0), Qt.ItemDataRole.ForegroundRole) is None


def test_tooltips_show_what_a_column_cuts_off(receipts):
    summary = column(receipts, "own_test_summary")
    row = next(r for r in range(receipts.rowCount()) if receipts.data(receipts.index(r, summary)))
    long_text = receipts.data(receipts.index(row, summary))
    assert receipts.data(receipts.index(row, summary), Qt.ItemDataRole.ToolTipRole) == long_text
    assert receipts.data(receipts.index(row, column(receipts, "unit")), Qt.ItemDataRole.ToolTipRole) is None
    assert receipts.headerData(column(receipts, "expiry_date"), Qt.Orientation.Horizontal,
                               Qt.ItemDataRole.ToolTipRole) == "到期日期"


def test_bools_and_ccp_deviations(ctx):
    model = LedgerTableModel(ctx, ledger("ccp_reading"))
    flags = texts(model, "deviation")
    assert set(flags) == {"是", "否"}
    red = [model.data(model.index(row, 0), Qt.ItemDataRole.ForegroundRole) == ALERT_COLOUR
           for row in range(model.rowCount())]
    assert red == [flag == "是" for flag in flags]


def test_datetime_refs_use_the_lookups_format(ctx):
    model = LedgerTableModel(ctx, ledger("additive_use"))
    fed = [value for value in texts(model, "feeding_id") if value]
    assert fed and all(dt.datetime.strptime(value, "%Y-%m-%d %H:%M") for value in fed)


def test_rows_are_fetched_a_page_at_a_time_with_one_query_per_lookup(ctx):
    from sqlalchemy import event

    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def selects() -> int:
        return len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))])

    event.listen(ctx.engine, "before_cursor_execute", seen)
    try:
        model = settled(LedgerTableModel(ctx, ledger("stock_movement")))
        assert model.rowCount() > PAGE_SIZE
        for row in range(PAGE_SIZE):
            for c in range(model.columnCount()):
                model.data(model.index(row, c))
        # a window of ids + rows + material lots + product batches + people (both person
        # columns in one query), and the count in the background: never all the ids
        first_page = selects()
        assert 3 <= first_page <= 6, statements
        model.data(model.index(PAGE_SIZE, 0))
        second_page = selects() - first_page
        assert 2 <= second_page <= 5, statements
    finally:
        event.remove(ctx.engine, "before_cursor_execute", seen)


# ------------------------------------------------------------ the page


class FakeDialog(QObject):
    saved = Signal(int)


@pytest.fixture
def record_dialog(monkeypatch):
    """A stand-in app.ui.record_dialog, whether or not the real one exists yet."""
    calls: list[tuple] = []
    dialog = FakeDialog()

    class RecordDialog:
        @classmethod
        def open(cls, ctx, ledger, record_id=None, parent=None):
            calls.append((ledger.key, record_id, parent))
            return dialog

    module = types.ModuleType("app.ui.record_dialog")
    module.RecordDialog = RecordDialog
    monkeypatch.setitem(sys.modules, "app.ui.record_dialog", module)
    return types.SimpleNamespace(calls=calls, dialog=dialog)


@pytest.fixture
def page(ctx, qtbot):
    widget = LedgerPage(ctx, ledger("incoming_inspection"))
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    return widget


def test_page_shows_rows_and_their_count(ctx, page):
    total = count(ctx, "SELECT count(*) FROM incoming_inspection")
    assert page.table.model().rowCount() == total
    assert page.count_label.text() == f"共 {total} 条"
    assert set(page.combos) == {"material_id", "supplier_id", "decision"}
    assert page.combos["decision"].itemText(0) == "全部"
    assert page.table.columnWidth(0) > page.fontMetrics().horizontalAdvance("JH20261118002")
    header = page.table.horizontalHeader()  # newest first, and shown so
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        column(page.model, "receipt_date"), Qt.SortOrder.DescendingOrder)


def test_page_search_is_debounced(ctx, page, qtbot):
    qtbot.keyClicks(page.search, "JH202610")
    assert page.model.rowCount() == count(ctx, "SELECT count(*) FROM incoming_inspection")  # not yet
    expected = count(ctx, "SELECT count(*) FROM incoming_inspection WHERE "
                     + searched_sql("incoming_inspection", "{column} LIKE '%JH202610%'"))
    assert 0 < expected < page.model.rowCount()
    qtbot.waitUntil(lambda: page.count_label.text() == f"共 {expected} 条", timeout=2000)


def test_page_chinese_search_through_an_input_method(ctx, page, qtbot):
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtWidgets import QApplication

    event = QInputMethodEvent()
    event.setCommitString("大豆")
    QApplication.sendEvent(page.search, event)
    assert page.search.text() == "大豆"
    qtbot.waitUntil(lambda: page.model.filters.search == "大豆", timeout=2000)
    assert 0 < page.model.rowCount() < count(ctx, "SELECT count(*) FROM incoming_inspection")


def test_page_filters_by_combo_and_period(ctx, page):
    combo = page.combos["decision"]
    combo.setCurrentIndex(combo.findData("rejected"))
    assert page.count_label.text() == "共 1 条"
    combo.setCurrentIndex(0)
    page.date_from.setDate(dt.date(2026, 10, 1))
    assert page.model.rowCount() == count(ctx, "SELECT count(*) FROM incoming_inspection")  # period not ticked
    page.date_check.setChecked(True)
    assert page.date_from.isEnabled()
    assert page.model.rowCount() == count(
        ctx, "SELECT count(*) FROM incoming_inspection WHERE receipt_date BETWEEN '2026-10-01' AND :last",
        last=page.date_to.date().toPython().isoformat())
    page.date_check.setChecked(False)
    assert page.model.rowCount() == count(ctx, "SELECT count(*) FROM incoming_inspection")


def test_header_click_sorts_in_sql(ctx, page, qtbot):
    quantity = column(page.model, "quantity")
    page.table.sortByColumn(quantity, Qt.SortOrder.AscendingOrder)
    assert ids_of(page.model) == sql_ids(ctx, "SELECT id FROM incoming_inspection ORDER BY quantity, id")


def test_double_click_opens_the_record(ctx, page, qtbot, record_dialog):
    where = page.table.visualRect(page.model.index(3, 1)).center()
    # What a mouse sends: a click, then the double-click on the same row.
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert record_dialog.calls == [("incoming_inspection", page.model.record_id(3), page)]


def test_enter_opens_the_record_and_new_opens_an_empty_one(page, qtbot, record_dialog):
    page.table.setCurrentIndex(page.model.index(5, 0))
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    assert [call[:2] for call in record_dialog.calls] == [
        ("incoming_inspection", page.model.record_id(5)), ("incoming_inspection", None)]


def test_a_save_refreshes_and_selects_the_record(ctx, page, record_dialog):
    page.open_record(None)
    page.open_record(None)  # the same window again: still one refresh a save
    resets: list[int] = []
    page.model.modelReset.connect(lambda: resets.append(1))
    record_id = sql(ctx, "SELECT id FROM incoming_inspection ORDER BY receipt_date LIMIT 1")[0][0]
    record_dialog.dialog.saved.emit(record_id)
    assert resets == [1]
    assert page.model.record_id(page.table.currentIndex().row()) == record_id


def test_page_stays_usable_without_the_record_form(page, monkeypatch):
    warnings: list[tuple] = []
    monkeypatch.setattr(Dialogs, "warn", classmethod(lambda cls, parent, title, body: warnings.append((title, body))))
    monkeypatch.setitem(sys.modules, "app.ui.record_dialog", None)  # import raises ImportError
    page.open_record(page.model.record_id(0))
    assert warnings and warnings[0][0] == "无法打开记录"
    assert page.model.rowCount() > 0


def test_a_ledger_without_dates_builds_without_a_period(ctx, qtbot):
    widget = LedgerPage(ctx, ledger("formula_item"))
    qtbot.addWidget(widget)
    assert not hasattr(widget, "date_check")
    assert set(widget.combos) == {"product_id", "material_id"}
    assert widget.model.rowCount() == count(ctx, "SELECT count(*) FROM formula_item")
    widget.combos["product_id"].setCurrentIndex(1)
    assert widget.model.rowCount() == count(ctx, "SELECT count(*) FROM formula_item WHERE product_id = :p",
                                            p=widget.combos["product_id"].currentData())

