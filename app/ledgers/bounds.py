"""The bounds every stored value keeps, whichever way it comes in (issue 15).

A form, the Excel importer, the JSON import and the services all check a
value through ``check``, with the limits of its column (String length,
Numeric digits and decimals, Integer range) and of what a record can
plausibly say (a date between 1900 and 2200). SQLite stores whatever it is
given; PostgreSQL refuses what does not fit its column with an internal
error. Checking the column's own limits first means a SQLite archive never
holds a value that cannot move to PostgreSQL, and the user reads why.

Reasons are Chinese and leave out the field's label: the caller puts it in front.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Integer, Numeric, SmallInteger, String, Text

# A food record dated before 1900 or after 2200 is a typing mistake (year 0001,
# 20266); PostgreSQL and SQLite would both store it, and every period filter,
# expiry and retention computed from it would be wrong.
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2200, 12, 31)
# A Text column has no length limit in either database; a note longer than
# this is a paste gone wrong, and it would fill the printed page.
TEXT_MAX = 20000
INT32 = 2**31 - 1
INT64 = 2**63 - 1
# Characters neither database should keep: NUL (PostgreSQL refuses it), other
# control characters (invisible on paper) and lone surrogates (not UTF-8).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True)
class Bounds:
    """The limits of one value; None where there is none."""

    max_length: int | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    scale: int | None = None  # decimal places

    def tighter(self, other: Bounds) -> Bounds:
        """Both sets of limits at once (a declaration narrows its column)."""

        def pick(a, b, narrower):
            return b if a is None else a if b is None else narrower(a, b)

        return Bounds(
            max_length=pick(self.max_length, other.max_length, min),
            low=pick(self.low, other.low, max),
            high=pick(self.high, other.high, min),
            scale=pick(self.scale, other.scale, min),
        )


def of_column(column: Column) -> Bounds:
    """What the column's type can hold in both databases."""
    kind = column.type
    if isinstance(kind, String) and not isinstance(kind, Text):
        return Bounds(max_length=kind.length)
    if isinstance(kind, Text):
        return Bounds()  # no limit in either database; a ledger's note has TEXT_MAX (fields.declare)
    if isinstance(kind, Numeric):
        precision, scale = kind.precision, kind.scale or 0
        if precision is None:
            return Bounds()
        whole = Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)
        return Bounds(low=-whole, high=whole, scale=scale)
    if isinstance(kind, BigInteger):
        return Bounds(low=Decimal(-INT64 - 1), high=Decimal(INT64))
    if isinstance(kind, SmallInteger):
        return Bounds(low=Decimal(-(2**15)), high=Decimal(2**15 - 1))
    if isinstance(kind, Integer):
        return Bounds(low=Decimal(-INT32 - 1), high=Decimal(INT32))
    return Bounds()


def _number(value: Decimal | int) -> str:
    return format(Decimal(value).normalize(), "f") if value else "0"


def decimals(value: Decimal) -> int:
    """Decimal places that matter (1.500 has one), without rounding to the context's precision."""
    _sign, digits, exponent = value.as_tuple()
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing)) if any(digits) else 0


def check(value: object, bounds: Bounds) -> str | None:
    """Why ``value`` (already converted to its stored type) is out of bounds; None when it fits."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _check_text(value, bounds)
    if isinstance(value, (int, Decimal)):
        return _check_number(value, bounds)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return "不能带时区，请填写当地时间"
        return _check_date(value.date())
    if isinstance(value, dt.date):
        return _check_date(value)
    return None


def _check_text(value: str, bounds: Bounds) -> str | None:
    if _CONTROL.search(value):
        return "含有不可见的控制字符（如 NUL），请删去"
    if bounds.max_length is not None and len(value) > bounds.max_length:
        return f"最多 {bounds.max_length} 个字符，现在是 {len(value)} 个"
    return None


def _check_number(value: int | Decimal, bounds: Bounds) -> str | None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "应为数字"
        # Past 10^30 the range message would print a 400-digit number.
        if value.adjusted() > 30:
            return "数值过大" if value > 0 else "数值过小"
        if bounds.scale is not None and decimals(value) > bounds.scale:
            return f"最多 {bounds.scale} 位小数" if bounds.scale else "应为整数"
    low, high = bounds.low, bounds.high
    if low is not None and value < low:
        return f"不能小于 {_number(low)}"
    if high is not None and value > high:
        return f"不能大于 {_number(high)}"
    return None


def _check_date(value: dt.date) -> str | None:
    if not DATE_MIN <= value <= DATE_MAX:
        return f"应在 {DATE_MIN.year} 年至 {DATE_MAX.year} 年之间（现在是 {value.year:04d} 年）"
    return None


# ---------------------------------------------------------------- codes


def upper_code(value: str) -> str:
    """A code read as typed by hand: full-width letters and digits folded,
    spaces dropped, letters upper-cased (91110108mA01 → 91110108MA01)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()
