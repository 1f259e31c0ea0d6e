"""Platform credentials, kept only in the operating system's keyring (R6.2).

Never in the database, a settings file or a log line. Which keyring is used
is keyring's own choice, which the environment can override
(``PYTHON_KEYRING_BACKEND``): tests and CI point it at a test backend.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import keyring
import keyring.errors

from app.errors import UserError

log = logging.getLogger("upload")

SERVICE = "FoodArchive traceability platform"


class NoKeyring(UserError):
    """This system has no keyring the program can use."""


@dataclass(frozen=True)
class Credentials:
    key: str
    secret: str

    def __repr__(self) -> str:  # never printed, not even in a traceback
        return f"Credentials(key={self.key!r}, secret=***)"


def _backend():
    backend = keyring.get_keyring()
    priority = getattr(backend, "priority", 0)
    name = type(backend).__module__ + "." + type(backend).__name__
    if name.startswith(("keyring.backends.fail", "keyring.backends.null")) or priority <= 0:
        raise NoKeyring(
            "此系统没有可用的密钥环（keyring），无法安全保存平台账号和密钥；"
            "请在 Windows 凭据管理器、macOS 钥匙串或 Linux Secret Service（如 GNOME Keyring、KWallet）可用的账户下运行。"
        )
    return backend


def keyring_name() -> str:
    """Which keyring is in use, for the settings page; raises NoKeyring."""
    backend = _backend()
    return getattr(backend, "name", type(backend).__name__)


def store(profile_name: str, key: str, secret: str) -> None:
    key, secret = (key or "").strip(), (secret or "").strip()
    if not secret:
        raise UserError("「密钥」不能为空")
    backend = _backend()
    try:
        backend.set_password(SERVICE, profile_name, json.dumps({"key": key, "secret": secret}))
    except keyring.errors.KeyringError as exc:
        raise NoKeyring(f"无法写入密钥环：{type(exc).__name__}") from None
    log.info("platform credentials stored in the keyring for profile %s", profile_name)


def load(profile_name: str) -> Credentials | None:
    backend = _backend()
    try:
        stored = backend.get_password(SERVICE, profile_name)
    except keyring.errors.KeyringError as exc:
        raise NoKeyring(f"无法读取密钥环：{type(exc).__name__}") from None
    if not stored:
        return None
    data = json.loads(stored)
    return Credentials(data.get("key", ""), data["secret"])


def forget(profile_name: str) -> None:
    try:
        _backend().delete_password(SERVICE, profile_name)
    except keyring.errors.PasswordDeleteError:
        pass
