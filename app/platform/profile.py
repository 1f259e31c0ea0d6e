"""Platform profiles: everything about the platform's interface is data.

A profile (JSON, in ``resources/platform/`` or any file the settings name)
gives the endpoint paths, the message types, the mapping from our data
elements (``elements.ELEMENTS``) to the platform's field names, date formats,
batch size, the authentication scheme and how to read a receipt. It is
validated on load; every error names the file and the place in it.
docs/platform.md describes the format.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from app.errors import UserError

from .elements import DATE_ELEMENTS, ELEMENTS, KINDS

DEFAULT = "default"
AUTH_SCHEMES = ("hmac-sha256", "token", "none")
_TOP = {
    "format", "name", "title", "notice", "endpoints", "auth", "batch_size", "timeout_seconds", "retry",
    "date_format", "datetime_format", "omit_empty", "envelope", "receipt", "check", "package", "messages",
}


class ProfileError(UserError):
    """A profile file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Message:
    kind: str
    type: str
    fields: dict[str, str]  # our element -> platform field
    required: tuple[str, ...]  # platform fields the platform insists on


@dataclass(frozen=True)
class Profile:
    source: str  # file name or path, for messages
    data: dict

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def title(self) -> str:
        return self.data.get("title", self.name)

    @property
    def batch_size(self) -> int:
        return self.data["batch_size"]

    @property
    def timeout(self) -> float:
        return float(self.data["timeout_seconds"])

    @property
    def auth(self) -> dict:
        return self.data["auth"]

    @property
    def retry(self) -> dict:
        return {"base_seconds": 30, "max_seconds": 3600, "lease_seconds": 120} | self.data.get("retry", {})

    def endpoint(self, name: str) -> str:
        return self.data["endpoints"][name]

    @property
    def envelope(self) -> dict:
        return self.data["envelope"]

    @property
    def receipt(self) -> dict:
        return self.data["receipt"]

    @property
    def check(self) -> dict:
        return self.data.get("check", {})

    @property
    def package(self) -> dict:
        return {"encoding": "utf-8-sig", "file_name": "{type}.csv"} | self.data.get("package", {})

    def message(self, kind: str) -> Message | None:
        spec = self.data["messages"].get(kind)
        if spec is None:
            return None
        return Message(kind, spec["type"], dict(spec["fields"]), tuple(spec.get("required", ())))

    def message_by_type(self, type_: str) -> Message | None:
        for kind in self.data["messages"]:
            if self.data["messages"][kind]["type"] == type_:
                return self.message(kind)
        return None

    def render_value(self, value: object) -> object:
        if isinstance(value, dt.datetime):
            return value.strftime(self.data["datetime_format"])
        if isinstance(value, dt.date):
            return value.strftime(self.data["date_format"])
        if isinstance(value, Decimal):
            normal = value.normalize()
            return format(normal, "f") if normal != 0 else "0"
        return value

    def render(self, kind: str, elements: dict) -> dict:
        """Our data elements (JSON-decoded payload) as the platform's fields."""
        message = self.message(kind)
        out = {}
        for element, field in message.fields.items():
            value = elements.get(element)
            if value is None or value == "":
                if self.data.get("omit_empty", True):
                    continue
                value = None
            elif element in DATE_ELEMENTS and isinstance(value, str):
                value = dt.date.fromisoformat(value).strftime(self.data["date_format"])
            out[field] = self.render_value(value)
        return out


def _fail(source: str, where: str, message: str) -> ProfileError:
    return ProfileError(f"平台配置文件「{source}」{where}：{message}")


def _need(source: str, data: dict, key: str, kind: type | tuple, where: str = ""):
    path = f"{where}.{key}" if where else key
    if key not in data:
        raise _fail(source, path, "缺少此项")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _fail(source, path, f"类型不对（应为 {_type_name(kind)}）")
    return value


def _type_name(kind) -> str:
    names = {str: "文字", int: "整数", dict: "对象", list: "列表", bool: "true/false", float: "数字"}
    if isinstance(kind, tuple):
        return "或".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def validate(source: str, data: object) -> Profile:
    if not isinstance(data, dict):
        raise _fail(source, "顶层", "应为 JSON 对象")
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise _fail(source, unknown[0], "未知的项（拼写错误？）")
    if _need(source, data, "format", int) != 1:
        raise _fail(source, "format", "只支持格式 1")
    _need(source, data, "name", str)
    endpoints = _need(source, data, "endpoints", dict)
    for name in ("submit", "check"):
        path = _need(source, endpoints, name, str, "endpoints")
        if not path.startswith("/"):
            raise _fail(source, f"endpoints.{name}", "路径应以 / 开头")
    auth = _need(source, data, "auth", dict)
    scheme = _need(source, auth, "scheme", str, "auth")
    if scheme not in AUTH_SCHEMES:
        raise _fail(source, "auth.scheme", f"不支持「{scheme}」，可用：{'、'.join(AUTH_SCHEMES)}")
    if scheme == "hmac-sha256":
        for key in ("key_header", "timestamp_header", "signature_header"):
            _need(source, auth, key, str, "auth")
        _need(source, auth, "max_skew_seconds", int, "auth")
    elif scheme == "token":
        _need(source, auth, "header", str, "auth")
    batch = _need(source, data, "batch_size", int)
    if not 1 <= batch <= 5000:
        raise _fail(source, "batch_size", "应在 1 与 5000 之间")
    timeout = _need(source, data, "timeout_seconds", (int, float))
    if timeout <= 0:
        raise _fail(source, "timeout_seconds", "应大于 0")
    retry = data.get("retry", {})
    if not isinstance(retry, dict):
        raise _fail(source, "retry", "类型不对（应为 对象）")
    for key in sorted(retry):
        if key not in ("base_seconds", "max_seconds", "lease_seconds"):
            raise _fail(source, f"retry.{key}", "未知的项（拼写错误？）")
        if not isinstance(retry[key], (int, float)) or isinstance(retry[key], bool) or retry[key] <= 0:
            raise _fail(source, f"retry.{key}", "应为大于 0 的数字")
    if retry.get("lease_seconds", 120) <= timeout:
        raise _fail(source, "retry.lease_seconds", "应大于 timeout_seconds，否则另一台电脑会在应答到达前重发")
    for key in ("date_format", "datetime_format"):
        fmt = _need(source, data, key, str)
        sample = dt.datetime(2026, 12, 31, 23, 59, 58)
        try:
            ok = dt.datetime.strptime(sample.strftime(fmt), fmt) == (sample if key == "datetime_format" else sample.replace(hour=0, minute=0, second=0))
        except ValueError:
            ok = False
        if not ok:
            raise _fail(source, key, f"「{fmt}」不是可往返的日期格式（如 %Y%m%d）")
    envelope = _need(source, data, "envelope", dict)
    for key in ("records", "key", "type", "data"):
        _need(source, envelope, key, str, "envelope")
    receipt = _need(source, data, "receipt", dict)
    for key in ("results", "key", "status", "reason"):
        _need(source, receipt, key, str, "receipt")
    for key in ("accepted", "rejected"):
        values = _need(source, receipt, key, list, "receipt")
        if not values or not all(isinstance(v, str) for v in values):
            raise _fail(source, f"receipt.{key}", "应为非空的文字列表")
    messages = _need(source, data, "messages", dict)
    if not messages:
        raise _fail(source, "messages", "至少要有一种报文")
    types = set()
    for kind, spec in messages.items():
        where = f"messages.{kind}"
        if kind not in KINDS:
            raise _fail(source, where, f"未知的报文种类，可用：{'、'.join(KINDS)}")
        if not isinstance(spec, dict):
            raise _fail(source, where, "类型不对（应为 对象）")
        type_ = _need(source, spec, "type", str, where)
        if type_ in types:
            raise _fail(source, f"{where}.type", f"报文类型「{type_}」重复")
        types.add(type_)
        fields = _need(source, spec, "fields", dict, where)
        for element, field in fields.items():
            if element not in ELEMENTS[kind]:
                raise _fail(source, f"{where}.fields.{element}", f"未知的数据元，可用：{'、'.join(ELEMENTS[kind])}")
            if not isinstance(field, str) or not field:
                raise _fail(source, f"{where}.fields.{element}", "平台字段名应为非空文字")
        if len(set(fields.values())) != len(fields):
            raise _fail(source, f"{where}.fields", "两个数据元映射到同一个平台字段")
        for field in spec.get("required", []):
            if field not in fields.values():
                raise _fail(source, f"{where}.required", f"必填字段「{field}」没有数据元映射到它")
    return Profile(source, data)


def available() -> list[str]:
    """Names of the profiles shipped in resources/platform/."""
    folder = resources.files("app.resources") / "platform"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load(name_or_path: str | None = None) -> Profile:
    """A shipped profile by name, or a profile file by path."""
    name_or_path = name_or_path or DEFAULT
    if name_or_path in available():
        source = name_or_path + ".json"
        text = (resources.files("app.resources") / "platform" / source).read_text(encoding="utf-8")
    else:
        path = Path(name_or_path).expanduser()
        source = str(path)
        if not path.is_file():
            raise ProfileError(f"找不到平台配置文件「{name_or_path}」（内置配置：{'、'.join(available())}）")
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(source, f"第 {exc.lineno} 行第 {exc.colno} 列", f"不是有效的 JSON（{exc.msg}）") from None
    return validate(source, data)
