"""The HTTP client for the platform (httpx), driven by a profile.

``send`` posts one batch and reads the receipt per record; ``check`` tests
the connection and says exactly what is wrong. Transport failures and
answers that are not a receipt become ``Transient`` (retry later) or
``Refused`` (credentials, profile: retrying will not help until someone fixes it).
Credentials never reach a log line: httpx logs the URL, not the headers.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field

import httpx

from .credentials import Credentials
from .profile import Profile

log = logging.getLogger("upload")


class Transient(Exception):
    """The batch did not get through; the same records go again later."""


class Refused(Exception):
    """The platform refuses the connection itself (credentials, clock, profile)."""


@dataclass
class Outcome:
    acknowledged: dict[str, tuple[str | None, dict]] = field(default_factory=dict)  # key -> (receipt id, receipt)
    rejected: dict[str, tuple[str, dict]] = field(default_factory=dict)  # key -> (reason, receipt)
    # Keys the receipt did not settle (absent, or a status that is neither): sent again later.
    unsettled: set[str] = field(default_factory=set)


def signature(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over method, path, timestamp and the body's SHA-256 (docs/platform.md)."""
    message = "\n".join([method.upper(), path, timestamp, hashlib.sha256(body).hexdigest()]).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def auth_headers(profile: Profile, credentials: Credentials | None, method: str, path: str, body: bytes) -> dict:
    auth = profile.auth
    if auth["scheme"] == "none":
        return {}
    if credentials is None:
        raise Refused("没有保存平台账号和密钥：请在「设置 → 平台上传」或用 foodarchive platform-login 输入")
    if auth["scheme"] == "token":
        return {auth["header"]: auth.get("prefix", "") + credentials.secret}
    timestamp = str(int(dt.datetime.now(dt.timezone.utc).timestamp()))
    return {
        auth["key_header"]: credentials.key,
        auth["timestamp_header"]: timestamp,
        auth["signature_header"]: signature(credentials.secret, method, path, timestamp, body),
    }


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
        if isinstance(data, dict):
            return str(data.get("error") or data.get("message") or data)[:300]
    except ValueError:
        pass
    return response.text[:300]


class Client:
    def __init__(self, base_url: str, profile: Profile, credentials: Credentials | None, *, timeout: float | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.credentials = credentials
        self.http = httpx.Client(timeout=timeout or profile.timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _request(self, method: str, endpoint: str, body: bytes = b"") -> httpx.Response:
        path = self.profile.endpoint(endpoint)
        headers = {"Content-Type": "application/json"} | auth_headers(self.profile, self.credentials, method, path, body)
        try:
            return self.http.request(method, self.base_url + path, content=body or None, headers=headers)
        except httpx.TimeoutException:
            raise Transient(f"平台在 {self.profile.timeout:g} 秒内没有应答（超时）") from None
        except httpx.TransportError as exc:
            raise Transient(f"无法连接平台 {self.base_url}：{type(exc).__name__}") from None

    # ------------------------------------------------------------------ send

    def send(self, records: list[tuple[str, str, dict]]) -> Outcome:
        """Post (key, kind, platform fields) records as one batch; the receipt per key."""
        envelope = self.profile.envelope
        body = json.dumps({envelope["records"]: [
            {envelope["key"]: key, envelope["type"]: self.profile.message(kind).type, envelope["data"]: data}
            for key, kind, data in records
        ]}, ensure_ascii=False, separators=(",", ":")).encode()
        response = self._request("POST", "submit", body)
        status = response.status_code
        if status in (401, 403):
            raise Refused(f"平台拒绝了账号或签名（HTTP {status}）：{_error_text(response)}")
        if status in (408, 425, 429) or status >= 500:
            raise Transient(f"平台暂时不能接收（HTTP {status}）")
        if status >= 400:
            raise Refused(f"平台不接受这种报文（HTTP {status}，配置文件与平台接口不符？）：{_error_text(response)}")
        try:
            results = response.json()[self.profile.receipt["results"]]
            if not isinstance(results, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise Transient(f"平台的应答不是回执（HTTP {status}）：{response.text[:200]}") from None
        return self._read_receipt(results, {key for key, _kind, _data in records})

    def _read_receipt(self, results: list, sent: set[str]) -> Outcome:
        spec = self.profile.receipt
        outcome = Outcome()
        for item in results:
            if not isinstance(item, dict):
                continue
            key = item.get(spec["key"])
            if key not in sent or key in outcome.acknowledged or key in outcome.rejected:
                continue  # not ours in this batch, or a repeated acknowledgement: read once
            state = item.get(spec["status"])
            if state in spec["accepted"]:
                receipt_id = item.get(spec.get("receipt_id", ""))
                outcome.acknowledged[key] = (None if receipt_id is None else str(receipt_id), item)
            elif state in spec["rejected"]:
                outcome.rejected[key] = (str(item.get(spec["reason"]) or "平台未说明原因"), item)
        outcome.unsettled = sent - set(outcome.acknowledged) - set(outcome.rejected)
        return outcome

    # ----------------------------------------------------------------- check

    def check(self) -> list[str]:
        """Problems with the connection, in plain Chinese; empty when all is well."""
        try:
            response = self._request("GET", "check")
        except Transient as exc:
            return [str(exc).replace("（超时）", "（超时：地址不对、网络不通或平台过载）")]
        except Refused as exc:
            return [str(exc)]
        problems = []
        if response.status_code in (401, 403):
            text = _error_text(response)
            if "clock" in text.lower() or "skew" in text.lower() or "时间" in text:
                problems.append(f"平台认为本机时钟不准（HTTP {response.status_code}：{text}）：请校准电脑时间")
            else:
                problems.append(f"账号或密钥不对（HTTP {response.status_code}：{text}）")
            return problems
        if response.status_code == 404:
            return [f"平台上没有配置文件所写的检查地址 {self.profile.endpoint('check')}（配置文件与平台接口不符）"]
        if response.status_code >= 400:
            return [f"平台回答 HTTP {response.status_code}：{_error_text(response)}"]
        data = {}
        try:
            data = response.json()
        except ValueError:
            problems.append("平台的检查应答不是 JSON（配置文件与平台接口不符？）")
        check = self.profile.check
        server_time = _server_time(data.get(check.get("server_time", "")) if isinstance(data, dict) else None,
                                   response.headers.get("Date"))
        if server_time is not None:
            skew = abs((dt.datetime.now(dt.timezone.utc) - server_time).total_seconds())
            limit = self.profile.auth.get("max_skew_seconds", 300)
            if skew > limit:
                problems.append(f"本机时钟与平台相差 {skew:.0f} 秒（允许 {limit} 秒）：请校准电脑时间")
        expected = check.get("profile")
        if expected and isinstance(data, dict) and data.get(expected) not in (None, self.profile.name):
            problems.append(f"平台使用的接口配置是「{data.get(expected)}」，本机配置文件是「{self.profile.name}」：配置文件与平台不符")
        return problems


def _server_time(value, date_header: str | None) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
        except ValueError:
            pass
    if date_header:
        try:
            return email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            return None
    return None
