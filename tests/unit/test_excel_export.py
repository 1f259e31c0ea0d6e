"""Excel ledgers for inspections (issue 6): read the files back and check what
an inspector and a printer see — titles, headers, types, frozen header,
print settings, formula-safe text — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from app.errors import PermissionDenied, UserError
from app.ledgers import ledger
from app.reports import inspection, trace_sheet
from app.reports.ledger_columns import export_layout
from app.reports.ledger_export import export_ledger, export_template, importable_keys, template_fields
from app.reports.sheet import HEADER_ROW, excel_width
from app.services import acting, distribution, receiving, trace, users
from app.services.ledger_query import Filters, LedgerQuery, read_ids
from tests.unit import builders as b

RISKY = ["=1+2", "+86 21 5000", "-负责人手写", "@SUM(A1:A3)", "=HYPERLINK(\"http://x\",\"点我\")"]


def receipts(session, p, count=4):
    made = []
    for i in range(count):
        made.append(receiving.receive(session, b.receipt_values(
            p, p.soy if i % 2 == 0 else p.sugar, supplier_lot=f"HLJ-{i}", quantity=f"{100 + i}.5",
            receipt_date=f"2026-11-{10 + i:02d}", remarks=RISKY[i % len(RISKY)], spec="=50kg/袋" if i == 0 else None,
        )))
    return made


def load(path):
    return openpyxl.load_workbook(path)


def data_rows(ws, count):
    return list(ws.iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + count))


def header(ws):
    return [c.value for c in ws[HEADER_ROW] if c.value is not None]


def test_ledger_layout_for_printing(session, tmp_path):
    p = b.plant(session)
    receipts(session, p)
    path = tmp_path / "incoming.xlsx"
    rows = export_ledger(session, "incoming_inspection", path,
                         Filters(date_from=dt.date(2026, 11, 11), date_to=dt.date(2026, 11, 13)))
    assert rows == 3
    ws = load(path).active
    assert ws.title == "进货查验记录"
    assert ws["A1"].value == "上海测试豆制品有限公司 进货查验记录"
    assert ws["A1"].font.b and ws["A1"].alignment.horizontal == "center" and ws["A1"].alignment.wrap_text
    assert "A1:" in str(ws.merged_cells) and ws.row_dimensions[1].height >= 28
    assert ws["A2"].value.startswith("期间：2026-11-11 至 2026-11-13") and "共 3 行" in ws["A2"].value
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref == f"A3:{openpyxl.utils.get_column_letter(len(header(ws)))}6"
    assert ws.print_title_rows == "$3:$3"
    setup = ws.page_setup
    # its printed columns are too many for A4 at 8 pt: A3, and the header says so
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 8, 1, 0)
    assert ws.oddHeader.left.text == "A3 纸横向打印"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_options.gridLines
    # column widths come from the declaration, long text capped (it wraps): the summary is among the widest
    layout = export_layout(ledger("incoming_inspection"))
    widths = {c.label: ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width
              for i, c in enumerate(layout.columns, start=1)}
    assert widths["检测项目、检验方法、标准要求和检验结论"] == excel_width(layout.columns[[c.label for c in layout.columns].index("检测项目、检验方法、标准要求和检验结论")])
    assert widths["检测项目、检验方法、标准要求和检验结论"] >= widths["供货者名称"] > widths["单位"]
    # real numbers and dates, newest first like the table
    labels = header(ws)
    first = {label: cell for label, cell in zip(labels, data_rows(ws, 1)[0])}
    assert first["进货日期"].value == dt.datetime(2026, 11, 13) and first["进货日期"].number_format == "yyyy-mm-dd"
    assert first["数量"].data_type == "n" and first["数量"].value == 103.5
    assert first["保质期（天）"].value == 180
    assert first["查验结论"].value == "合格接收" and first["检验员"].value == "王质检"
    assert first["物料名称"].value == "白砂糖"
    # the signature row after one blank row
    signature = [c.value for c in ws[HEADER_ROW + rows + 2] if c.value]
    assert signature == ["编制：", "审核：", "日期："]


def test_text_never_runs_as_a_formula(session, tmp_path):
    p = b.plant(session)
    receipts(session, p, count=5)
    path = tmp_path / "risky.xlsx"
    export_ledger(session, "incoming_inspection", path)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    ws = load(path).active
    remarks = header(ws).index("备注")
    cells = [row[remarks] for row in data_rows(ws, 5)]
    assert sorted(c.value for c in cells) == sorted(RISKY)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    spec = [row[header(ws).index("规格")] for row in data_rows(ws, 5) if row[header(ws).index("规格")].value]
    assert [c.value for c in spec] == ["=50kg/袋"] and spec[0].quotePrefix
    # an independent reader sees the texts, not formulas or their results
    read = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert sorted(row[remarks] for row in read[HEADER_ROW:HEADER_ROW + 5]) == sorted(RISKY)


def test_export_has_the_rows_and_order_of_the_table(session, tmp_path):
    p = b.plant(session)
    receipts(session, p, count=4)
    lg = ledger("incoming_inspection")
    filters = Filters(search="大豆", equals={"material_id": p.soy.id})
    query = LedgerQuery(lg, session.get_bind().dialect.name)
    column = lg.field_names.index("supplier_lot")
    ids = read_ids(session, query.ids(filters, column, True))
    expected = [query.page(session, ids)[i].texts[column] for i in ids]
    path = tmp_path / "filtered.xlsx"
    assert export_ledger(session, "incoming_inspection", path, filters, (column, True),
                         shown={"material_id": "非转基因大豆"}) == 2
    ws = load(path).active
    lots = header(ws).index("生产批号（供应商批号）")
    assert [row[lots].value for row in data_rows(ws, 2)] == expected == ["HLJ-2", "HLJ-0"]
    assert "包含“大豆”" in ws["A2"].value and "物料名称：非转基因大豆" in ws["A2"].value


def test_incoming_and_sales_carry_every_field_of_art_50_and_51(session, tmp_path):
    p = b.plant(session)
    soy = b.lot(session, p, p.soy)
    commodity = b.released_commodity(session, p, soy)
    distribution.deliver(session, commodity, p.customer, 10, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    path = tmp_path / "sales.xlsx"
    export_ledger(session, "delivery", path)
    ws = load(path).active
    row = dict(zip(header(ws), (c.value for c in data_rows(ws, 1)[0])))
    art51 = {"产品名称": "原味豆浆", "规格": "250mL", "数量（件）": 10, "生产日期": dt.datetime(2026, 11, 19),
             "保质期（天）": 7, "到期日期": dt.datetime(2026, 11, 26), "检验合格证号": commodity.certificate_no,
             "销售日期": dt.datetime(2026, 11, 20), "购货者": "联华超市浦东店", "购货者地址": "上海市浦东新区",
             "购货者联系电话": "021-50000000", "商品批号": commodity.lot_code}
    assert {k: row[k] for k in art51} == art51
    assert "购货者联系人" in row
    export_ledger(session, "incoming_inspection", path)
    ws = load(path).active
    row = dict(zip(header(ws), (c.value for c in data_rows(ws, 1)[0])))
    art50 = {"物料名称": "非转基因大豆", "数量": 1000, "生产日期": dt.datetime(2026, 11, 1),
             "生产批号（供应商批号）": "HLJ-2611", "保质期（天）": 180, "进货日期": dt.datetime(2026, 11, 10),
             "供货者名称": "黑龙江某粮油有限公司", "供货者地址": "黑龙江省哈尔滨市"}
    assert {k: row[k] for k in art50} == art50
    assert {"规格", "供货者联系人", "供货者联系电话"} <= set(row)


def test_export_needs_the_export_permission(session, tmp_path):
    p = b.plant(session)
    keeper = users.create_user(session, "keeper", "仓管", "password123", ["warehouse_keeper"], person_id=p.person.id)
    acting.bind(session, acting.user_of(session, keeper.id))
    try:
        with pytest.raises(PermissionDenied):
            export_ledger(session, "incoming_inspection", tmp_path / "no.xlsx")
        assert not (tmp_path / "no.xlsx").exists()
    finally:
        session.info.pop("user_id")


def test_template_has_the_layout_without_system_columns(session, tmp_path):
    b.plant(session)
    path = tmp_path / "template.xlsx"
    export_template(session, "product_batch", path)
    ws = load(path).active
    lg = ledger("product_batch")
    assert header(ws) == [f.label for f in template_fields(lg)]
    assert "结存数量" not in header(ws) and "状态" not in header(ws)
    assert ws.freeze_panes == "A4" and ws.page_setup.orientation == "landscape"
    notes = {c.value: c.comment.text for c in ws[HEADER_ROW] if c.value}
    assert notes["生产批号"].startswith("必填") is False and "留空由系统编号" in notes["生产批号"]
    assert notes["产品名称"].startswith("必填")
    assert ws.max_row == HEADER_ROW  # nothing below the header to write over
    with pytest.raises(UserError, match="不能从表格导入"):
        export_template(session, "delivery", tmp_path / "no.xlsx")
    assert "delivery" not in importable_keys() and "incoming_inspection" in importable_keys()


def test_inspection_workbook_has_a_cover_and_a_sheet_per_ledger(session, tmp_path):
    p = b.plant(session)
    receipts(session, p, count=3)
    path = tmp_path / "inspection.xlsx"
    counts = inspection.export_inspection(session, ["incoming_inspection", "supplier", "customer"], path,
                                          dt.date(2026, 11, 11), dt.date(2026, 11, 30))
    assert counts == {"incoming_inspection": 2, "supplier": 1, "customer": 1}
    wb = load(path)
    assert wb.sheetnames == ["目录", "进货查验记录", "合格供方名录", "购货者名录"]
    cover = wb["目录"]
    listed = [[c.value for c in row] for row in cover.iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + 3)]
    assert [r[1] for r in listed] == ["进货查验记录", "合格供方名录", "购货者名录"]
    assert [r[4] for r in listed] == [2, 1, 1]
    assert cover.cell(HEADER_ROW + 1, 3).hyperlink.location == "'进货查验记录'!A1"
    assert "2026-11-11 至 2026-11-30" in cover["A2"].value
    sheet = wb["进货查验记录"]
    assert sheet.freeze_panes == "A4" and sheet.print_title_rows == "$3:$3"
    with pytest.raises(UserError):
        inspection.export_inspection(session, [], tmp_path / "none.xlsx")


def test_trace_sheet_is_flat_and_sortable(session, tmp_path):
    p = b.plant(session)
    soy = b.lot(session, p, p.soy)
    commodity = b.released_commodity(session, p, soy)
    distribution.deliver(session, commodity, p.customer, 10, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    result = trace.trace(session, soy.lot_no, "forward")
    path = tmp_path / "trace.xlsx"
    assert trace_sheet.export_trace(session, result, path) == 7
    ws = load(path).active
    assert header(ws) == ["关键追溯事件", "追溯批号", "数量", "单位", "产品或物料", "上一来源", "下一接收方",
                          "地点", "日期", "参考单据"]
    rows = [[c.value for c in row] for row in data_rows(ws, 7)]
    assert [r[0] for r in rows] == ["接收", "投料", "生产", "投料", "生产", "包装", "销售发货"]
    received, shipped = rows[0], rows[-1]
    assert received[1] == soy.lot_no and received[2] == 1000 and received[3] == "kg"
    assert received[5].startswith("黑龙江某粮油有限公司") and received[8] == dt.datetime(2026, 11, 10)
    assert shipped[1] == commodity.lot_code and shipped[2] == 10 and shipped[3] == "件"
    assert shipped[6] == "联华超市浦东店" and shipped[7] == "上海市浦东新区" and shipped[8] == dt.datetime(2026, 11, 20)
    assert ws.auto_filter.ref == "A3:J10" and ws.freeze_panes == "A4"
    assert all(isinstance(r[2], (int, float, Decimal)) for r in rows)
