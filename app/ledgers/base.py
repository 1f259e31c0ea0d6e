"""One declaration per ledger (architecture.md).

A Ledger names its model and lists its Fields: Chinese label, kind, required
flag, validators, choices and lookups, column width. Forms, tables, Excel,
the importer and the printed pages are all derived from it; the services
validate through it, so a rule is written once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from app.errors import FieldError, ValidationError

from . import bounds as b
from .validators import Validator

KINDS = ("text", "longtext", "int", "decimal", "date", "datetime", "bool", "choice", "ref")


@dataclass(frozen=True)
class Lookup:
    """Where a reference field finds its choices: a ledger and the field shown."""

    ledger: str
    display: str


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"
    required: bool = False
    width: int = 12  # characters, for tables and Excel
    choices: Mapping[str, str] | None = None  # stored code -> Chinese label
    lookup: Lookup | None = None
    validators: Sequence[Validator] = ()
    unit: str | None = None
    help: str | None = None
    # Length, range, decimals: the column's (``fields.declare`` fills them in
    # from the model) narrowed by what the field can plausibly hold.
    bounds: b.Bounds = b.Bounds()
    # How a typed code is kept (credit codes upper-cased), before validators run.
    normalize: Callable[[str], str] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r} for {self.name}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"choice field {self.name} needs choices")
        if self.kind == "ref" and self.lookup is None:
            raise ValueError(f"ref field {self.name} needs a lookup")

    def convert(self, raw: object) -> object:
        """Turn what a form, a spreadsheet or JSON gives into the stored type,
        within the field's bounds.

        Raises ValueError with a Chinese reason that does not name the field.
        """
        value = self._convert(raw)
        reason = b.check(value, self.bounds)
        if reason:
            raise ValueError(reason)
        return value

    def _convert(self, raw: object) -> object:
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        if self.kind in ("text", "longtext"):
            text = str(raw).strip()
            return self.normalize(text) if self.normalize else text
        if self.kind in ("int", "ref"):
            if isinstance(raw, bool):
                raise ValueError("应为整数")
            try:
                number = Decimal(str(raw).strip())
            except InvalidOperation:
                raise ValueError("应为整数") from None
            if not number.is_finite() or b.decimals(number):
                raise ValueError("应为整数")
            if number.adjusted() > 30:  # int() of 1e999999999 would not finish
                raise ValueError("数值过大" if number > 0 else "数值过小")
            return int(number)
        if self.kind == "decimal":
            try:
                number = Decimal(str(raw).strip())
            except InvalidOperation:
                raise ValueError("应为数字") from None
            if not number.is_finite():
                raise ValueError("应为数字")
            return number
        if self.kind == "date":
            if isinstance(raw, dt.datetime):
                return raw.date()
            if isinstance(raw, dt.date):
                return raw
            try:
                return dt.date.fromisoformat(str(raw).strip().replace("/", "-"))
            except ValueError:
                raise ValueError("应为日期（如 2026-11-22）") from None
        if self.kind == "datetime":
            if isinstance(raw, dt.datetime):
                return raw
            if isinstance(raw, dt.date):
                return dt.datetime.combine(raw, dt.time())
            try:
                return dt.datetime.fromisoformat(str(raw).strip().replace("/", "-"))
            except ValueError:
                raise ValueError("应为日期时间（如 2026-11-22 08:30）") from None
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "是", "y", "√"):
                return True
            if text in ("0", "false", "no", "否", "n", "×"):
                return False
            raise ValueError("应为“是”或“否”")
        if self.kind == "choice":
            text = str(raw).strip()
            if text in self.choices:
                return text
            by_label = {label: code for code, label in self.choices.items()}
            if text in by_label:
                return by_label[text]
            raise ValueError("应为以下之一：" + "、".join(self.choices.values()))
        raise AssertionError(self.kind)

    def display(self, value: object) -> str:
        """The value as a person reads it (tables, paper)."""
        if value is None:
            return ""
        if self.kind == "choice":
            return self.choices.get(value, str(value))
        if self.kind == "bool":
            return "是" if value else "否"
        if self.kind == "datetime":
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, Decimal):
            return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f").rstrip("0")
        return str(value)


@dataclass(frozen=True)
class Ledger:
    key: str  # stable name used by the CLI, exports and imports
    title: str  # Chinese name of the ledger
    model: type
    fields: Sequence[Field]
    date_field: str | None = None  # the date a period filter applies to
    number_field: str | None = None  # the number a user knows a row by
    archive: str | None = None  # product, commodity, warning, safety, or None
    signatures: Sequence[str] = ()  # meanings a record needs (编制, 复核, 审核, 批准)
    group: str = ""  # navigation group in the UI
    extra: Mapping[str, object] = field(default_factory=dict)
    # What an inspector reads on paper: the fields a printed sheet shows (the
    # Excel file still holds every field, the others folded away); () = all.
    print_columns: Sequence[str] = ()
    # A master list (suppliers, people, customers, materials, products) stands
    # whole at any date: an export for a period lists all of it unless the
    # user filters it on the ledger's page.
    whole_list: bool = False

    def __post_init__(self):
        unknown = set(self.print_columns) - {f.name for f in self.fields}
        if unknown:
            raise ValueError(f"{self.key}: print columns {sorted(unknown)} are not fields")

    @property
    def printed_fields(self) -> list[Field]:
        return [f for f in self.fields if not self.print_columns or f.name in self.print_columns]

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.key} has no field {name}")

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def clean(self, values: Mapping[str, object], *, partial: bool = False) -> dict[str, object]:
        """Convert and validate values; raise ValidationError naming every bad field.

        ``partial``: only the given fields are checked (an amendment).
        """
        errors: list[FieldError] = []
        cleaned: dict[str, object] = {}
        unknown = set(values) - set(self.field_names)
        if unknown:
            raise ValueError(f"{self.key}: unknown fields {sorted(unknown)}")
        for f in self.fields:
            if partial and f.name not in values:
                continue
            try:
                value = f.convert(values.get(f.name))
            except ValueError as exc:
                errors.append(FieldError(f.name, f.label, f"「{f.label}」{exc}"))
                continue
            if value is None:
                if f.required:
                    errors.append(FieldError(f.name, f.label, f"「{f.label}」不能为空"))
                cleaned[f.name] = None
                continue
            for validator in f.validators:
                reason = validator(value)
                if reason:
                    errors.append(FieldError(f.name, f.label, f"「{f.label}」{reason}"))
                    break
            cleaned[f.name] = value
        if errors:
            raise ValidationError(errors)
        return cleaned


_REGISTRY: dict[str, Ledger] = {}


def register(*ledgers: Ledger) -> None:
    for ledger in ledgers:
        if ledger.key in _REGISTRY:
            raise ValueError(f"ledger {ledger.key} declared twice")
        _REGISTRY[ledger.key] = ledger


def registry() -> dict[str, Ledger]:
    return _REGISTRY
