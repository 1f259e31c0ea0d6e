"""The translation layer: every string the user sees passes through ``tr``.

Message ids are English; the JSON files in ``resources/translations/zh_CN/``
(one per area of the application) map each to Simplified Chinese, the default and complete language (a test fails on any
id missing from it). English is the ids themselves. Ledger labels, which the
declarations already give in Chinese, and service messages are Chinese at
the source.
"""

from __future__ import annotations

import json
import logging
from importlib import resources

log = logging.getLogger("i18n")

LANGUAGES = {"zh_CN": "简体中文", "en": "English"}
DEFAULT = "zh_CN"

_catalogue: dict[str, str] = {}
_language = DEFAULT


def catalogue(language: str) -> dict[str, str]:
    if language == "en":
        return {}
    merged: dict[str, str] = {}
    folder = resources.files("app.resources") / "translations" / language
    for part in sorted(folder.iterdir(), key=lambda p: p.name):
        if part.name.endswith(".json"):
            merged.update(json.loads(part.read_text(encoding="utf-8")))
    return merged


def set_language(language: str) -> None:
    global _catalogue, _language
    if language not in LANGUAGES:
        log.warning("unknown language %s, using %s", language, DEFAULT)
        language = DEFAULT
    _catalogue, _language = catalogue(language), language


def language() -> str:
    return _language


def tr(message: str, **values) -> str:
    text = _catalogue.get(message, message)
    return text.format(**values) if values else text


class Lazy:
    """A module-level string translated when it is used, not when defined:
    pass ``str(lazy_text)`` to Qt."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message

    def __str__(self) -> str:
        return tr(self.message)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def lazy(message: str) -> Lazy:
    return Lazy(message)


set_language(DEFAULT)
