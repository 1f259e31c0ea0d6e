"""G§48: `foodarchive evaluation-report` on the demo factory writes a PDF
with the charts and files it in the period's safety-management archive."""

from __future__ import annotations

import sqlite3

import pypdf
import pytest
from reportlab.graphics.shapes import Drawing

from app.cli import main
from app.services.evaluation import Series
from app.reports.evaluation_report import chart_drawing


@pytest.fixture
def demo_copy(demo_db_file, tmp_path):
    target = tmp_path / "demo.db"
    with sqlite3.connect(demo_db_file[0]) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


def test_the_report_of_a_year_is_written_and_filed(demo_copy, tmp_path, capsys, print_font):
    out = tmp_path / "评价报告.pdf"
    assert main(["--db", str(demo_copy), "evaluation-report", "--from", "2025-12-01", "--to", "2026-11-22",
                 "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "6 幅图" in said and "已归入安全管理档案" in said
    pages = pypdf.PdfReader(out).pages
    text = "".join(page.extract_text() for page in pages)
    for title in ("产品检验合格率", "关键控制点偏离次数", "供应商表现", "召回及其有效性", "档案完整性", "上传追溯平台"):
        assert title in text
    with sqlite3.connect(demo_copy) as db:
        filed = db.execute("SELECT a.filename, r.period FROM attachment a JOIN archive r ON r.id = a.record_id "
                           "WHERE a.ledger = 'archive' AND r.kind = 'safety'").fetchall()
    assert filed == [("食品安全管理评价报告_20251201-20261122.pdf", "2026-11")]


def test_a_reversed_period_is_refused_and_nothing_is_written(demo_copy, tmp_path, capsys):
    out = tmp_path / "r.pdf"
    assert main(["--db", str(demo_copy), "evaluation-report", "--from", "2026-11-30", "--to", "2026-11-01",
                 "--out", str(out)]) == 1
    assert "截止日期" in capsys.readouterr().err and not out.exists()


def test_a_chart_is_a_vector_drawing_without_qt(print_font):
    series = Series("x", "测试", "次数", ["2026-10", "2026-11"], ["甲", "乙"], [[1.0, 2.0], [0.0, 3.0]])
    drawing = chart_drawing(series)
    assert isinstance(drawing, Drawing) and drawing.width > 0
