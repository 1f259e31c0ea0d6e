"""Importing Excel ledgers (issue 6): the form's rules for every row, all rows
or none, each problem named by row, column and reason; export → import gives
back the same records."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import func, select

from app.errors import UserError
from app.ledgers import ledger
from app.models import IncomingInspection, MaterialLot, Person
from app.reports.ledger_export import export_ledger, export_template
from app.reports.ledger_import import ImportRefused, import_ledger
from app.reports.sheet import HEADER_ROW
from app.services import receiving
from tests.unit import builders as b


def count(session, model) -> int:
    return session.scalar(select(func.count(model.id)))


def records(session) -> list[dict]:
    names = ledger("incoming_inspection").field_names
    rows = session.scalars(select(IncomingInspection).order_by(IncomingInspection.receipt_no)).all()
    return [{name: getattr(row, name) for name in names} for row in rows]


def cells(path) -> list[tuple]:
    ws = openpyxl.load_workbook(path).active
    return sorted(ws.iter_rows(min_row=HEADER_ROW + 1, max_row=ws.max_row - 2, values_only=True), key=str)


def test_export_then_import_gives_back_the_same_records(session, tmp_path):
    p = b.plant(session)
    before = session.begin_nested()
    for i, (material, remarks) in enumerate([(p.soy, "=1+2"), (p.sugar, "-5℃ 到货"), (p.soy, None)]):
        receiving.receive(session, b.receipt_values(
            p, material, supplier_lot=f"LOT-{i}", quantity=f"12{i}.25", remarks=remarks, warehouse_id=p.store.id,
            decision="rejected" if i == 2 else "accepted", spec="25kg/袋", own_sample_base="100 袋",
            receipt_date=f"2026-11-1{i}",
        ))
    exported, first = tmp_path / "first.xlsx", records(session)
    export_ledger(session, "incoming_inspection", exported)
    before.rollback()  # as if these receipts had never been entered
    assert count(session, IncomingInspection) == 0

    assert import_ledger(session, "incoming_inspection", exported) == 3
    assert records(session) == first
    assert count(session, MaterialLot) == 3  # the same service ran: accepted and rejected lots
    again = tmp_path / "again.xlsx"
    export_ledger(session, "incoming_inspection", again)
    assert cells(again) == cells(exported)


def fill(path, rows: list[list[object]]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            cell = ws.cell(HEADER_ROW + 1 + offset, column, value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text a person typed, as a spreadsheet keeps it
    wb.save(path)


def template_row(session, p, labels, **values) -> list[object]:
    base = {"物料名称": "非转基因大豆", "供货者名称": "黑龙江某粮油有限公司", "数量": 500, "单位": "kg",
            "生产日期": dt.date(2026, 11, 1), "生产批号（供应商批号）": "HLJ-1", "进货日期": "2026-11-10",
            "查验结论": "合格接收", "检验员": "王质检", "合格证明编号": "R-9", "合格证明类型": "第三方检验报告"}
    base.update(values)
    return [base.get(label) for label in labels]


def test_one_bad_row_among_many_imports_nothing_and_names_it(session, tmp_path):
    p = b.plant(session)
    path = tmp_path / "filled.xlsx"
    export_template(session, "incoming_inspection", path)
    labels = [c.value for c in openpyxl.load_workbook(path).active[HEADER_ROW]]
    rows = [template_row(session, p, labels, **{"生产批号（供应商批号）": f"HLJ-{i}"}) for i in range(30)]
    rows[17] = template_row(session, p, labels, **{"数量": "三百"})  # sheet row 4 + 17
    fill(path, rows)
    with pytest.raises(ImportRefused) as refused:
        import_ledger(session, "incoming_inspection", path)
    column = openpyxl.utils.get_column_letter(labels.index("数量") + 1)
    assert [str(problem) for problem in refused.value.problems] == [f"第 21 行 {column} 列「数量」：「数量」应为数字"]
    assert "未导入任何记录" in refused.value.message and "30 行" in refused.value.message
    assert count(session, IncomingInspection) == 0 and count(session, MaterialLot) == 0

    rows[17] = template_row(session, p, labels)
    fill(path, rows)
    assert import_ledger(session, "incoming_inspection", path) == 30
    assert count(session, IncomingInspection) == 30


def test_every_bad_row_is_reported_with_the_forms_rules(session, tmp_path):
    p = b.plant(session)
    session.add(Person(employee_no="E002", name="王质检", post="inspection"))  # a second person of that name
    session.flush()
    path = tmp_path / "filled.xlsx"
    export_template(session, "incoming_inspection", path)
    labels = [c.value for c in openpyxl.load_workbook(path).active[HEADER_ROW]]
    fill(path, [
        template_row(session, p, labels, **{"物料名称": "黄豆"}),  # row 4: unknown material
        template_row(session, p, labels, 进货日期="2099-01-01"),  # row 5: the service's date rule
        template_row(session, p, labels, 查验结论="也许"),  # row 6: not a choice
        template_row(session, p, labels),  # row 7: two people are called 王质检
    ])
    with pytest.raises(ImportRefused) as refused:
        import_ledger(session, "incoming_inspection", path)
    problems = refused.value.problems
    # the inspector's name is ambiguous in every row: a reference is read before the row is saved
    assert {(problem.row, problem.label) for problem in problems} == {
        (4, "物料名称"), (4, "检验员"), (5, "检验员"), (6, "检验员"), (7, "检验员")}
    by_row = {(problem.row, problem.label): problem for problem in problems}
    assert "找不到“黄豆”" in by_row[4, "物料名称"].reason
    assert all("有多条" in by_row[row, "检验员"].reason for row in (4, 5, 6, 7))
    assert count(session, IncomingInspection) == 0


def test_rows_are_checked_by_the_services_rules(session, tmp_path):
    p = b.plant(session)
    path = tmp_path / "filled.xlsx"
    export_template(session, "incoming_inspection", path)
    labels = [c.value for c in openpyxl.load_workbook(path).active[HEADER_ROW]]
    fill(path, [
        template_row(session, p, labels),
        template_row(session, p, labels, 进货日期="2099-01-01"),  # row 5: the service's date rule
        template_row(session, p, labels, 查验结论="也许"),  # row 6: not a choice
        template_row(session, p, labels, 进货查验单号="JH-1"),
        template_row(session, p, labels, 进货查验单号="JH-1"),  # row 8: the number row 7 took
    ])
    with pytest.raises(ImportRefused) as refused:
        import_ledger(session, "incoming_inspection", path)
    by_row = {problem.row: problem for problem in refused.value.problems}
    assert sorted(by_row) == [5, 6, 8]
    assert "不能晚于今天" in by_row[5].reason and by_row[5].label == "进货日期"
    assert "应为以下之一" in by_row[6].reason and by_row[6].label == "查验结论"
    assert "已被其他记录使用" in by_row[8].reason and by_row[8].column == "A"
    assert count(session, IncomingInspection) == 0


def test_header_problems_and_ledgers_that_cannot_be_imported(session, tmp_path):
    b.plant(session)
    path = tmp_path / "bare.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["物料名称", "数量"])
    wb.active.append(["非转基因大豆", 3])
    wb.save(path)
    with pytest.raises(ImportRefused) as refused:
        import_ledger(session, "incoming_inspection", path)
    assert any("缺少必填的列「供货者名称」" in str(problem) for problem in refused.value.problems)
    with pytest.raises(UserError, match="不能从表格导入"):
        import_ledger(session, "delivery", path)
    (tmp_path / "not.xlsx").write_text("no spreadsheet")
    with pytest.raises(UserError, match="无法读取"):
        import_ledger(session, "incoming_inspection", tmp_path / "not.xlsx")
    empty = tmp_path / "empty.xlsx"
    export_template(session, "customer", empty)
    with pytest.raises(UserError, match="没有「购货者名录」的数据行"):
        import_ledger(session, "customer", empty)


def test_master_data_list_round_trip(session, tmp_path):
    """A customer list kept in Excel comes in; its export reads back the same."""
    b.plant(session)
    path = tmp_path / "customers.xlsx"
    export_template(session, "customer", path)
    fill(path, [["华联超市", b.credit_code("91310000MA1FL0001"), "上海市黄浦区", "李经理", "021-6000 0000"],
                ["=cmd|' /C calc'!A0", None, "上海市静安区", None, "13800000000"]])
    assert import_ledger(session, "customer", path) == 2
    out = tmp_path / "out.xlsx"
    export_ledger(session, "customer", out)
    names = {row[0] for row in cells(out)}
    assert {"华联超市", "=cmd|' /C calc'!A0", "联华超市浦东店"} == names
