"""The Excel importer under hostile files (issue 15): every row is read
whatever the sheet's <dimension> says; formulas and error values are refused
cell by cell; a malformed file, an entity bomb or an external entity is one
clear message; random values end as a problem list naming row, column and
field, never as an internal error, and nothing is written."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from sqlalchemy import func, select

from app.errors import UserError
from app.ledgers import ledger
from app.models import AuditEntry, IncomingInspection, Material, MaterialLot
from app.reports.ledger_export import export_template
from app.reports.ledger_import import ImportRefused, import_ledger
from app.reports.sheet import HEADER_ROW
from tests.unit import builders as b
from tests.unit.test_excel_import import fill, template_row

SHEET = "xl/worksheets/sheet1.xml"
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count(model.id)))
                 for model in (IncomingInspection, MaterialLot, Material, AuditEntry))


def template(session, tmp_path, key="incoming_inspection", name="filled.xlsx"):
    path = tmp_path / name
    export_template(session, key, path)
    labels = [c.value for c in openpyxl.load_workbook(path).active[HEADER_ROW]]
    return path, labels


def rewrite(path, part: str, change) -> None:
    """Change one XML part of the workbook as a hand-made or hostile file would."""
    with zipfile.ZipFile(path) as zin:
        parts = {name: zin.read(name) for name in zin.namelist()}
    parts[part] = change(parts[part].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def letter(labels, label) -> str:
    return get_column_letter(labels.index(label) + 1)


def test_rows_beyond_the_sheets_dimension_are_read(session, tmp_path):
    p = b.plant(session)
    path, labels = template(session, tmp_path)
    fill(path, [template_row(session, p, labels, **{"生产批号（供应商批号）": f"HLJ-{i}"}) for i in range(5)])
    # The file claims three rows of data; openpyxl's read-only mode would stop there.
    rewrite(path, SHEET, lambda xml: re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:B{HEADER_ROW + 3}"', xml))
    assert f'A1:B{HEADER_ROW + 3}' in zipfile.ZipFile(path).read(SHEET).decode()
    assert import_ledger(session, "incoming_inspection", path) == 5
    lots = session.scalars(select(IncomingInspection.supplier_lot)).all()
    assert sorted(lots) == [f"HLJ-{i}" for i in range(5)]


def test_formula_and_error_cells_are_refused_by_row_and_column(session, tmp_path):
    p = b.plant(session)
    path, labels = template(session, tmp_path)
    fill(path, [template_row(session, p, labels) for _ in range(3)])
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    quantity, shelf = labels.index("数量") + 1, labels.index("保质期（天）") + 1
    ws.cell(HEADER_ROW + 1, quantity, "=250*2")  # a formula openpyxl writes without a cached value
    ws.cell(HEADER_ROW + 3, shelf).value = "#DIV/0!"
    ws.cell(HEADER_ROW + 3, shelf).data_type = "e"
    wb.save(path)
    before = counts(session)
    with pytest.raises(ImportRefused) as refused:
        import_ledger(session, "incoming_inspection", path)
    shown = [str(problem) for problem in refused.value.problems]
    assert shown[0].startswith(f"第 {HEADER_ROW + 1} 行 {letter(labels, '数量')} 列「数量」：是公式，不能导入")
    assert shown[1].startswith(f"第 {HEADER_ROW + 3} 行 {letter(labels, '保质期（天）')} 列「保质期（天）」：是错误值 #DIV/0!")
    assert len(shown) == 2
    assert counts(session) == before


BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
                  + "]>")


@pytest.mark.parametrize("damage", [
    pytest.param(lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]), id="cut-in-half"),
    pytest.param(lambda path: rewrite(path, SHEET, lambda xml: xml.replace("</sheetData>", "<row><c></sheetData>")),
                 id="malformed-xml"),
    pytest.param(lambda path: rewrite(path, SHEET, lambda xml: xml.replace(
        "<worksheet", BILLION_LAUGHS.replace("lolz", "worksheet") + "<worksheet", 1).replace(
        "</sheetData>", '<row r="99"><c r="A99" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData>')),
                 id="entity-bomb"),
    pytest.param(lambda path: rewrite(path, SHEET, lambda xml: xml.replace(
        "<worksheet", '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]><worksheet', 1).replace(
        "</sheetData>", '<row r="99"><c r="A99" t="inlineStr"><is><t>&x;</t></is></c></row></sheetData>')),
                 id="external-entity"),
    pytest.param(lambda path: rewrite(path, "xl/workbook.xml", lambda xml: xml[: len(xml) // 2]), id="workbook-cut"),
    pytest.param(lambda path: rewrite(path, "[Content_Types].xml", lambda xml: "<Types/>"), id="no-content-types"),
])
def test_a_malformed_file_is_one_clear_message(session, tmp_path, damage):
    p = b.plant(session)
    path, labels = template(session, tmp_path)
    fill(path, [template_row(session, p, labels)])
    damage(path)
    before = counts(session)
    with pytest.raises(UserError) as refused:
        import_ledger(session, "incoming_inspection", path)
    assert "无法读取 Excel 文件" in refused.value.message and "filled.xlsx" in refused.value.message
    assert "root" not in refused.value.message  # nothing of /etc/passwd
    assert counts(session) == before


def test_an_absurd_value_in_a_long_import_is_a_problem_not_an_abort(session, tmp_path):
    """Shelf life 10^25 in the last of 300 rows, quantity 1e400 in another:
    each is listed, the other rows are checked, nothing is written."""
    b.plant(session)
    path, labels = template(session, tmp_path, "material")
    rows = [[f"R{i:05d}", f"物料{i}", "原料", None, "kg", None, None, None, None, None, None, 30]
            for i in range(300)]
    rows[-1][-1] = 10**25
    rows[100][-1] = "1e400"
    rows[200][1] = "名" * 500
    head = [c for c in labels]
    assert head[:2] == ["物料编码", "物料名称"] and head[-1] == "保质期（天）", head
    fill(path, rows)
    before = counts(session)
    with pytest.raises(ImportRefused) as refused:
        import_ledger(session, "material", path)
    shown = [str(problem) for problem in refused.value.problems]
    shelf = letter(labels, "保质期（天）")
    assert shown == [
        f"第 {HEADER_ROW + 101} 行 {shelf} 列「保质期（天）」：「保质期（天）」数值过大",
        f"第 {HEADER_ROW + 201} 行 B 列「物料名称」：「物料名称」最多 200 个字符，现在是 500 个",
        f"第 {HEADER_ROW + 300} 行 {shelf} 列「保质期（天）」：「保质期（天）」不能大于 36500",
    ]
    assert counts(session) == before


# ------------------------------------------------------------------ fuzz

HOSTILE_NUMBERS = st.sampled_from(["1e400", "-1e400", "Infinity", "NaN", "sNaN", "1e25", "99999999999999.5",
                                   "0.0001", "-0", "1e-400", "１２", "12,5", "", " "])
NUMBERS = st.one_of(HOSTILE_NUMBERS, st.integers(min_value=-10**30, max_value=10**30),
                    st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=False).map(str))
DATES = st.one_of(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
                  st.sampled_from(["0001-01-01", "20266-01-01", "2026-02-30", "9999-12-31", "2026/11/01"]))
# What a cell can hold (an xlsx file has no control characters; the forms' test tries those).
CELL_TEXT = st.characters(blacklist_categories=("Cs", "Cc"))
TEXTS = st.one_of(st.text(CELL_TEXT, max_size=30), st.text(CELL_TEXT, min_size=190, max_size=260),
                  st.sampled_from(["=1+2", "+SUM(A1)", "-3", "@x", "x" * 10000, "91310115ma1k4f8l3x"]))


@st.composite
def hostile_rows(draw):
    """Template rows of a receipt with some cells replaced by hostile values."""
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        changes = draw(st.dictionaries(
            st.sampled_from(["数量", "保质期（天）", "生产日期", "进货日期", "规格", "备注", "生产批号（供应商批号）",
                             "合格证明编号", "单位"]),
            st.one_of(NUMBERS, DATES, TEXTS), max_size=4))
        rows.append(changes)
    return rows


@FUZZ
@given(rows=hostile_rows())
def test_random_cells_end_as_problems_or_valid_records(session, tmp_path_factory, rows):
    if "plant" not in session.info:  # once per test: the examples share the session
        session.info["plant"] = b.plant(session)
        session.info["template"] = template(session, tmp_path_factory.mktemp("fuzz"))
    attempt = session.begin_nested()  # each example starts from the same database
    try:
        _import_hostile(session, session.info["plant"], *session.info["template"], rows)
    finally:
        attempt.rollback()


def _import_hostile(session, p, blank, labels, rows) -> None:
    path = blank.with_name("hostile.xlsx")
    path.write_bytes(blank.read_bytes())
    values = [template_row(session, p, labels, **changes) for changes in rows]
    try:
        fill(path, values)
    except (ValueError, TypeError, IllegalCharacterError):  # openpyxl cannot write this value
        event("not writable to xlsx")
        return
    before = counts(session)
    try:
        imported = import_ledger(session, "incoming_inspection", path)
    except ImportRefused as refused:
        event("refused")
        assert counts(session) == before
        for problem in refused.problems:
            assert problem.row > HEADER_ROW and problem.reason
            if problem.column:  # a cell: its letter, its header, and the reason names the field
                assert problem.label in labels and problem.column == letter(labels, problem.label)
                assert f"「{problem.label}」" in problem.reason or problem.reason.startswith("是")
            else:  # a rule of the whole row (a date after today): the reason says which
                assert "「" in problem.reason or "日期" in problem.reason, problem
        return
    event("imported")
    assert imported == len(rows)
    lg = ledger("incoming_inspection")
    for receipt in session.scalars(select(IncomingInspection)):
        for f in lg.fields:  # what was kept is inside every bound, as PostgreSQL needs
            value = getattr(receipt, f.name)
            assert f.convert(value) == value
