"""Issue 13 (R4.3): the recall drill — timed, reported as drill.pdf and
drill.xlsx, recorded in the internal audit log; its customers and quantities
are the trace's."""

from __future__ import annotations

import sqlite3

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.cli import main
from app.db import make_engine, make_sessionmaker
from app.errors import UserError
from app.models import Archive, CatalogueEntry, InternalAudit
from app.reports.recall_drill import write
from app.services import acting, common, distribution, recall_drill, trace

from .builders import lot, plant, released_commodity


def customers_in_sheet(path) -> dict[str, tuple]:
    """客户 -> (联系电话, 发货数量) from the sheet 客户与数量 (title, subtitle, header first)."""
    ws = openpyxl.load_workbook(path, read_only=True)["客户与数量"]
    found = {}
    for row in ws.iter_rows(min_row=4, values_only=True):
        if not any(row):
            break  # the signature row follows the data after an empty one
        found[row[0]] = (row[2], row[4])
    return found


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_a_drill_is_timed_reported_and_logged(session, tmp_path):
    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy), units=100)
    school = common.create(session, "customer", dict(name="华东学校食堂", address="上海市闵行区", phone="021-60000000"))
    for customer, units in ((p.customer, 30), (school, 20)):
        distribution.deliver(session, commodity, customer, units, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    drill = recall_drill.run(session, commodity.lot_code)
    assert drill.seconds >= 0 and drill.units_shipped == 50
    # From a commodity lot the balance comes from the backward trace: its batches and the soy lot.
    assert {b["batch_no"] for b in drill.balance["product_batches"]} >= {commodity.product_batch.batch_no}
    assert drill.balance["material_lots"]
    logged = session.scalar(select(InternalAudit).where(InternalAudit.audit_no == drill.audit_no))
    assert (logged.kind, logged.drill_query, logged.drills_done) == ("drill", commodity.lot_code, True)
    assert "客户 2" in logged.drill_summary
    # Filed in the month's safety-management archive.
    safety = session.scalar(select(Archive).where(Archive.kind == "safety", Archive.period == "2026-11"))
    assert "internal_audit" in session.scalars(select(CatalogueEntry.ledger)
                                               .where(CatalogueEntry.archive_id == safety.id)).all()
    written = write(session, drill, tmp_path / "out")
    assert customers_in_sheet(written.xlsx) == {"联华超市浦东店": ("021-50000000", 30),
                                                "华东学校食堂": ("021-60000000", 20)}
    text = pdf_text(written.pdf)
    for words in ("召回演练报告", drill.audit_no, "华东学校食堂", "021-60000000", "物料平衡", "4 小时", "24 小时"):
        assert words in text
    with pytest.raises(UserError, match="找不到批号或单号「NOPE」"):
        recall_drill.run(session, "NOPE")


@pytest.fixture(scope="module")
def demo_copy(demo_db_file, tmp_path_factory):
    db = tmp_path_factory.mktemp("drill") / "demo.db"
    with sqlite3.connect(demo_db_file[0]) as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    return db


def test_recall_drill_command_on_the_demo_matches_the_trace(demo_copy, tmp_path, capsys):
    with sqlite3.connect(demo_copy) as conn:
        number, = conn.execute("select b.batch_no from recall r join product_batch b on b.id = r.product_batch_id").fetchone()
    out = tmp_path / "drill"
    assert main(["--db", str(demo_copy), "recall-drill", number, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "计算用时" in said and "生成报告用时" in said and "drill.pdf" in said
    engine = make_engine(f"sqlite:///{demo_copy}")
    with acting.Sessions(make_sessionmaker(engine), acting.system("tester"))() as session:
        result = trace.trace(session, number, "forward")
        drills = session.scalars(select(InternalAudit).where(InternalAudit.kind == "drill")).all()
    engine.dispose()
    expected = {c["name"]: (c["phone"], c["units_delivered"]) for c in result.customers}
    assert len(expected) >= 3 and customers_in_sheet(out / "drill.xlsx") == expected
    text = pdf_text(out / "drill.pdf")
    assert all(name in text for name in expected)
    assert f"发货共 {sum(units for _p, units in expected.values())} 件" in text
    assert [d.drill_query for d in drills] == [number]


def test_recall_drill_of_an_unknown_number_is_one_chinese_line(demo_copy, tmp_path, capsys):
    assert main(["--db", str(demo_copy), "recall-drill", "NOPE-404", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "错误：找不到批号或单号「NOPE-404」"
    assert not (tmp_path / "x").exists()
