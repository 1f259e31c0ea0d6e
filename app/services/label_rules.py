"""The label compliance check that goes with the release inspection (G§40):
what a prepackaged food's label must show, by the edition of GB 7718 in
force on the day of the check (standards.md: GB 7718-2025 applies from
2027-03-16 and adds the expiry date, allergens and the ban on "零添加")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

GB7718_2025_FROM = dt.date(2027, 3, 16)
_2011 = (
    "食品名称", "配料表", "净含量和规格", "生产者名称、地址和联系方式", "生产日期和保质期", "贮存条件",
    "食品生产许可证编号", "产品标准代号", "生产日期、批号与本批一致",
)
_2025 = (*_2011[:5], "保质期到期日期", "贮存条件", "食品生产许可证编号", "产品标准代号", "致敏物质提示",
         "无“零添加”“不添加”等声称", "生产日期、批号与本批一致")


@dataclass(frozen=True)
class LabelRules:
    standard: str
    items: tuple[str, ...]


def rules_for(day: dt.date) -> LabelRules:
    if day >= GB7718_2025_FROM:
        return LabelRules("GB 7718-2025", _2025)
    return LabelRules("GB 7718-2011", _2011)


def verdict(rules: LabelRules, checked: Mapping[str, bool], notes: str | None = None) -> tuple[bool, str]:
    """Whether the label passed, and the note the report keeps: what was
    checked against which edition, and what did not conform."""
    failing = [item for item in rules.items if not checked.get(item)]
    text = f"依据 {rules.standard} 查验 {len(rules.items)} 项："
    text += "均符合" if not failing else "不符合：" + "、".join(failing)
    if notes and notes.strip():
        text += "；" + notes.strip()
    return not failing, text
