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
    # R6: upload to the traceability platform. No address: no upload.
    "platform_url": "",
    "platform_profile": "default",  # a profile in resources/platform/, or a file path
    "upload_interval_minutes": 15,
    "upload_daily_hour": None,  # also once a day at this hour (0–23), or not
    "upload_on_finalise": True,  # send as soon as a record is finalised
    "upload_alert_hours": 48,  # Decree 33 art. 12: changes reach the platform within 2 days
    # Printing (app/reports): the CJK TrueType font file ("" = found on the
    # system; "path#N" picks face N of a .ttc), and the GS1 Digital Link
    # resolver of the batch label's QR code.
    "report_font": "",
    "digital_link_resolver": "https://id.gs1.org",
    # EPCIS export (app/reports/epcis_ids.py): the base of our own URIs for
    # lots, parties and places without a GS1 key; "" = a placeholder made
    # from our credit code (docs/epcis.md).
    "epcis_id_base": "",
    # The largest file that may be attached to a record (R3.6), in MB: a
    # scanned voucher is a few MB; every PC reads attachments over the network.
    "attachment_max_mb": 20,
    # R5.3 backups (app/services/backup.py): "" = the folder "backups" in the
    # data folder; a second folder (USB disk, network share) gets a copy too.
    "backup_folder": "",
    "backup_second_folder": "",
    "backup_interval_hours": 24,
    "backup_keep_daily": 7,
    "backup_keep_weekly": 4,
    "backup_keep_monthly": 12,
    "backup_alert_days": 2,  # the home page warns when the last good backup is older
}

LABELS = {
    "archive_no_pattern": "档号规则",
    "retention_codes": "保管期限",
    "mass_balance_tolerance": "物料平衡允许偏差",
    "platform_url": "平台地址",
    "platform_profile": "平台接口配置",
    "upload_interval_minutes": "上传间隔（分钟）",
    "upload_daily_hour": "每日上传时刻",
    "upload_on_finalise": "记录完成后立即上传",
    "upload_alert_hours": "未上传提醒（小时）",
    "report_font": "打印字体",
    "digital_link_resolver": "GS1 数字链接解析地址",
    "epcis_id_base": "EPCIS 自有标识前缀",
    "attachment_max_mb": "附件大小上限（MB）",
    "backup_folder": "备份文件夹",
    "backup_second_folder": "第二备份文件夹",
    "backup_interval_hours": "自动备份间隔（小时）",
    "backup_keep_daily": "保留每日备份（份）",
    "backup_keep_weekly": "保留每周备份（份）",
    "backup_keep_monthly": "保留每月备份（份）",
    "backup_alert_days": "备份过期提醒（天）",
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
    if key in PLATFORM_KEYS:
        value = check_platform_setting(key, value)
    if key in URI_KEYS:
        value = check_uri_setting(key, value)
    if key == "attachment_max_mb":
        value = check_attachment_limit(value)
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
