"""The Excel commands (issue 6): export-ledger, export-template, import-ledger."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli import main
from app.db import make_engine
from app.models import IncomingInspection
from app.reports.sheet import HEADER_ROW
from app.services import acting, receiving
from tests.unit import builders as b


@pytest.fixture
def factory(sqlite_url):
    assert main(["--db", sqlite_url, "init"]) == 0
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        acting.bind(session, acting.system("test"))
        p = b.plant(session)
        for day in ("2026-11-05", "2026-11-10", "2026-11-15"):
            receiving.receive(session, b.receipt_values(p, p.soy, receipt_date=day, production_date="2026-11-01"))
    yield engine
    engine.dispose()


def receipts(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count(IncomingInspection.id)))


def test_export_a_period(factory, sqlite_url, tmp_path, capsys):
    out = tmp_path / "ledger.xlsx"
    code = main(["--db", sqlite_url, "export-ledger", "incoming_inspection", "--from", "2026-11-06",
                 "--to", "2026-11-15", "--out", str(out)])
    assert code == 0 and "已导出 2 行" in capsys.readouterr().out
    ws = openpyxl.load_workbook(out).active
    assert ws["A2"].value.startswith("期间：2026-11-06 至 2026-11-15")
    assert [ws.cell(row, 1).value[:10] for row in (HEADER_ROW + 1, HEADER_ROW + 2)] == ["JH20261120"] * 2


def test_template_then_import_and_refusal(factory, sqlite_url, tmp_path, capsys):
    template = tmp_path / "template.xlsx"
    assert main(["--db", sqlite_url, "export-template", "incoming_inspection", "--out", str(template)]) == 0
    exported = tmp_path / "exported.xlsx"
    assert main(["--db", sqlite_url, "export-ledger", "incoming_inspection", "--out", str(exported)]) == 0
    capsys.readouterr()
    # the same receipts again: their numbers are taken, so nothing is imported
    assert main(["--db", sqlite_url, "import-ledger", "incoming_inspection", str(exported)]) == 1
    err = capsys.readouterr().err
    assert "未导入任何记录" in err and "第 4 行 A 列「进货查验单号」" in err
    assert receipts(factory) == 3
    wb = openpyxl.load_workbook(exported)
    ws = wb.active
    for row in range(HEADER_ROW + 1, HEADER_ROW + 4):
        ws.cell(row, 1).value = f"NEW-{row}"
    wb.save(exported)
    assert main(["--db", sqlite_url, "import-ledger", "incoming_inspection", str(exported)]) == 0
    assert "已导入 3 条记录" in capsys.readouterr().out
    assert receipts(factory) == 6


def test_help_lists_the_ledger_names(capsys):
    with pytest.raises(SystemExit):
        main(["export-ledger", "--help"])
    text = capsys.readouterr().out
    assert "incoming_inspection" in text and "delivery" in text and "出厂销售记录" in text
    with pytest.raises(SystemExit):
        main(["import-ledger", "--help"])
    text = capsys.readouterr().out
    assert "incoming_inspection" in text and "customer" in text
    assert "\n  delivery " not in text  # sales are entered on the release desk, not imported


def test_unknown_ledger_and_bad_date(sqlite_url, tmp_path, capsys):
    assert main(["--db", sqlite_url, "init"]) == 0
    assert main(["--db", sqlite_url, "export-ledger", "nothing", "--out", str(tmp_path / "x.xlsx")]) == 1
    assert "不是可导出的台账名" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export-ledger", "delivery", "--from", "11/05", "--out", "x.xlsx"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_import_ledger_supplier_admits_nobody(factory, sqlite_url, tmp_path, capsys):
    """A supplier list whose 供方状态 column says 合格供方 still comes in as 待评价 (G§14:
    only the quality manager's signed evaluation admits)."""
    from app.models import Supplier

    path = tmp_path / "suppliers.xlsx"
    assert main(["--db", sqlite_url, "export-ledger", "supplier", "--out", str(path)]) == 0
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.cell(HEADER_ROW + 1, 1).value = "浙江某包装材料有限公司"  # the exported qualified supplier, renamed
    ws.cell(HEADER_ROW + 1, 2).value = None
    headers = [cell.value for cell in ws[HEADER_ROW]]
    assert ws.cell(HEADER_ROW + 1, headers.index("供方状态") + 1).value == "合格供方"
    wb.save(path)
    assert main(["--db", sqlite_url, "import-ledger", "supplier", str(path)]) == 0
    with Session(factory) as session:
        imported = session.scalar(select(Supplier).where(Supplier.name == "浙江某包装材料有限公司"))
        assert (imported.status, imported.qualified_on, imported.review_due) == ("pending", None, None)
