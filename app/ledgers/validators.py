"""Field validators: each returns None when the value is fine, else a Chinese
reason (without the field label; the caller puts the label in front).

Check characters come from python-stdnum, never from hand-written arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from stdnum import ean
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

Validator = Callable[[object], "str | None"]


def credit_code(value: object) -> str | None:
    """统一社会信用代码 (GB 32100): 18 characters with a mod-31 check character."""
    try:
        uscc.validate(str(value))
    except InvalidLength:
        return "应为 18 位"
    except InvalidChecksum:
        return "校验位不正确，请核对"
    except (InvalidFormat, InvalidComponent):
        return "含有不允许的字符（只能是数字和除 I、O、Z、S、V 外的大写字母）"
    except ValidationError:
        return "格式不正确"
    return None


# SC + 3-digit food category + 6-digit region + 4-digit sequence + 1 check digit.
# The check digit's algorithm is not published in any source we have and is
# not in python-stdnum, so only the layout is checked, not the digit itself.
_FOOD_LICENCE = re.compile(r"^SC\d{14}$")


def food_licence(value: object) -> str | None:
    if not _FOOD_LICENCE.match(str(value)):
        return "应为 SC 加 14 位数字"
    return None


def gtin(value: object) -> str | None:
    """GTIN-8/12/13/14 with its mod-10 check digit."""
    text = str(value)
    if len(text) not in (8, 12, 13, 14) or not text.isdigit():
        return "应为 8、12、13 或 14 位数字"
    try:
        ean.validate(text)
    except InvalidChecksum:
        return "校验位不正确，请核对"
    except ValidationError:
        return "格式不正确"
    return None


def not_negative(value: object) -> str | None:
    if value is not None and Decimal(str(value)) < 0:
        return "不能为负数"
    return None


def score(value: object) -> str | None:
    """An evaluation score out of 100."""
    if value is not None and not 0 <= Decimal(str(value)) <= 100:
        return "应在 0 与 100 之间"
    return None


def positive(value: object) -> str | None:
    if value is not None and Decimal(str(value)) <= 0:
        return "必须大于 0"
    return None


def phone(value: object) -> str | None:
    if not re.fullmatch(r"[0-9+\-() 转]{5,30}", str(value)):
        return "只能包含数字、空格和 + - ( )"
    return None
