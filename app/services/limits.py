"""Judging a test result against the limit a standard sets (R2.5, G§35–39).

A limit is either numeric — a minimum and/or a maximum in a unit (蛋白质
≥ 2.0 g/100 g, 水分 ≤ 13.0 %, 盐分 1.5～2.5 %) — or an expected text (未检出,
阴性). ``judge`` reads what an inspector types ("12.6", "12.6 %", "<10",
"1.2×10³", "未检出") and says 合格 or 不合格, or why the result cannot be
judged; an item without such a limit is judged by the inspector. Qt-free:
the entry screen shows the verdict while the result is typed, the service
decides it again when the report is saved.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PASS, FAIL = "pass", "fail"
# What a laboratory writes for "below the detection limit".
NOT_DETECTED = frozenset({"未检出", "nd", "n.d.", "notdetected", "<lod"})
# Texts that mean the same as an expected result.
SYNONYMS = {
    "未检出": NOT_DETECTED,
    "阴性": frozenset({"阴性", "-", "(-)", "negative", "neg"}),
    "阳性": frozenset({"阳性", "+", "(+)", "positive", "pos"}),
    "符合": frozenset({"符合", "合格", "符合要求", "符合标准", "正常"}),
    "正常": frozenset({"正常", "符合", "无异常"}),
}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_RESULT = re.compile(
    r"^(?P<cmp><=|>=|≤|≥|<|>)?\s*(?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:\s*(?:[×xX*]\s*10\s*\^?\s*(?P<exp>[-+]?\d+)|[eE](?P<e>[-+]?\d+)))?\s*(?P<unit>.*)$"
)


@dataclass(frozen=True)
class Limit:
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    unit: str | None = None
    expected: str | None = None

    @property
    def checkable(self) -> bool:
        """Whether the program can judge a result against it."""
        return self.minimum is not None or self.maximum is not None or bool(self.expected)

    @property
    def numeric(self) -> bool:
        return self.minimum is not None or self.maximum is not None

    def text(self) -> str:
        """The limit as a requirement reads: ≤13.0 %, 1.5～2.5 %, 未检出."""
        if self.expected:
            return self.expected
        unit = f" {self.unit}" if self.unit else ""
        if self.minimum is not None and self.maximum is not None:
            return f"{number(self.minimum)}～{number(self.maximum)}{unit}"
        if self.minimum is not None:
            return f"≥{number(self.minimum)}{unit}"
        if self.maximum is not None:
            return f"≤{number(self.maximum)}{unit}"
        return ""


def number(value: Decimal) -> str:
    """12.500000 → 12.5; 10000 → 10000 (never 1E+4)."""
    return format(value.normalize(), "f")


def problem(limit: Limit) -> str | None:
    """What is wrong with a limit as entered (Chinese), or None."""
    if limit.expected and limit.numeric:
        return "「规定结果」与数值上下限只能填写一种：文字结果（如未检出）或数值范围"
    if limit.minimum is not None and limit.maximum is not None and limit.minimum > limit.maximum:
        return f"「下限」{number(limit.minimum)} 大于「上限」{number(limit.maximum)}"
    return None


@dataclass(frozen=True)
class Reading:
    """A result read as a number: ``bound`` is "<", "≤", ">", "≥" or "" (exact)."""

    value: Decimal
    bound: str
    unit: str


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.translate(_SUPERSCRIPTS).replace("×10", "×10^"))
    return text.replace("^^", "^").strip()


def _unit_key(unit: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", unit or "")).lower()


def read(result: str) -> Reading | None:
    """The number in a typed result, or None when it is not a number."""
    match = _RESULT.match(_normal(result))
    if not match:
        return None
    try:
        value = Decimal(match["num"])
        exponent = match["exp"] or match["e"]
        if exponent is not None:
            value = value.scaleb(int(exponent))
    except (InvalidOperation, ValueError):
        return None
    bound = {"<=": "≤", ">=": "≥"}.get(match["cmp"] or "", match["cmp"] or "")
    return Reading(value, bound, match["unit"].strip())


def judge(limit: Limit, result: str | None) -> str | None:
    """PASS or FAIL for ``result`` against ``limit``; None when the limit has
    nothing to check (the inspector judges). ValueError with a Chinese reason
    (no field label) when the result cannot be judged as typed."""
    if not limit.checkable:
        return None
    text = (result or "").strip()
    if not text:
        raise ValueError("不能为空")
    if limit.expected:
        return PASS if _same_text(text, limit.expected) else FAIL
    key = _unit_key(text)
    if key in NOT_DETECTED:
        return FAIL if limit.minimum is not None else PASS
    reading = read(text)
    if reading is None:
        raise ValueError("应为数值（如 12.5、<10、1.2×10³ 或 未检出）")
    if reading.unit and limit.unit and _unit_key(reading.unit) != _unit_key(limit.unit):
        raise ValueError(f"的单位「{reading.unit}」与标准要求的单位「{limit.unit}」不一致")
    return _compare(limit, reading)


def _compare(limit: Limit, r: Reading) -> str:
    low, high, v = limit.minimum, limit.maximum, r.value
    if r.bound == "":
        below = low is not None and v < low
        above = high is not None and v > high
        return FAIL if below or above else PASS
    if r.bound in ("<", "≤"):  # the true value is at most v
        if low is not None:
            if v < low or (r.bound == "<" and v == low):
                return FAIL
            raise ValueError(f"只给出上限「{r.bound}{number(v)}」，不能判断是否达到下限 {number(low)}：请填写实测值")
        return PASS if high is None or v <= high else _undecided(r, high, "上限")
    if high is not None:  # the true value is at least v
        if v > high or (r.bound == ">" and v == high):
            return FAIL
        raise ValueError(f"只给出下限「{r.bound}{number(v)}」，不能判断是否超过上限 {number(high)}：请填写实测值")
    return PASS if low is None or v >= low else _undecided(r, low, "下限")


def _undecided(r: Reading, limit: Decimal, which: str) -> str:
    raise ValueError(f"「{r.bound}{number(r.value)}」不能判断是否符合{which} {number(limit)}：请填写实测值")


def _same_text(text: str, expected: str) -> bool:
    typed, wanted = _unit_key(text), _unit_key(expected)
    return typed == wanted or typed in SYNONYMS.get(expected.strip(), frozenset())


def explain(limit: Limit, result: str) -> str:
    """Why a failing result fails, as the screen shows it next to the item."""
    if limit.expected:
        return f"「{result}」不符合规定结果「{limit.expected}」"
    reading = read(result)
    unit = f" {limit.unit}" if limit.unit else ""
    if reading is None:  # 未检出 against a minimum
        return f"「{result}」未达到下限 {number(limit.minimum)}{unit}" if limit.minimum is not None else result
    if limit.minimum is not None and reading.value <= limit.minimum and reading.bound not in (">", "≥"):
        return f"{result} 低于下限 {number(limit.minimum)}{unit}"
    return f"{result} 超过上限 {number(limit.maximum)}{unit}" if limit.maximum is not None else result
