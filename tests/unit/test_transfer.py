"""Whole-archive JSON export and import: exact round trip, all-or-nothing import."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine

from app.db import head_revision, make_engine, make_sessionmaker, upgrade
from app.errors import UserError
from app.models import (
    Archive,
    Attachment,
    Base,
    Customer,
    Material,
    Person,
    Product,
    ProductSpec,
    Setting,
    Warehouse,
)
from app.services import acting, audit, signatures, transfer, users
from app.services.transfer import (
    FORMAT,
    VERSION,
    ImportFailed,
    RowError,
    export_archive,
    import_archive,
    read_archive,
    write_archive,
)
from tests.unit import builders as b
from tests.unit.builders import credit_code

CONTENT = bytes(range(256)) + "标签图片".encode()


@pytest.fixture(scope="module")
def new_database(engine, tmp_path_factory):
    """A factory of fresh, empty, upgraded databases of the ``engine`` fixture's dialect."""
    made: list[tuple[Engine, str | None]] = []
    admin = None
    if engine.dialect.name == "postgresql":
        admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")

    def make() -> Engine:
        if admin is None:
            name, url = None, f"sqlite:///{tmp_path_factory.mktemp('transfer') / 'archive.db'}"
        else:
            name = f"foodarchive_transfer_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = engine.url.set(database=name).render_as_string(hide_password=False)
        made.append((new := make_engine(url), name))
        upgrade(new)
        return new

    yield make
    for new, name in made:
        new.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    if admin is not None:
        admin.dispose()


def _fill(engine: Engine) -> None:
    """A small, varied data set written through the application's sessions."""
    sessions = make_sessionmaker(engine, acting.system("tester"))
    with sessions.begin() as s:
        s.info["actor"] = "质量负责人"
        scan = Attachment(filename="标签.png", media_type="image/png", sha256="0" * 64, content=CONTENT)
        s.add(scan)
        s.add(Person(employee_no="E001", name="张三", post="quality",
                     health_cert_valid_to=dt.date(2027, 3, 31)))
        s.add(Person(employee_no="E002", name="李四", post="storage", active=False))
        s.add(Customer(name="上海某超市", address="上海市浦东新区", phone="021-12345678"))
        s.add(Material(code="M001", name="牛肉", category="raw", is_imported=True))
        s.add(Warehouse(code="W1", name="冷库", kind="finished", temperature_min=Decimal("-18.5"),
                        temperature_max=Decimal("4.125"), humidity_max=None))
        s.add(Setting(key="mass_balance_tolerance", value='"0.02"'))
        s.flush()
        product = Product(code="P001", name="五香牛肉干", kind="finished", shelf_life_days=180,
                          label_image_id=scan.id)
        s.add(product)
        s.flush()
        s.add(ProductSpec(product_id=product.id, spec="250g/袋", net_content=Decimal("12345678901.125")))
        first = Archive(archive_no="0001-2026-D10-001", kind="safety", title="安全管理档案", retention_code="D10",
                        period="2026-01", retention_until=dt.date(2036, 12, 31))
        s.add(first)
        s.flush()
        later = Archive(archive_no="0001-2026-D10-002", kind="safety", title="安全管理档案（续）",
                        retention_code="D10", closed_at=dt.datetime(2026, 2, 1, 8, 30, 15, 123456))
        s.add(later)
        s.flush()
        first.cites_archive_id = later.id  # a row that cites a later row of its own table
    with sessions.begin() as s:  # updates and a delete in the audit log too
        s.scalars(select(Customer)).one().phone = "021-87654321"
        s.delete(s.scalars(select(Person).where(Person.employee_no == "E002")).one())
    with sessions.begin() as s:  # a user and a signature survive the trip and still verify
        person = s.scalars(select(Person).where(Person.employee_no == "E001")).one()
        users.create_user(s, "zhangsan", "张三", "zhangsan-pass", ["quality_manager"], person_id=person.id)
        later = s.scalars(select(Archive).where(Archive.archive_no == "0001-2026-D10-002")).one()
        signatures.sign(s, later, "zhangsan", "zhangsan-pass", "编制")


@pytest.fixture(scope="module")
def source(new_database) -> Engine:
    """A database holding the data set; tests only read it."""
    engine = new_database()
    _fill(engine)
    return engine


@pytest.fixture
def data(source) -> dict:
    """A fresh export of ``source`` that a test may spoil."""
    return _export(source)


def _export(engine: Engine) -> dict:
    with engine.connect() as connection:
        return export_archive(connection)


def _content(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "exported_at"}


def _rows_in(engine: Engine) -> int:
    with engine.connect() as connection:
        tables = Base.metadata.sorted_tables
        return sum(connection.scalar(select(func.count()).select_from(t)) for t in tables)


def _cell(data: dict, table: str, row_number: int, column: str) -> tuple[list, int]:
    block = data["tables"][table]
    return block["rows"][row_number - 1], block["columns"].index(column)


def _set(data: dict, table: str, row_number: int, column: str, value: object) -> None:
    row, index = _cell(data, table, row_number, column)
    row[index] = value


def _import_fails(engine: Engine, data: dict) -> ImportFailed:
    with engine.connect() as connection:
        with pytest.raises(ImportFailed) as info:
            import_archive(connection, data)
        connection.rollback()
    assert _rows_in(engine) == 0
    return info.value


def test_export_holds_every_table_in_dependency_order(data):
    assert data["format"] == FORMAT and data["version"] == VERSION
    assert data["schema_revision"] == head_revision()
    assert list(data["tables"]) == [t.name for t in Base.metadata.sorted_tables]
    row, index = _cell(data, "product_spec", 1, "net_content")
    assert row[index] == "12345678901.125"  # the widest Numeric(14, 3), exact
    row, index = _cell(data, "warehouse", 1, "humidity_max")
    assert row[index] is None
    row, index = _cell(data, "material", 1, "is_imported")
    assert row[index] is True
    actions = [r[_cell(data, "audit_log", 1, "action")[1]] for r in data["tables"]["audit_log"]["rows"]]
    assert {"insert", "update", "delete"} <= set(actions)
    _row, index = _cell(data, "person", 1, "employee_no")
    assert [r[index] for r in data["tables"]["person"]["rows"]] == ["E001"]  # E002 was deleted


def test_round_trip_is_exact_and_verifies(new_database, source, tmp_path):
    path = tmp_path / "全部档案.json"
    with source.connect() as connection:
        written = write_archive(connection, path)
    assert "五香牛肉干" in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
    first = _export(source)
    data = read_archive(path)
    assert _content(data) == _content(first)

    target = new_database()
    with target.begin() as connection:
        counts = import_archive(connection, data)
    assert counts == written
    assert counts["person"] == 1 and counts["archive"] == 2 and counts["audit_log"] > 10
    assert counts["app_user"] == counts["user_role"] == counts["signature"] == 1
    assert _content(_export(target)) == _content(first)
    with target.connect() as connection:
        assert audit.verify(connection) == []
        assert connection.scalar(select(Attachment.content)) == CONTENT
    with make_sessionmaker(target, acting.system("tester"))() as s:
        later = s.scalars(select(Archive).where(Archive.archive_no == "0001-2026-D10-002")).one()
        (author, review) = signatures.status(s, later)
        assert (author.meaning, author.signature.printed_name, author.valid) == ("编制", "张三", True)
        assert review == ("审核", None, False)

    # The application carries on where the archive stopped: ids and the chain.
    with make_sessionmaker(target, acting.system("tester")).begin() as s:
        customer = Customer(name="北京某商店", address="北京市", phone="010-1234567")
        s.add(customer)
        s.flush()
        assert customer.id == 2
    with target.connect() as connection:
        assert audit.verify(connection) == []


def test_sqlite_archive_moves_to_another_database(new_database, tmp_path):
    source = make_engine(f"sqlite:///{tmp_path / 'source.db'}")
    upgrade(source)
    _fill(source)
    first = _export(source)
    source.dispose()
    target = new_database()
    with target.begin() as connection:
        import_archive(connection, json.loads(json.dumps(first)))
    assert _content(_export(target)) == _content(first)
    with target.connect() as connection:
        assert audit.verify(connection) == []


def test_bad_rows_are_listed_and_nothing_is_written(new_database, data):
    _set(data, "person", 1, "health_cert_valid_to", "2026-13-45")
    _set(data, "customer", 1, "name", None)
    failed = _import_fails(new_database(), data)
    assert {(e.table, e.row_number, e.column) for e in failed.errors} == {
        ("person", 1, "health_cert_valid_to"),
        ("customer", 1, "name"),
    }
    assert "表 person 第 1 行「health_cert_valid_to」：「2026-13-45」不是有效的日期" in failed.message
    assert "表 customer 第 1 行「name」：不能为空" in failed.message


def test_every_column_type_is_checked(new_database, data):
    bad = {
        ("product", 1, "shelf_life_days"): True,  # a boolean is not an integer
        ("product", 1, "code"): "P" * 41,
        ("material", 1, "is_imported"): "是",
        ("warehouse", 1, "temperature_min"): "-18.5005",
        ("product_spec", 1, "net_content"): 0.25,  # a JSON float is not exact
        ("archive", 2, "closed_at"): "2026-02-30T08:00:00",
        ("attachment", 1, "content"): "不是base64",
    }
    for (table, number, column), value in bad.items():
        _set(data, table, number, column, value)
    data["tables"]["setting"]["columns"].append("colour")
    data["tables"]["setting"]["rows"][0].append("红")
    data["tables"]["enterprise"]["columns"].remove("name")
    data["tables"]["customer"]["rows"][0].pop()
    data["tables"]["no_such_table"] = {"columns": [], "rows": []}
    failed = _import_fails(new_database(), data)
    assert {(e.table, e.row_number, e.column) for e in failed.errors} == set(bad) | {
        ("setting", 0, "colour"),
        ("enterprise", 0, "name"),
        ("customer", 1, ""),
        ("no_such_table", 0, ""),
    }


def test_foreign_keys_and_database_constraints(new_database, source, data):
    _set(data, "product_spec", 1, "product_id", 999)
    target = new_database()
    failed = _import_fails(target, data)
    assert failed.errors == [RowError("product_spec", 1, "product_id", "引用的 product 编号 999 在档案中不存在")]

    data = _export(source)
    copy, index = _cell(data, "customer", 1, "id")
    data["tables"]["customer"]["rows"].append(copy[:index] + [99] + copy[index + 1 :])
    failed = _import_fails(target, data)
    assert failed.errors == []
    assert "表 customer 的数据违反了数据库的约束" in failed.message


def test_refuses_a_database_that_has_rows(new_database, data):
    with make_sessionmaker(target := new_database(), acting.system("tester")).begin() as s:
        s.add(Customer(name="已有客户", address="杭州市", phone="0571-1234567"))
    with target.connect() as connection:
        with pytest.raises(ImportFailed, match="只能导入到空数据库") as info:
            import_archive(connection, data)
    assert "customer" in info.value.message and "audit_log" in info.value.message


def test_refuses_other_formats_and_versions(new_database):
    target = new_database()
    data = {"format": FORMAT, "version": VERSION, "tables": {}}
    cases = [({"format": "other-app"}, "other-app"), ({"version": 2}, "请升级本软件"), ({"version": "1"}, "「1」")]
    for change, shown in cases:
        with target.connect() as connection:
            with pytest.raises(ImportFailed, match=shown):
                import_archive(connection, {**data, **change})
    with target.begin() as connection:  # an archive with no rows at all is fine
        assert set(import_archive(connection, data).values()) == {0}


def test_read_archive_refuses_what_is_not_an_archive(tmp_path):
    with pytest.raises(UserError, match="无法读取文件"):
        read_archive(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text('{"format": "foodarchive-archive",, "version": 1}', encoding="utf-8")
    with pytest.raises(UserError, match="不是有效的 JSON"):
        read_archive(tmp_path / "broken.json")
    (tmp_path / "cut.json").write_text('{"format": "foodarchive-archive", ', encoding="utf-8")
    with pytest.raises(UserError, match="不完整"):
        read_archive(tmp_path / "cut.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(UserError, match="不是 UTF-8"):
        read_archive(tmp_path / "binary.json")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(UserError, match="不是本软件导出的档案文件"):
        read_archive(tmp_path / "list.json")


def test_message_lists_the_first_twenty_errors():
    failed = ImportFailed([RowError("person", n, "name", "不能为空") for n in range(1, 26)])
    assert "表 person 第 20 行「name」：不能为空" in failed.message
    assert "第 21 行" not in failed.message
    assert "另有 5 处错误未列出" in failed.message


# ---------------------------------------------------------------- a file edited by hand (issue 15)


@pytest.fixture(scope="module")
def factory(new_database) -> Engine:
    """Receipts, a batch, a released commodity and a delivery, written by the services."""
    from app.services import distribution

    engine = new_database()
    with make_sessionmaker(engine, acting.system("tester")).begin() as s:
        p = b.plant(s)
        commodity = b.released_commodity(s, p, b.lot(s, p, p.soy))
        distribution.deliver(s, commodity, p.customer, 60, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    return engine


def _entries(data: dict) -> list[dict]:
    block = data["tables"]["audit_log"]
    return [dict(zip(block["columns"], row)) for row in block["rows"]]


def _rehash(data: dict, table: str, row_number: int) -> None:
    """Make the audit log agree with an edited row, as a careful forger would:
    a new last entry for it, the chain continued. Only the form rules can then tell."""
    block = data["tables"][table]
    values = dict(zip(block["columns"], block["rows"][row_number - 1]))
    parsed = {c.name: None if values[c.name] is None else transfer.PARSERS[c.type.python_type](values[c.name], c)
              for c in Base.metadata.tables[table].columns if c.name not in audit.NOT_CONTENT}
    canonical = {k: audit.canonical_value(v) for k, v in sorted(parsed.items())}
    log = data["tables"]["audit_log"]
    last = _entries(data)[-1]
    entry = {"at": dt.datetime(2026, 11, 22, 9), "actor": "tester", "action": "update", "table_name": table,
             "row_id": values["id"], "row_hash": audit.row_hash(table, canonical), "data": audit.to_json(canonical),
             "reason": None}
    entry["prev_hash"] = last["hash"]
    entry["hash"] = audit.entry_hash(last["hash"], entry)
    entry["id"] = last["id"] + 1
    entry["at"] = entry["at"].isoformat()
    log["rows"].append([entry[c] for c in log["columns"]])


def _row_of(data: dict, table: str, column: str, value) -> int:
    block = data["tables"][table]
    index = block["columns"].index(column)
    return next(n for n, row in enumerate(block["rows"], 1) if row[index] == value)


def test_a_broken_chain_is_refused_and_nothing_is_written(new_database, data):
    entries = data["tables"]["audit_log"]
    actor = entries["columns"].index("actor")
    entries["rows"][2][actor] = "别人"  # who did it, rewritten
    failed = _import_fails(new_database(), data)
    assert "审计日志与数据不符" in failed.message and "审计日志第 3 条与前后记录的哈希链不符" in failed.message


def test_a_row_that_differs_from_its_log_is_refused(new_database, data):
    _set(data, "customer", 1, "phone", "021-99999999")  # a valid value, but not what the log says
    failed = _import_fails(new_database(), data)
    assert "（编号 1）在本软件之外被修改过" in failed.message
    _rehash(data, "customer", 1)  # the log continued to agree: the forgery the rules below must catch
    with new_database().begin() as connection:
        assert import_archive(connection, data)["customer"] == 1


def test_an_archive_without_its_log_is_refused(new_database, data):
    data["tables"]["audit_log"]["rows"] = []
    failed = _import_fails(new_database(), data)
    assert "不是经本软件写入的" in failed.message


CODE = credit_code("91310000MA1FL0001")


@pytest.mark.parametrize(("table", "column", "value", "reason"), [
    ("customer", "credit_code", CODE[:-1] + ("0" if CODE[-1] != "0" else "1"), "「统一社会信用代码」校验位不正确"),
    ("customer", "credit_code", CODE.lower(), f"「统一社会信用代码」应写作「{CODE}」"),
    ("person", "post", "boss", "「岗位」应为以下之一"),
    ("product", "shelf_life_days", 10**8, "「保质期（天）」不能大于 36500"),
    ("archive", "retention_until", "0001-01-01", "应在 1900 年至 2200 年之间"),
    ("customer", "address", "a\u0000b", "控制字符"),
])
def test_a_row_that_breaks_the_forms_rules_is_refused(new_database, data, table, column, value, reason):
    """Even with the audit log forged to agree, the form's rules refuse the row."""
    _set(data, table, 1, column, value)
    _rehash(data, table, 1)
    failed = _import_fails(new_database(), data)
    assert [(e.table, e.row_number, e.column) for e in failed.errors] == [(table, 1, column)]
    assert reason in failed.errors[0].message


def test_negative_stock_and_a_delivery_larger_than_its_batch_are_refused(new_database, factory):
    data = _export(factory)
    with factory.connect() as connection:
        assert audit.verify(connection) == []
    number = _row_of(data, "delivery", "units", 60)
    _set(data, "delivery", number, "units", 150)  # 100 were packed
    _rehash(data, "delivery", number)
    lot = 1
    _set(data, "material_lot", lot, "quantity_on_hand", "-200")
    _rehash(data, "material_lot", lot)
    failed = _import_fails(new_database(), data)
    shown = {(e.table, e.column): e.message for e in failed.errors}
    assert shown == {
        ("delivery", "units"): "销售数量合计 150 件超过商品批次「" + shown[("delivery", "units")].split("「")[1].split("」")[0]
        + "」的包装数量 100 件",
        ("material_lot", "quantity_on_hand"): "「库存数量」不能为负数",
    }


def test_the_factory_archive_imports_and_verifies(new_database, factory):
    target = new_database()
    with target.begin() as connection:
        counts = import_archive(connection, _export(factory))
    assert counts["delivery"] == 1
    with target.connect() as connection:
        assert audit.verify(connection) == []


def test_the_format_document_lists_every_table_and_column():
    """docs/json-format.md's tables section is what the models say (python3 docs/make_json_tables.py)."""
    import runpy
    from pathlib import Path

    maker = runpy.run_path(str(Path(__file__).resolve().parents[2] / "docs" / "make_json_tables.py"))
    document = maker["DOC"].read_text(encoding="utf-8")
    assert maker["current"](document) == document, "run: python3 docs/make_json_tables.py"
    assert "### `delivery`" in document and "**Entry hash**" in document


def test_import_json_refuses_a_forged_file_with_exit_code_1(data, tmp_path, capsys):
    from app.cli import main

    entries = data["tables"]["audit_log"]
    entries["rows"][0][entries["columns"].index("actor")] = "别人"
    forged, fresh = tmp_path / "forged.json", tmp_path / "fresh.db"
    forged.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["--db", str(fresh), "init"]) == 0
    capsys.readouterr()
    assert main(["--db", str(fresh), "import-json", str(forged)]) == 1
    assert "审计日志第 1 条与前后记录的哈希链不符" in capsys.readouterr().err
    assert _rows_in(make_engine(f"sqlite:///{fresh}")) == 0
