"""Enterprise settings kept in the database, declared once with their defaults.

Changing a setting is a write like any other: the audit log keeps the old
and new value (R5.1: changes to what is recorded are themselves recorded).
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationError, FieldError
from app.models import Setting

from . import users

DEFAULTS: dict[str, object] = {
    # GB/T 9705 / DA/T 13: higher levels on the left, joined by "-".
    "archive_no_pattern": "{全宗号}-{年度}-{保管期限}-{案卷号:03d}",
    # 保管期限 per archive kind: Y (永久), D30, D10.
    "retention_codes": {"product": "D10", "commodity": "D10", "warning": "D30", "safety": "D10"},
    # Relative tolerance of a batch mass balance before it is flagged.
    "mass_balance_tolerance": "0.01",
    # Printing (app/reports): the CJK TrueType font file ("" = found on the
    # system; "path#N" picks face N of a .ttc), and the GS1 Digital Link
    # resolver of the batch label's QR code.
    "report_font": "",
    "digital_link_resolver": "https://id.gs1.org",
}

LABELS = {
    "archive_no_pattern": "档号规则",
    "retention_codes": "保管期限",
    "mass_balance_tolerance": "物料平衡允许偏差",
    "report_font": "打印字体",
    "digital_link_resolver": "GS1 数字链接解析地址",
}

PATTERN_TOKENS = ("全宗号", "年度", "保管期限", "类别", "案卷号")


def get(session: Session, key: str):
    row = session.scalar(select(Setting).where(Setting.key == key))
    return json.loads(row.value) if row else DEFAULTS[key]


def put(session: Session, key: str, value) -> None:
    users.require(session, "configure")
    if key not in DEFAULTS:
        raise KeyError(key)
    if key == "archive_no_pattern":
        check_archive_pattern(value)
    row = session.scalar(select(Setting).where(Setting.key == key))
    encoded = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if row is None:
        session.add(Setting(key=key, value=encoded))
    elif row.value != encoded:
        row.value = encoded
    session.flush()


def check_archive_pattern(pattern: str) -> None:
    label = LABELS["archive_no_pattern"]
    sample = {token: "X" for token in PATTERN_TOKENS} | {"案卷号": 1}
    try:
        pattern.format_map(sample)
    except (KeyError, ValueError, IndexError) as exc:
        raise ValidationError(
            FieldError("archive_no_pattern", label, f"「{label}」只能使用 {{{'}、{'.join(PATTERN_TOKENS)}}}：{exc}")
        ) from None
    if "{案卷号" not in pattern:
        raise ValidationError(FieldError("archive_no_pattern", label, f"「{label}」必须包含 {{案卷号}}，否则档号不唯一"))
