"""Excel from the desktop (issue 6): a ledger page exports the rows its table
shows, in the background with a progress bar; imports all or nothing; the
main window writes the workbook for an inspection."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from app.ledgers import ledger
from app.reports.sheet import HEADER_ROW
from app.ui import excel_actions
from app.ui.dialogs import Dialogs
from app.ui.ledger_page import LedgerPage


@pytest.fixture
def page(ctx, qtbot):
    widget = LedgerPage(ctx, ledger("incoming_inspection"))
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def shown(monkeypatch):
    """What the info and warning boxes said."""
    messages: list[tuple[str, str]] = []
    monkeypatch.setattr(Dialogs, "info", classmethod(lambda cls, parent, title, body: messages.append(("info", body))))
    monkeypatch.setattr(Dialogs, "warn", classmethod(lambda cls, parent, title, body: messages.append(("warn", body))))
    return messages


def save_to(monkeypatch, path) -> None:
    monkeypatch.setattr(Dialogs, "save_file", classmethod(lambda cls, *args: str(path)))


def finish(qtbot, progress) -> None:
    qtbot.waitUntil(lambda: not progress.busy, timeout=60000)


def test_export_has_the_tables_filters_and_order(ctx, page, qtbot, monkeypatch, shown, tmp_path):
    combo = page.combos["decision"]
    combo.setCurrentIndex(combo.findData("accepted"))
    page.table.sortByColumn(page.ledger.field_names.index("supplier_lot"), Qt.SortOrder.AscendingOrder)
    wanted = [page.model.data(page.model.index(row, 0)) for row in range(page.model.rowCount())]
    assert 0 < len(wanted) < ctx.engine.connect().execute(text("SELECT count(*) FROM incoming_inspection")).scalar() + 1
    save_to(monkeypatch, tmp_path / "receipts")  # the suffix is added
    page.excel.export_action.trigger()
    assert page.excel.progress.isVisibleTo(page)
    finish(qtbot, page.excel.progress)
    assert not page.excel.progress.isVisibleTo(page)
    ws = openpyxl.load_workbook(tmp_path / "receipts.xlsx").active
    got = [ws.cell(row, 1).value for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + len(wanted))]
    assert got == wanted
    assert "查验结论：合格接收" in ws["A2"].value
    assert shown == [("info", f"已导出 {len(wanted)} 行：{tmp_path / 'receipts.xlsx'}")]


def test_progress_bar_follows_reports_and_cancel(qtbot):
    progress = excel_actions.TaskProgress()
    qtbot.addWidget(progress)
    progress._report(250, 1000, "进货查验记录")
    assert (progress.bar.value(), progress.bar.maximum(), progress.label.text()) == (250, 1000, "进货查验记录")


def test_cancelled_export_leaves_no_file(ctx, page, qtbot, monkeypatch, shown, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    save_to(monkeypatch, folder / "cancelled.xlsx")
    from app.reports import ledger_export

    real = ledger_export.stream_rows

    def slow(session, query, layout, ids, report=None, total=None):
        page.excel.progress.cancel()  # the user presses Cancel while rows are written
        yield from real(session, query, layout, ids, report, total)

    monkeypatch.setattr(ledger_export, "stream_rows", slow)
    page.excel.export_action.trigger()
    finish(qtbot, page.excel.progress)
    assert shown == []  # a cancel is not an error
    assert list(folder.iterdir()) == []  # neither the file nor its temporary


def test_import_all_or_nothing_from_the_page(ctx, page, qtbot, monkeypatch, shown, tmp_path):
    exported = tmp_path / "again.xlsx"
    save_to(monkeypatch, exported)
    page.excel.export_action.trigger()
    finish(qtbot, page.excel.progress)
    shown.clear()
    before = page.model.rowCount()
    monkeypatch.setattr(excel_actions, "open_xlsx", lambda parent, title: str(exported))
    page.excel.import_action.trigger()  # every receipt number is taken
    finish(qtbot, page.excel.progress)
    assert len(shown) == 1 and shown[0][0] == "warn"
    assert "未导入任何记录" in shown[0][1] and "第 4 行 A 列「进货查验单号」" in shown[0][1]
    page.model.refresh()
    assert page.model.rowCount() == before


def test_workflow_ledgers_are_exported_but_not_imported(ctx, qtbot):
    sales = LedgerPage(ctx, ledger("delivery"))
    qtbot.addWidget(sales)
    assert sales.excel.export_action.isEnabled()
    assert not sales.excel.import_action.isEnabled() and not sales.excel.template_action.isEnabled()


def test_inspection_workbook_from_the_main_window(ctx, qtbot, monkeypatch, shown, tmp_path):
    from app.ui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    monkeypatch.setattr(excel_actions, "ask_inspection", lambda parent: (
        ["incoming_inspection", "delivery"], dt.date(2020, 1, 1), dt.date(2030, 12, 31)))
    save_to(monkeypatch, tmp_path / "inspection.xlsx")
    action = window.findChild(type(window.menuBar().actions()[0]), "inspectionWorkbook")
    action.trigger()
    finish(qtbot, window.excel_progress)
    wb = openpyxl.load_workbook(tmp_path / "inspection.xlsx")
    assert wb.sheetnames == ["目录", "进货查验记录", "出厂销售记录"]
    assert shown and shown[0][0] == "info" and "共 2 个台账" in shown[0][1]


def test_inspection_dialog_lists_every_ledger(qtbot):
    dialog = excel_actions.InspectionDialog()
    qtbot.addWidget(dialog)
    keys, first, last = dialog.chosen()
    assert set(keys) == set(excel_actions.INSPECTION_DEFAULT)
    assert first <= last and dialog.ledgers.count() == len(__import__("app.ledgers").ledgers.registry())


def test_trace_view_saves_the_flat_sheet(ctx, qtbot, monkeypatch, tmp_path):
    from app.ui.trace_view import TraceView

    view = TraceView(ctx)
    qtbot.addWidget(view)
    number = ctx.engine.connect().execute(text(
        "SELECT l.lot_no FROM material_lot l JOIN feeding f ON f.material_lot_id = l.id ORDER BY l.lot_no LIMIT 1"
    )).scalar()
    with qtbot.waitSignal(view.finished, timeout=60000):
        view.run_trace(number, "forward")
    target = tmp_path / "trace.xlsx"
    offered = []

    def save_file(cls, parent, title, name, filters):
        offered.append((name, filters))
        return str(target)

    monkeypatch.setattr(Dialogs, "save_file", classmethod(save_file))
    view.sheet_button.click()
    (name, filters), = offered
    assert name == f"追溯结果_{number}.xlsx" and filters.startswith("追溯事件表")
    qtbot.waitUntil(lambda: str(target) in view.note.text(), timeout=60000)
    ws = openpyxl.load_workbook(target).active
    assert ws.cell(HEADER_ROW, 1).value == "关键追溯事件"
    events = {ws.cell(row, 1).value for row in range(HEADER_ROW + 1, ws.max_row - 1)}
    assert {"接收", "投料", "生产", "包装", "销售发货"} <= events
    assert ws.cell(HEADER_ROW + 1, 2).value == number  # received first, by date
