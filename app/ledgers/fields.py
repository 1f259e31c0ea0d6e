"""Field factories: they keep the declarations in master.py, records.py and
safety.py to one line a field."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal

from . import validators as v
from .base import Field, Ledger, Lookup
from .bounds import TEXT_MAX, Bounds, of_column, upper_code

# --- ledger attributes -------------------------------------------------------

SIGNATURE_MEANINGS = ("编制", "操作", "复核", "审核", "批准")
GROUPS = ("基础数据", "进货查验", "生产", "检验", "仓储", "出厂与销售", "召回与销毁", "档案", "安全管理")
COMPUTED = "系统计算"

# --- field factories ---------------------------------------------------------


def text(name: str, label: str, width: int = 16, required: bool = False, **extra) -> Field:
    return Field(name, label, "text", required, width, **extra)


def note(name: str, label: str, required: bool = False, width: int = 30) -> Field:
    return Field(name, label, "longtext", required, width)


def day(name: str, label: str, required: bool = True, help: str | None = None) -> Field:
    return Field(name, label, "date", required, 11, help=help)


def moment(name: str, label: str, required: bool = True) -> Field:
    return Field(name, label, "datetime", required, 16)


def _range(low, high) -> Bounds:
    return Bounds(low=None if low is None else Decimal(str(low)), high=None if high is None else Decimal(str(high)))


def qty(name: str, label: str, required: bool = True, check=v.positive, help: str | None = None,
        low=None, high=None) -> Field:
    """A decimal quantity; ``check`` None for signed values (temperatures, limits).
    ``low``/``high``: what the quantity can plausibly be, inside its column's range."""
    return Field(name, label, "decimal", required, 10, validators=(check,) if check else (), help=help,
                 bounds=_range(low, high))


def count(name: str, label: str, required: bool = True, check=v.positive, help: str | None = None,
          high=None) -> Field:
    """A whole number: packs, days, seconds, pages."""
    return Field(name, label, "int", required, 10, validators=(check,) if check else (), help=help,
                 bounds=_range(None, high))


def shelf_life(help: str | None = None) -> Field:
    """Days; a hundred years is more than any food keeps (a typo like 10^25 is refused)."""
    return count("shelf_life_days", "保质期（天）", required=False, help=help, high=36500)


def temperature(name: str, label: str, required: bool = False) -> Field:
    """Degrees Celsius: nothing is colder than absolute zero."""
    return qty(name, label, required, check=None, low="-273.15", high=1000)


def percent(name: str, label: str, required: bool = False, check=v.not_negative, help: str | None = None) -> Field:
    return qty(name, label, required, check=check, help=help, low=0, high=100)


def flag(name: str, label: str, help: str | None = None) -> Field:
    return Field(name, label, "bool", False, 8, help=help)


def pick(name: str, label: str, choices: Mapping[str, str], required: bool = True) -> Field:
    width = max(len(label), *(len(choice) for choice in choices.values())) + 2
    return Field(name, label, "choice", required, width, choices=choices)


def ref(name: str, label: str, ledger: str, display: str, required: bool = True, width: int = 16) -> Field:
    return Field(name, label, "ref", required, width, lookup=Lookup(ledger, display))


def person(name: str, label: str, required: bool = True) -> Field:
    return ref(name, label, "person", "name", required, 10)


def batch(name: str = "batch_id", label: str = "生产批号", required: bool = True) -> Field:
    return ref(name, label, "product_batch", "batch_no", required, 16)


def commodity(name: str = "commodity_batch_id", label: str = "商品批号", required: bool = True) -> Field:
    return ref(name, label, "commodity_batch", "lot_code", required, 16)


def material_lot(name: str = "material_lot_id", label: str = "物料批号", required: bool = True) -> Field:
    return ref(name, label, "material_lot", "lot_no", required, 14)


def material(name: str = "material_id", label: str = "物料名称", required: bool = True) -> Field:
    return ref(name, label, "material", "name", required, 20)


def supplier(required: bool = True) -> Field:
    return ref("supplier_id", "供货者名称", "supplier", "name", required, 24)


def product(name: str = "product_id", label: str = "产品名称", required: bool = True) -> Field:
    return ref(name, label, "product", "name", required, 20)


def warehouse(label: str = "仓库", required: bool = False) -> Field:
    return ref("warehouse_id", label, "warehouse", "name", required, 12)


def line(label: str = "生产线", required: bool = False) -> Field:
    return ref("line_id", label, "production_line", "name", required, 12)


def attachment(name: str, label: str) -> Field:
    """A record's own scan: filled when the first file is attached to it."""
    return Field(name, label, "ref", False, 20, lookup=Lookup("attachment", "filename"),
                 help="在记录窗口的“附件”中添加文件后自动填写")


def unit(label: str = "单位") -> Field:
    return text("unit", label, 6, True)


def submittable() -> tuple[Field, Field]:
    """The two user-facing columns of the Submittable mixin (R5.1)."""
    return (text("paper_ref", "原始纸质记录编号", 16), note("remarks", "备注"))


def party(name_label: str, *, code_required: bool = False, phone_required: bool = False) -> list[Field]:
    """Name, credit code, address and contact of an enterprise, supplier or buyer."""
    return [
        text("name", name_label, 24, True),
        text("credit_code", "统一社会信用代码", 20, code_required, validators=(v.credit_code,), normalize=upper_code),
        text("address", "地址", 30, True),
        text("contact_person", "联系人", 10),
        text("phone", "联系方式", 14, phone_required, validators=(v.phone,)),
    ]


def declare(model: type, group: str, fields: list[Field], *, title: str | None = None,
            date: str | None = None, number: str | None = None, archive: str | None = None,
            signs: tuple[str, ...] = (), signed_by: Mapping[str, str] | None = None,
            prints: tuple[str, ...] = (), whole: bool = False) -> Ledger:
    """A ledger keyed by its model's table name, titled by its ``__label__`` unless told.

    ``signed_by`` names, per signature meaning, the person field of the one who
    must give it (编制 → the inspector): a user linked to someone else is refused.
    ``prints`` names the fields a printed sheet shows (all when empty);
    ``whole`` marks a master list that a period export takes whole."""
    return Ledger(
        key=model.__tablename__,
        title=title or model.__label__,
        model=model,
        fields=tuple(_bounded(model, f) for f in fields),
        date_field=date,
        number_field=number,
        archive=archive,
        signatures=signs,
        group=group,
        extra={"signed_by": dict(signed_by)} if signed_by else {},
        print_columns=prints,
        whole_list=whole,
    )


def _bounded(model: type, f: Field) -> Field:
    """The field with its column's limits (length, digits, decimals, integer
    range) added to what it declares: written once, in the model."""
    column = model.__table__.c.get(f.name)
    if column is None:
        return f
    limits = of_column(column)
    if f.kind in ("text", "longtext") and limits.max_length is None:
        limits = Bounds(max_length=TEXT_MAX)
    return dataclasses.replace(f, bounds=f.bounds.tighter(limits))
