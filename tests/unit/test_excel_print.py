"""Excel ledgers that print legibly (issue 16, R7.1): every ledger's sheet,
read back from the file, printed at 8 pt or more on A4 landscape or on A3
(said in the page header); long text wraps in rows tall enough for it; master
lists exported for any period are whole."""

from __future__ import annotations

import datetime as dt
import math

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from app.db import open_database
from app.ledgers import ledger, registry
from app.models import Supplier
from app.reports import inspection
from app.reports.ledger_export import export_ledger, period_filters
from app.reports.sheet import HEADER_ROW
from app.services import acting, receiving
from tests.unit import builders as b

# Landscape widths in points (ECMA-376 paper codes 9 = A4, 8 = A3).
PAGE_WIDTH_PT = {9: 297 / 25.4 * 72, 8: 420 / 25.4 * 72}
DEFAULT_FONT_PT = 11  # a cell without a font prints in the workbook's default


def column_widths(ws) -> list[tuple[float, bool]]:
    """(width, hidden) of every column of the table; openpyxl reads runs of equal
    columns as one dimension (min..max)."""
    count = sum(1 for cell in ws[HEADER_ROW] if cell.value is not None)
    found: dict[int, tuple[float, bool]] = {}
    for dimension in ws.column_dimensions.values():
        if dimension.min is None:
            continue
        for index in range(dimension.min, dimension.max + 1):
            found[index] = (dimension.width or 8.43, bool(dimension.hidden))
    return [found.get(index, (8.43, False)) for index in range(1, count + 1)]


def smallest_font(ws) -> float:
    """The smallest text on the printed table: header cells and the first data row."""
    sizes = [cell.font.sz or DEFAULT_FONT_PT for cell in ws[HEADER_ROW] if cell.value is not None]
    sizes += [(cell.font.sz or DEFAULT_FONT_PT) for cell in ws[HEADER_ROW + 1] if cell.value is not None]
    return min(sizes)


def effective_print_pt(ws) -> float:
    """The smallest text's size on paper: fitted to the page's width, a table wider
    than the printable width is scaled down (Excel: a column of width w is 7w px, 0.75 pt each)."""
    setup = ws.page_setup
    assert setup.orientation == "landscape" and setup.fitToWidth == 1
    printable = PAGE_WIDTH_PT[int(setup.paperSize)] - 72 * (ws.page_margins.left + ws.page_margins.right)
    needed = sum(width * 7 * 0.75 for width, hidden in column_widths(ws) if not hidden)
    return smallest_font(ws) * min(1.0, printable / needed)


def test_every_ledger_prints_at_8_pt_or_more(session, tmp_path):
    p = b.plant(session)
    receiving.receive(session, b.receipt_values(p, p.soy))
    path = tmp_path / "all.xlsx"
    keys = sorted(registry())
    inspection.export_inspection(session, keys, path)
    wb = openpyxl.load_workbook(path)
    checked = 0
    for ws in wb.worksheets[1:]:
        size = effective_print_pt(ws)
        assert size >= 8, f"{ws.title} prints at {size:.1f} pt"
        on_a3 = int(ws.page_setup.paperSize) == 8
        assert on_a3 == (ws.oddHeader.left.text == "A3 纸横向打印"), ws.title
        if on_a3:  # A3 only when A4 would print below 8 pt
            printable = PAGE_WIDTH_PT[9] - 72 * (ws.page_margins.left + ws.page_margins.right)
            needed = sum(w * 7 * 0.75 for w, hidden in column_widths(ws) if not hidden)
            assert smallest_font(ws) * printable / needed < 8, ws.title
        # the title and period rows span the table and wrap, never cut at the page's edge
        merged = {str(r) for r in ws.merged_cells.ranges}
        width = sum(1 for cell in ws[HEADER_ROW] if cell.value is not None)
        last = get_column_letter(width)
        if width > 1:
            assert {f"A1:{last}1", f"A2:{last}2"} <= merged, ws.title
        assert ws["A1"].alignment.wrap_text and ws["A2"].alignment.wrap_text
        checked += 1
    assert checked == len(keys)


def test_wide_ledgers_print_their_declared_columns(session, tmp_path):
    p = b.plant(session)
    receiving.receive(session, b.receipt_values(p, p.soy))
    path = tmp_path / "incoming.xlsx"
    export_ledger(session, "incoming_inspection", path)
    ws = openpyxl.load_workbook(path).active
    labels = [cell.value for cell in ws[HEADER_ROW]]
    shown = [label for label, (_, hidden) in zip(labels, column_widths(ws)) if not hidden]
    folded = [label for label, (_, hidden) in zip(labels, column_widths(ws)) if hidden]
    # what Food Safety Law art. 50 asks for is on paper; the rest is in the file, folded away
    for label in ("物料名称", "规格", "数量", "生产日期", "保质期（天）", "进货日期", "供货者名称", "供货者地址",
                  "供货者联系人", "供货者联系电话", "查验结论", "检验员"):
        assert label in shown
    assert "备注" in folded and "污染物等物质含量值" in folded
    assert len(labels) == len(ledger("incoming_inspection").fields) + 3


def test_long_text_wraps_in_a_row_tall_enough(session, tmp_path):
    p = b.plant(session)
    long_spec = "五十千克编织袋装，内衬食品级聚乙烯薄膜袋，袋口缝合并加封合格证，每托四十袋，缠绕膜固定" * 2
    receiving.receive(session, b.receipt_values(p, p.soy, spec=long_spec))
    path = tmp_path / "incoming.xlsx"
    export_ledger(session, "incoming_inspection", path)
    ws = openpyxl.load_workbook(path).active
    labels = [cell.value for cell in ws[HEADER_ROW]]
    column = labels.index("规格")
    cell = ws.cell(HEADER_ROW + 1, column + 1)
    assert cell.value == long_spec and cell.alignment.wrap_text
    width = column_widths(ws)[column][0]
    # a Chinese character is about two digit widths; a line of 11 pt text about 14 pt high
    lines = math.ceil(len(long_spec) * 2 / width)
    assert ws.row_dimensions[HEADER_ROW + 1].height >= lines * 14
    # a short row keeps the default height
    assert ws.row_dimensions[HEADER_ROW].height and not ws.row_dimensions[HEADER_ROW + 2].height


@pytest.fixture(scope="module")
def demo_sessions(demo_db_file):
    path, _ = demo_db_file
    engine, Session = open_database(f"sqlite:///{path}", actor=acting.system("测试"))
    yield Session
    engine.dispose()


def supplier_names(path, title="合格供方名录") -> set[str]:
    ws = openpyxl.load_workbook(path)[title]
    labels = [cell.value for cell in ws[HEADER_ROW]]
    column = labels.index("供货者名称")
    names = set()
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if row[column]:
            names.add(row[column])
    return names


@pytest.mark.parametrize("period", [
    (dt.date(2000, 1, 1), dt.date(2000, 1, 31)),  # long before any supplier was qualified
    (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    (None, None),
])
def test_supplier_list_for_any_period_has_every_qualified_supplier(demo_sessions, tmp_path, period):
    first, last = period
    with demo_sessions() as session:
        qualified = set(session.scalars(select(Supplier.name).where(Supplier.status == "qualified")))
        assert len(qualified) >= 5
        lg = ledger("supplier")
        export_ledger(session, "supplier", tmp_path / "suppliers.xlsx", period_filters(lg, first, last))
        inspection.export_inspection(session, ["incoming_inspection", "supplier", "person", "customer"],
                                     tmp_path / "inspection.xlsx", first, last)
    assert qualified <= supplier_names(tmp_path / "suppliers.xlsx")
    assert qualified <= supplier_names(tmp_path / "inspection.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "suppliers.xlsx").active
    assert ws["A2"].value.startswith("全部（名录不按期间筛选）")


def test_a_period_still_filters_records():
    lg = ledger("incoming_inspection")
    chosen = period_filters(lg, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert (chosen.date_from, chosen.date_to) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert all(ledger(key).whole_list for key in ("supplier", "person", "customer", "material", "product"))
