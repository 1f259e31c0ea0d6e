"""The ledger declarations agree with the models they describe (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, LargeBinary, Numeric, String, inspect
from sqlalchemy.orm import Mapper
from stdnum.cn import uscc

import app.ledgers as ledgers
from app.errors import ValidationError
from app.ledgers import choices, fields
from app.models import Base

REGISTRY = ledgers.registry()
LEDGERS = sorted(REGISTRY.values(), key=lambda ledger: ledger.key)
IDS = [ledger.key for ledger in LEDGERS]

# Filled by the mixins or by the database; never on a form.
SYSTEM_COLUMNS = {"id", "created_at", "created_by", "submitted_at", "submitted_by"}

EXPECTED_KEYS = {
    # R1 master data
    "enterprise", "supplier", "supplier_material", "supplier_document", "supplier_document_material",
    "platform_check", "supplier_evaluation", "supplier_status_change", "material", "product", "product_spec", "formula_item",
    "process_step", "ccp", "person", "training_record", "duty_record", "production_line", "warehouse",
    "equipment", "customer", "inspection_standard",
    # R2 and R3
    "incoming_inspection", "material_lot", "stock_movement", "product_batch", "feeding", "ccp_reading",
    "process_record", "cleaning_record", "sterilisation_record", "intermediate_storage",
    "packaging_record", "additive_use", "inspection", "inspection_item", "retained_sample",
    "commodity_batch", "finished_goods_movement", "delivery", "recall", "recall_progress", "destruction",
    "archive", "catalogue_entry", "amendment", "attachment",
    # R2.9–R2.10
    "environment_reading", "water_monitoring", "equipment_upkeep", "workshop_cleanliness",
    "storage_condition_record", "near_expiry_handling",
    # Issue 13: a recall's frozen scope and customers; R7.4 the internal audit
    "recall_scope", "recall_customer", "internal_audit", "incident", "corrective_action",
    # R2.9 device files (issue 19)
    "device", "reading_profile", "reading_import", "reading_alarm",
}  # fmt: skip

ARCHIVES = {
    "product": {
        "product_batch", "feeding", "ccp_reading", "process_record", "cleaning_record",
        "sterilisation_record", "intermediate_storage", "packaging_record", "additive_use",
        "retained_sample", "inspection", "inspection_item", "incoming_inspection",
    },
    "commodity": {"commodity_batch", "finished_goods_movement", "delivery"},
    "warning": {"recall", "recall_progress", "recall_scope", "recall_customer", "destruction"},
    "safety": {
        "environment_reading", "water_monitoring", "equipment_upkeep", "workshop_cleanliness",
        "storage_condition_record", "near_expiry_handling", "internal_audit", "incident", "corrective_action",
        "reading_import",
    },
}  # fmt: skip


def columns(ledger):
    """Attribute name -> Column of the ledger's model."""
    return {attr.key: attr.columns[0] for attr in inspect(ledger.model).column_attrs}


def has_default(column) -> bool:
    return column.default is not None or column.server_default is not None


def fields_of_kind(ledger, kind: str):
    """(field, column) for every field of one kind."""
    cols = columns(ledger)
    return [(f, cols[f.name]) for f in ledger.fields if f.kind == kind]


def expected_kinds(column) -> set[str]:
    kind = column.type
    if isinstance(kind, Boolean):
        return {"bool"}
    if isinstance(kind, DateTime):
        return {"datetime"}
    if isinstance(kind, Date):
        return {"date"}
    if isinstance(kind, Numeric):
        return {"decimal"}
    if isinstance(kind, Integer):
        return {"ref"} if column.foreign_keys else {"int"}
    if isinstance(kind, String):  # Text is a String
        return {"text", "longtext", "choice"}
    raise AssertionError(f"no field kind for {column.table.name}.{column.name} ({kind!r})")


def test_every_expected_ledger_is_registered():
    assert set(REGISTRY) == EXPECTED_KEYS


def test_every_mapped_ledger_table_has_a_declaration():
    """A table a user enters or reads is never left without its ledger."""
    internal = {"archive_record", "audit_log", "setting", "app_user", "user_role", "signature", "signature_specimen",
                "platform_outbox", "platform_schedule",  # the upload queue: shown on the upload status panel
                "archive_seal",
                "backup_run"}  # the backup record: shown by 设置 → 备份与恢复  # 立卷人/检查人 of a sealed archive: shown by the archive browser and the volume
    tables = {mapper.class_.__tablename__ for mapper in Base.registry.mappers}
    assert tables - internal == set(REGISTRY)


@pytest.mark.parametrize("ledger", LEDGERS, ids=IDS)
def test_model_is_mapped_and_key_is_its_table(ledger):
    assert isinstance(inspect(ledger.model), Mapper)
    assert ledger.key == ledger.model.__tablename__
    assert ledger.title and not ledger.title.isascii()


@pytest.mark.parametrize("ledger", LEDGERS, ids=IDS)
def test_fields_are_column_attributes(ledger):
    cols = columns(ledger)
    names = ledger.field_names
    assert len(names) == len(set(names)), "a field is declared twice"
    for name in names:
        assert name in cols, f"{ledger.key}.{name} is not a column of {ledger.model.__name__}"
        assert name not in SYSTEM_COLUMNS


@pytest.mark.parametrize("ledger", LEDGERS, ids=IDS)
def test_required_columns_are_declared_required(ledger):
    for name, column in columns(ledger).items():
        if name in SYSTEM_COLUMNS or column.nullable or has_default(column):
            continue
        if isinstance(column.type, LargeBinary):
            # No field kind holds bytes: the file body is written by the attachment service.
            continue
        assert name in ledger.field_names, f"{ledger.key}.{name} is NOT NULL without a default"
        assert ledger.field(name).required, f"{ledger.key}.{name} is NOT NULL: declare it required"


@pytest.mark.parametrize("ledger", LEDGERS, ids=IDS)
def test_required_fields_are_not_null_columns(ledger):
    cols = columns(ledger)
    for f in ledger.fields:
        if f.required:
            assert not cols[f.name].nullable, f"{ledger.key}.{f.name} is required but nullable"


@pytest.mark.parametrize("ledger", LEDGERS, ids=IDS)
def test_kinds_agree_with_column_types(ledger):
    cols = columns(ledger)
    for f in ledger.fields:
        assert f.kind in expected_kinds(cols[f.name]), f"{ledger.key}.{f.name}: {f.kind}"
        assert f.width > 0


@pytest.mark.parametrize("ledger", LEDGERS, ids=IDS)
def test_ref_lookups_name_the_referenced_ledger(ledger):
    for f, column in fields_of_kind(ledger, "ref"):
        assert f.lookup.ledger in REGISTRY, f"{ledger.key}.{f.name} looks up {f.lookup.ledger}"
        target = REGISTRY[f.lookup.ledger]
        assert f.lookup.display in target.field_names, f"{ledger.key}.{f.name}: {f.lookup}"
        (foreign_key,) = column.foreign_keys
        assert foreign_key.column.table.name == target.key, f"{ledger.key}.{f.name} points elsewhere"


@pytest.mark.parametrize("ledger", LEDGERS, ids=IDS)
def test_choices_are_ascii_codes_that_fit_their_column(ledger):
    for f, column in fields_of_kind(ledger, "choice"):
        labels = list(f.choices.values())
        assert len(labels) == len(set(labels)), f"{ledger.key}.{f.name}: two codes share a label"
        for code, label in f.choices.items():
            assert code.isascii() and code.isidentifier(), f"{ledger.key}.{f.name}: {code!r}"
            assert len(code) <= column.type.length
            assert label and not label.isascii()


@pytest.mark.parametrize("ledger", LEDGERS, ids=IDS)
def test_ledger_attributes(ledger):
    if ledger.number_field:
        assert ledger.field(ledger.number_field).kind in ("text", "int")
    if ledger.date_field:
        assert ledger.field(ledger.date_field).kind in ("date", "datetime")
    assert ledger.group in fields.GROUPS
    assert set(ledger.signatures) <= set(fields.SIGNATURE_MEANINGS)
    expected_archive = next((kind for kind, keys in ARCHIVES.items() if ledger.key in keys), None)
    assert ledger.archive == expected_archive
    if ledger.group == "基础数据":
        # Master data is not signed, except the quality manager's approval of
        # a supplier evaluation, which admits a supplier (G§14).
        assert ledger.signatures == (("批准",) if ledger.key == "supplier_evaluation" else ())


@pytest.mark.parametrize("ledger", LEDGERS, ids=IDS)
def test_submittable_records_keep_paper_reference_and_remarks(ledger):
    if "paper_ref" not in columns(ledger):
        return
    assert not ledger.field("paper_ref").required
    assert ledger.field("paper_ref").label == "原始纸质记录编号"
    assert ledger.field("remarks").kind == "longtext"


def test_computed_columns_are_marked():
    computed = {
        "material_lot": "quantity_on_hand", "stock_movement": "balance", "commodity_batch": "units_on_hand",
        "product_batch": "quantity_on_hand", "finished_goods_movement": "balance",
        "ccp_reading": "deviation", "environment_reading": "alarm", "attachment": "sha256",
    }  # fmt: skip
    computed = [*computed.items(), ("archive", "retention_until"), ("archive", "archive_no")]
    for key, name in computed:
        assert REGISTRY[key].field(name).help == fields.COMPUTED, f"{key}.{name}"


def test_signed_and_limit_values_are_not_forced_positive():
    """Stock issues are negative; temperatures and CCP limits may be below zero."""
    values = {"quantity": Decimal("-5"), "balance": Decimal("20")}
    movement = REGISTRY["stock_movement"]
    for name, value in values.items():
        assert all(check(value) is None for check in movement.field(name).validators)
    for name in ("lower_limit", "upper_limit"):
        assert REGISTRY["ccp"].field(name).validators == ()
    assert REGISTRY["warehouse"].field("temperature_min").validators == ()


# --- clean() names the field in Chinese --------------------------------------


def valid_credit_code() -> str:
    body = "91310000MA1FL0000"
    return body + uscc.calc_check_digit(body)


def enterprise_values(**changes):
    values = {
        "name": "上海某某食品有限公司",
        "credit_code": valid_credit_code(),
        "address": "上海市浦东新区某路1号",
        "licence_no": "SC10631011500016",
        "phone": "021-5555 1234",
        "fonds_code": "0001",
    }
    values.update(changes)
    return values


def test_a_valid_enterprise_cleans():
    cleaned = REGISTRY["enterprise"].clean(enterprise_values())
    assert cleaned["credit_code"] == valid_credit_code()
    assert cleaned["contact_person"] is None


def bad_check_character(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"credit_code": bad_check_character(valid_credit_code())}, "统一社会信用代码"),
        ({"credit_code": "12345"}, "统一社会信用代码"),
        ({"licence_no": "SC1063101150001"}, "食品生产许可证编号"),
        ({"phone": "请拨打总机"}, "联系方式"),
        ({"name": "  "}, "企业名称"),
    ],
)
def test_bad_enterprise_values_name_their_label(changes, label):
    with pytest.raises(ValidationError) as caught:
        REGISTRY["enterprise"].clean(enterprise_values(**changes))
    assert f"「{label}」" in caught.value.message
    assert [error.field for error in caught.value.errors] == list(changes)


def test_bad_gtin_is_refused():
    spec = REGISTRY["product_spec"]
    good = {"product_id": 1, "spec": "500g/袋", "net_content": "0.5", "gtin": "6901234567892"}
    assert spec.clean(good)["net_content"] == Decimal("0.5")
    with pytest.raises(ValidationError) as caught:
        spec.clean({**good, "gtin": "6901234567893"})
    assert "「商品条码（GTIN）」" in caught.value.message


def receipt_values(**changes):
    values = {
        "receipt_no": "JH20261122001", "material_id": 1, "supplier_id": 2, "quantity": "25",
        "unit": "kg", "production_date": "2026-11-01", "supplier_lot": "L2611", "receipt_date": "2026/11/22",
        "decision": "合格接收", "inspector_id": "3",
    }  # fmt: skip
    values.update(changes)
    return values


def test_a_receipt_cleans_to_stored_types():
    cleaned = REGISTRY["incoming_inspection"].clean(receipt_values())
    assert cleaned["quantity"] == Decimal("25")
    assert cleaned["receipt_date"] == dt.date(2026, 11, 22)
    assert cleaned["decision"] == "accepted"
    assert cleaned["inspector_id"] == 3


@pytest.mark.parametrize("quantity", ["-1", "0"])
def test_a_received_quantity_must_be_positive(quantity):
    with pytest.raises(ValidationError) as caught:
        REGISTRY["incoming_inspection"].clean(receipt_values(quantity=quantity))
    assert "「数量」必须大于 0" in caught.value.message


def test_missing_required_values_are_all_reported():
    with pytest.raises(ValidationError) as caught:
        REGISTRY["incoming_inspection"].clean(receipt_values(supplier_lot="", decision=None))
    assert {error.field for error in caught.value.errors} == {"supplier_lot", "decision"}
    assert "「生产批号（供应商批号）」不能为空" in caught.value.message


def test_negative_stock_on_hand_is_refused():
    lot = REGISTRY["material_lot"]
    values = {
        "lot_no": "WL0001", "material_id": 1, "supplier_id": 1, "receipt_id": 1, "supplier_lot": "L1",
        "quantity_received": "10", "quantity_on_hand": "-0.001", "unit": "kg",
        "production_date": "2026-11-01",
    }  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        lot.clean(values)
    assert "「库存数量」不能为负数" in caught.value.message
