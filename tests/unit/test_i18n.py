"""Simplified Chinese is complete: every message id the code passes to tr()
or lazy() has a Chinese translation."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from app import i18n

ROOT = Path(__file__).resolve().parents[2]


def message_ids(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("tr", "lazy")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def all_message_ids() -> set[str]:
    return set().union(*(message_ids(p.read_text(encoding="utf-8")) for p in (ROOT / "app").rglob("*.py")))


def test_chinese_catalogue_is_complete():
    catalogue = i18n.catalogue("zh_CN")
    missing = sorted(all_message_ids() - catalogue.keys())
    assert missing == [], f"missing from resources/translations/zh_CN/*.json: {missing}"


def test_no_stale_entries():
    catalogue = i18n.catalogue("zh_CN")
    assert sorted(catalogue.keys() - all_message_ids()) == []


def test_no_message_translated_twice():
    seen: dict[str, str] = {}
    for part in sorted((ROOT / "resources/translations/zh_CN").glob("*.json")):
        for message in json.loads(part.read_text(encoding="utf-8")):
            assert message not in seen, f"{message!r} in both {seen.get(message)} and {part.name}"
            seen[message] = part.name


def test_placeholders_survive_translation():
    for message, text in i18n.catalogue("zh_CN").items():
        assert sorted(_fields(message)) == sorted(_fields(text)), message


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_scanner_finds_calls():
    assert message_ids("tr('Save')\nlazy(\"Open\")\nother('x')\ntr(name)") == {"Save", "Open"}


def test_switching_language():
    try:
        i18n.set_language("en")
        assert i18n.tr("Trace") == "Trace"
        i18n.set_language("zh_CN")
        assert i18n.tr("Trace") != "Trace"
        assert str(i18n.lazy("Trace")) == i18n.tr("Trace")
    finally:
        i18n.set_language("zh_CN")
