"""How device files are described (R2.9): the profile's column lines and a
device's limit lines, written as text a user types, parsed and checked here
so the ledger declarations (validators) and the importer
(app/services/devices.py) read them the same way."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

ENCODINGS = {"utf8": "UTF-8（国际通用）", "gbk": "GBK（中文 Excel）", "gb18030": "GB18030（国家标准）"}
DELIMITERS = {"comma": "逗号（,）", "semicolon": "分号（;）", "tab": "制表符"}
DEVICE_KINDS = {"logger": "温湿度记录仪", "instrument": "生产线或仪器"}
DELIMITER_CHARS = {"comma": ",", "semicolon": ";", "tab": "\t"}
# What a file's time may look like when the profile names no format.
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")
# A column in another unit than the device's limits: converted on import.
CONVERSIONS = {("℉", "℃"): lambda f: (f - 32) * 5 / 9, ("°F", "℃"): lambda f: (f - 32) * 5 / 9,
               ("°C", "℃"): lambda c: c}

@dataclass(frozen=True)
class Column:
    header: str
    parameter: str
    unit: str


@dataclass(frozen=True)
class Limit:
    low: Decimal | None
    high: Decimal | None
    unit: str


# ---------------------------------------------------------------- declarations as text


_COLUMN_LINE = re.compile(r"^(?P<header>[^=]+)=(?P<parameter>[^:：]+)[:：](?P<unit>.*)$")


def parse_columns(text: str) -> list[Column]:
    """"列名=参数:单位" per line (or separated by ；/;). ValueError with a Chinese reason."""
    columns = []
    for line in re.split(r"[\n；;]+", text or ""):
        if not line.strip():
            continue
        match = _COLUMN_LINE.match(line.strip())
        if not match:
            raise ValueError(f"「{line.strip()}」应写成 列名=参数:单位，例如 温度(°C)=温度:℃")
        columns.append(Column(match["header"].strip(), match["parameter"].strip(), match["unit"].strip()))
    if not columns:
        raise ValueError("至少写一列，例如 温度(°C)=温度:℃")
    return columns


_LIMIT_LINE = re.compile(r"^(?P<parameter>[^:：]+)[:：]\s*(?P<low>-?[\d.]*)\s*[~～]\s*(?P<high>-?[\d.]*)\s*(?P<unit>.*)$")


def parse_limits(text: str | None) -> dict[str, Limit]:
    """"参数:下限~上限单位" per line, e.g. 温度:0~4℃, 湿度:~75%RH."""
    limits = {}
    for line in re.split(r"[\n；;]+", text or ""):
        if not line.strip():
            continue
        match = _LIMIT_LINE.match(line.strip())
        try:
            low = Decimal(match["low"]) if match and match["low"] else None
            high = Decimal(match["high"]) if match and match["high"] else None
        except InvalidOperation:
            match = None
        if not match or (low is None and high is None):
            raise ValueError(f"「{line.strip()}」应写成 参数:下限~上限单位，例如 温度:0~4℃ 或 湿度:~75%RH")
        if low is not None and high is not None and low > high:
            raise ValueError(f"「{line.strip()}」的下限大于上限")
        limits[match["parameter"].strip()] = Limit(low, high, match["unit"].strip())
    return limits


def check_columns(value: object) -> str | None:
    """Ledger validator of ``reading_profile.columns``."""
    try:
        parse_columns(str(value))
    except ValueError as exc:
        return str(exc)
    return None


def check_limits(value: object) -> str | None:
    """Ledger validator of ``device.limits``."""
    try:
        parse_limits(str(value))
    except ValueError as exc:
        return str(exc)
    return None


def check_time_format(value: object) -> str | None:
    try:
        dt.datetime(2026, 1, 2, 3, 4, 5).strftime(str(value))
    except ValueError:
        return "不是有效的日期时间格式，例如 %Y/%m/%d %H:%M:%S"
    return None if "%" in str(value) else "应含 %Y、%m、%d 等格式符，例如 %Y/%m/%d %H:%M:%S"


