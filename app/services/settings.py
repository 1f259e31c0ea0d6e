"""Enterprise settings kept in the database, each declared once.

A declaration gives a setting's name, Chinese label, kind, default, the
check its value must pass and a line of help; ``get`` and ``put``, the
settings page of the window (app/ui/settings_page.py) and the documentation
all read it. Changing a setting is a write like any other: the audit log
keeps the old and new value, who, when and — from the settings page — why
(R5.1, S§4: changes to what is recorded are themselves recorded).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationError, FieldError
from app.models import Setting
from app.models.choices import ARCHIVE_KIND, RETENTION

from . import users

# Kinds the settings page knows how to edit.
KINDS = ("text", "int", "bool", "choice", "decimal", "folder", "file", "retention", "recall_levels")


@dataclass(frozen=True)
class Declared:
    key: str
    label: str
    kind: str
    default: object
    group: str
    help: str = ""
    # The value to store, or a ValidationError naming the setting.
    check: Callable[[str, object], object] | None = None
    choices: dict[str, str] = field(default_factory=dict)
    minimum: int | None = None
    maximum: int | None = None


def _bad(key: str, message: str) -> ValidationError:
    label = SETTINGS[key].label
    return ValidationError(FieldError(key, label, f"「{label}」{message}"))


def _whole(key: str, value) -> int:
    declared = SETTINGS[key]
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise _bad(key, "应为整数") from None
    if not declared.minimum <= number <= declared.maximum:
        raise _bad(key, f"应在 {declared.minimum} 与 {declared.maximum} 之间")
    return number


def _choice(key: str, value) -> str:
    if value not in SETTINGS[key].choices:
        raise _bad(key, "应为以下之一：" + "、".join(SETTINGS[key].choices.values()))
    return value


def _flag(_key: str, value) -> bool:
    return bool(value)


def _fraction(key: str, value) -> str:
    from decimal import Decimal, InvalidOperation

    text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _bad(key, "应为小数，例如 0.01（即 1%）") from None
    if not number.is_finite() or not 0 <= number <= 1:
        raise _bad(key, "应在 0 与 1 之间，例如 0.01（即 1%）")
    return text


def _folder(key: str, value) -> str:
    text = str(value or "").strip()
    if text and Path(text).expanduser().exists() and not Path(text).expanduser().is_dir():
        raise _bad(key, f"「{text}」是一个文件，不是文件夹")
    return text


def _font(key: str, value) -> str:
    text = str(value or "").strip()
    path = text.rsplit("#", 1)[0] if "#" in text else text
    if text and not Path(path).expanduser().is_file():
        raise _bad(key, f"找不到字体文件「{path}」；留空则自动使用系统中的中文字体")
    return text


# The archives' own vocabulary: a retention setting per archive kind.
RETENTION_KINDS = ARCHIVE_KIND


def _retention(key: str, value) -> dict:
    if not isinstance(value, dict) or set(value) != set(RETENTION_KINDS):
        raise _bad(key, "应为每类档案（" + "、".join(RETENTION_KINDS.values()) + "）各选一个保管期限")
    for kind, code in value.items():
        if code not in RETENTION:
            raise _bad(key, f"中{RETENTION_KINDS[kind]}的保管期限应为以下之一：" + "、".join(RETENTION.values()))
    return dict(value)


def _pattern(key: str, value) -> str:
    check_archive_pattern(value)
    return value


def _platform(key: str, value):
    return check_platform_setting(key, value)


def _uri(key: str, value):
    return check_uri_setting(key, value)


def _attachment(key: str, value):
    return check_attachment_limit(value)


ARCHIVES, PRINTING, CODES, UPLOAD, BACKUP, ALERTS, RECORDS = (
    "档案", "打印与签名", "追溯码", "平台上传", "备份", "提醒", "记录")

DECLARATIONS: tuple[Declared, ...] = (
    # GB/T 9705 / DA/T 13: higher levels on the left, joined by "-".
    Declared("archive_no_pattern", "档号规则", "text", "{全宗号}-{年度}-{保管期限}-{案卷号:03d}", ARCHIVES,
             "可用 {全宗号}、{年度}、{保管期限}、{类别}、{案卷号}；必须含 {案卷号}，如 {案卷号:03d} 补足三位", _pattern),
    Declared("retention_codes", "保管期限", "retention",
             {"product": "D10", "commodity": "D10", "warning": "D30", "safety": "D10"}, ARCHIVES,
             "每类档案的保管期限（永久、定期30年、定期10年）；只影响此后新建的档案", _retention),
    Declared("mass_balance_tolerance", "物料平衡允许偏差", "decimal", "0.01", RECORDS,
             "批次投入与产出相差超过这个比例时标出，例如 0.01 即 1%", _fraction),
    Declared("attachment_max_mb", "附件大小上限（MB）", "int", 20, RECORDS,
             "每台电脑都通过网络读取附件：扫描件一般只有几 MB", _attachment, minimum=1, maximum=200),
    # Printing (app/reports): "" = found on the system; "path#N" picks face N of a .ttc.
    Declared("report_font", "打印字体", "file", "", PRINTING,
             "中文 TrueType 字体文件（.ttf/.ttc，.ttc 可写 路径#序号）；留空则自动使用系统中的中文字体", _font),
    # How records are signed: in the program, or in ink on the printed volume,
    # which then prints a blank line for each required signature and lists
    # none as missing (issue 16).
    Declared("signature_mode", "签名方式", "choice", "电子签名", PRINTING,
             "电子签名：在程序中签名，打印时带签名图像；纸质签名：打印后在纸上手签", lambda _k, v: check_signature_mode(v),
             choices={"电子签名": "电子签名", "纸质签名": "纸质签名"}),
    # 食品召回管理办法 art. 19–20: per level, hours to notify every customer
    # and working days to finish the recall (the factory may set its own).
    Declared("recall_levels", "召回级别与期限", "recall_levels",
             {"一级": [24, 10], "二级": [48, 20], "三级": [72, 30]}, RECORDS,
             "每级召回通知全部客户的时限（小时）和完成召回的时限（工作日）", lambda _k, v: check_recall_levels(v)),
    Declared("digital_link_resolver", "GS1 数字链接解析地址", "text", "https://id.gs1.org", CODES,
             "批次标签二维码指向的网站地址（export-pages 生成的批次网页发布在这里）", _uri),
    # EPCIS export (app/reports/epcis_ids.py); "" = a placeholder made from our credit code.
    Declared("epcis_id_base", "EPCIS 自有标识前缀", "text", "", CODES,
             "没有 GS1 编码的批次、单位和地点的标识前缀；留空则用统一社会信用代码生成", _uri),
    # R6: upload to the traceability platform. No address: no upload.
    Declared("platform_url", "平台地址", "text", "", UPLOAD, "留空则不上传", _platform),
    Declared("platform_profile", "平台接口配置", "text", "default", UPLOAD,
             "resources/platform/ 中的配置名，或配置文件的路径", _platform),
    Declared("upload_interval_minutes", "上传间隔（分钟）", "int", 15, UPLOAD, "", _platform, minimum=1, maximum=1440),
    Declared("upload_daily_hour", "每日上传时刻", "int", None, UPLOAD, "0–23；留空则不另行每日上传",
             _platform, minimum=0, maximum=23),
    Declared("upload_on_finalise", "记录完成后立即上传", "bool", True, UPLOAD, "", _platform),
    # Decree 33 art. 12: changes reach the platform within 2 days.
    Declared("upload_alert_hours", "未上传提醒（小时）", "int", 48, ALERTS,
             "记录完成后超过这么久仍未被平台接收时提醒", _platform, minimum=1, maximum=720),
    # R5.3 backups (app/services/backup.py).
    Declared("backup_folder", "备份文件夹", "folder", "", BACKUP, "留空则为数据目录下的 backups 文件夹", _folder),
    Declared("backup_second_folder", "第二备份文件夹", "folder", "", BACKUP,
             "U 盘或网络共享上的文件夹，每份备份再复制一份到这里；留空则不复制", _folder),
    Declared("backup_interval_hours", "自动备份间隔（小时）", "int", 24, BACKUP,
             "程序运行时，距上次成功备份超过这么久就自动备份", _whole, minimum=1, maximum=168),
    Declared("backup_keep_daily", "保留每日备份（份）", "int", 7, BACKUP, "最近几天每天保留最新的一份", _whole,
             minimum=1, maximum=366),
    Declared("backup_keep_weekly", "保留每周备份（份）", "int", 4, BACKUP, "最近几周每周保留最新的一份", _whole,
             minimum=0, maximum=520),
    Declared("backup_keep_monthly", "保留每月备份（份）", "int", 12, BACKUP, "最近几个月每月保留最新的一份", _whole,
             minimum=0, maximum=1200),
    Declared("backup_alert_days", "备份过期提醒（天）", "int", 2, ALERTS,
             "最近一次通过校验的备份早于这么多天时，首页提醒", _whole, minimum=1, maximum=90),
)

SETTINGS: dict[str, Declared] = {d.key: d for d in DECLARATIONS}
DEFAULTS: dict[str, object] = {d.key: d.default for d in DECLARATIONS}
LABELS: dict[str, str] = {d.key: d.label for d in DECLARATIONS}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(d.group for d in DECLARATIONS))


def get(session: Session, key: str):
    row = session.scalar(select(Setting).where(Setting.key == key))
    return json.loads(row.value) if row else DEFAULTS[key]


def clean(key: str, value):
    """The value ``put`` would store, or a ValidationError naming the setting."""
    if key not in SETTINGS:
        raise KeyError(key)
    declared = SETTINGS[key]
    return declared.check(key, value) if declared.check else value


def put(session: Session, key: str, value, reason: str | None = None) -> bool:
    """Store a setting; ``reason`` goes into the audit log with the change.
    Returns whether the stored value changed."""
    users.require(session, "configure")
    value = clean(key, value)
    row = session.scalar(select(Setting).where(Setting.key == key))
    encoded = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if row is not None and row.value == encoded:
        return False
    if row is None:
        session.add(Setting(key=key, value=encoded))
    else:
        row.value = encoded
    before = session.info.get("reason")
    if reason:
        session.info["reason"] = reason.strip()
    try:
        session.flush()
    finally:
        if reason:
            if before is None:
                session.info.pop("reason", None)
            else:
                session.info["reason"] = before
    return True


SIGNATURE_MODES = tuple(SETTINGS["signature_mode"].choices)


def check_signature_mode(value) -> str:
    label = LABELS["signature_mode"]
    value = (value or "").strip() if isinstance(value, str) else value
    if value not in SIGNATURE_MODES:
        raise ValidationError(FieldError("signature_mode", label, f"「{label}」应为{'或'.join(SIGNATURE_MODES)}"))
    return value


def paper_signatures(session: Session) -> bool:
    """Records are signed in ink on the printed volume."""
    return get(session, "signature_mode") == "纸质签名"


def check_recall_levels(value) -> dict[str, list[int]]:
    """Each level: [hours to notify, working days to finish], both whole and positive."""
    label = LABELS["recall_levels"]
    checked: dict[str, list[int]] = {}
    for level, pair in (value or {}).items() if isinstance(value, dict) else ():
        try:
            hours, days = (int(part) for part in pair)
        except (TypeError, ValueError):
            hours = days = 0
        if not str(level).strip() or hours <= 0 or days <= 0:
            raise ValidationError(FieldError("recall_levels", label,
                                             f"「{label}」中「{level}」的通知时限（小时）和完成时限（工作日）必须是正整数"))
        checked[str(level).strip()] = [hours, days]
    if not checked:
        raise ValidationError(FieldError("recall_levels", label, f"「{label}」至少要有一个级别"))
    return checked



PATTERN_TOKENS = ("全宗号", "年度", "保管期限", "类别", "案卷号")


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


URI_KEYS = ("digital_link_resolver", "epcis_id_base")


def check_uri_setting(key: str, value) -> str:
    """An absolute http(s) address without query or fragment ("" keeps the default
    of ``epcis_id_base``): QR codes, batch pages and EPCIS identifiers are made from it."""
    from urllib.parse import urlsplit

    label = LABELS[key]
    value = (value or "").strip().rstrip("/")
    if not value and key == "epcis_id_base":
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment \
            or any(ch.isspace() for ch in value) or not value.isascii():
        raise ValidationError(FieldError(key, label, f"「{label}」应为 https:// 开头、不含空格、? 和 # 的网址，例如 https://trace.example.cn"))
    return value


ATTACHMENT_MAX_MB = 200  # a database row, read whole into memory on every PC


def check_attachment_limit(value) -> int:
    label = LABELS["attachment_max_mb"]
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(FieldError("attachment_max_mb", label, f"「{label}」应为整数")) from None
    if not 1 <= number <= ATTACHMENT_MAX_MB:
        raise ValidationError(
            FieldError("attachment_max_mb", label, f"「{label}」应在 1 与 {ATTACHMENT_MAX_MB} 之间"))
    return number


PLATFORM_KEYS = ("platform_url", "platform_profile", "upload_interval_minutes", "upload_daily_hour",
                 "upload_on_finalise", "upload_alert_hours")


def check_platform_setting(key: str, value):
    """The value to store, or a ValidationError naming the setting."""
    label = LABELS[key]

    def bad(message: str) -> ValidationError:
        return ValidationError(FieldError(key, label, f"「{label}」{message}"))

    if key == "platform_url":
        value = (value or "").strip()
        if value and not value.startswith(("http://", "https://")):
            raise bad("应以 https:// 或 http:// 开头")
        return value
    if key == "platform_profile":
        from app.platform import profile

        profile.load(value)  # a ProfileError says what is wrong with it
        return value
    if key == "upload_on_finalise":
        return bool(value)
    if key == "upload_daily_hour" and value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad("应为整数") from None
    limits = {"upload_interval_minutes": (1, 1440), "upload_daily_hour": (0, 23), "upload_alert_hours": (1, 720)}[key]
    if not limits[0] <= number <= limits[1]:
        raise bad(f"应在 {limits[0]} 与 {limits[1]} 之间")
    return number
