"""R2.9: readings imported from the files of data loggers, lines and instruments.

A device's file is read through its mapping profile (a row of
``reading_profile``: encoding — GBK as Chinese Excel writes it —, delimiter,
decimal comma, the time column and its format, and which columns hold which
parameter in which unit). Every reading is judged against the device's
limits; one outside them raises an alarm that stays open until a corrective
action is recorded, and shows among the home page's alerts. The file itself
is kept as an attachment with its SHA-256, the source record of every
reading made from it; the same file imported again adds nothing.

A file is imported whole or not at all: one bad line names its line number
and column, and nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.models import Attachment, Device, EnvironmentReading, ReadingAlarm, ReadingImport, ReadingProfile

from app.ledgers.device_formats import (
    CONVERSIONS, DELIMITER_CHARS, ENCODINGS, TIME_FORMATS, Limit, parse_columns, parse_limits,
)

from . import alerts, archives, attachments, audit, users
from .common import actor, now

CSV_MEDIA_TYPE = "text/csv"
LEDGER = "reading_import"  # what the kept file is attached to


# ---------------------------------------------------------------- reading a file


@dataclass(frozen=True)
class Parsed:
    parameter: str
    unit: str
    measured_at: dt.datetime
    value: Decimal


def _decode(data: bytes, profile: ReadingProfile, filename: str) -> str:
    encoding = {"utf8": "utf-8-sig", "gbk": "gb18030"}.get(profile.encoding, profile.encoding)
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        hint = "中文 Excel 保存的 CSV 一般是 GBK" if profile.encoding != "gbk" else "文件可能是 UTF-8 编码"
        raise UserError(f"文件「{filename}」不是配置「{profile.name}」规定的 {ENCODINGS.get(profile.encoding, profile.encoding)} "
                        f"编码，无法读取（{hint}）") from None


def _number(text: str, decimal_comma: bool) -> Decimal:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if decimal_comma:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    value = Decimal(cleaned)
    if not value.is_finite():
        raise InvalidOperation
    return value


def _moment(text: str, time_format: str | None) -> dt.datetime:
    text = text.strip()
    for candidate in ([time_format] if time_format else TIME_FORMATS):
        try:
            return dt.datetime.strptime(text, candidate).replace(microsecond=0)
        except ValueError:
            continue
    raise ValueError


def parse(data: bytes, profile: ReadingProfile, filename: str, limits: dict[str, Limit]) -> list[Parsed]:
    """Every reading of the file, converted to the limits' units; a UserError
    listing the first bad lines (line number, column) when any is bad."""
    text = _decode(data, profile, filename)
    lines = text.splitlines()[profile.skip_rows or 0:]
    rows = csv.reader(io.StringIO("\n".join(lines)), delimiter=DELIMITER_CHARS.get(profile.delimiter, ","))
    header = [cell.strip() for cell in next(rows, [])]
    columns = parse_columns(profile.columns)
    wanted = [profile.time_column.strip(), *(c.header for c in columns)]
    missing = [name for name in wanted if name not in header]
    if missing:
        raise UserError(f"文件「{filename}」第 {(profile.skip_rows or 0) + 1} 行的表头中没有配置「{profile.name}」"
                        f"要的列：{'、'.join(missing)}（表头是：{'、'.join(header) or '空'}）")
    time_index = header.index(profile.time_column.strip())
    plan = []
    for column in columns:
        limit = limits.get(column.parameter)
        target = limit.unit if limit and limit.unit else column.unit
        convert = None
        if target != column.unit:
            convert = CONVERSIONS.get((column.unit, target))
            if convert is None:
                raise UserError(f"配置「{profile.name}」中「{column.header}」的单位是 {column.unit}，设备的报警限是 {target}，"
                                "两者不能换算：请改配置或设备的报警限")
        plan.append((header.index(column.header), column, target, convert))
    found, problems = [], []
    first_line = (profile.skip_rows or 0) + 2
    for number, row in enumerate(rows, start=first_line):
        if not any(cell.strip() for cell in row):
            continue
        try:
            moment = _moment(row[time_index], profile.time_format)
        except (ValueError, IndexError):
            shown = row[time_index] if time_index < len(row) else ""
            problems.append(f"第 {number} 行「{profile.time_column}」：「{shown}」不是配置的日期时间格式"
                            f"{('（' + profile.time_format + '）') if profile.time_format else ''}")
            continue
        for index, column, unit, convert in plan:
            cell = row[index] if index < len(row) else ""
            if not cell.strip():
                continue  # a channel the logger did not record at this moment
            try:
                value = _number(cell, profile.decimal_comma)
            except InvalidOperation:
                problems.append(f"第 {number} 行「{column.header}」：「{cell}」不是数值"
                                + ("（配置规定小数点是逗号）" if profile.decimal_comma else ""))
                continue
            if convert is not None:
                value = Decimal(str(round(float(convert(value)), 3)))
            found.append(Parsed(column.parameter, unit, moment, value))
    if problems:
        more = f"……共 {len(problems)} 处" if len(problems) > 5 else ""
        raise UserError(f"文件「{filename}」没有导入，有不能读取的数据：" + "；".join(problems[:5]) + more)
    if not found:
        raise UserError(f"文件「{filename}」中没有读数")
    return found


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class Imported:
    import_id: int
    readings: int
    alarms: int
    duplicate: bool = False


def device_by_code(session: Session, code: str) -> Device:
    device = session.scalar(select(Device).where(Device.code == code.strip()))
    if device is None:
        device = session.scalar(select(Device).where(Device.name == code.strip()))
    if device is None:
        known = session.scalars(select(Device.code).order_by(Device.code)).all()
        raise UserError(f"没有编号或名称为「{code}」的监测设备" + (f"；已有：{'、'.join(known)}" if known else
                        "；请先在“基础数据 → 监测设备”中登记设备和它的导入配置"))
    return device


def import_file(session: Session, device_id: int, filename: str, data: bytes) -> Imported:
    """Import one device file; the same file (by hash) a second time adds nothing."""
    users.require(session, "enter", "environment_reading")
    device = session.get(Device, device_id)
    digest = hashlib.sha256(data).hexdigest()
    earlier = session.scalar(select(ReadingImport).where(ReadingImport.device_id == device.id,
                                                        ReadingImport.sha256 == digest))
    if earlier is not None:
        return Imported(earlier.id, 0, 0, duplicate=True)
    if len(data) > attachments.limit_bytes(session):
        raise UserError(f"文件「{filename}」有 {attachments.size_text(len(data))}，超过附件大小上限"
                        f"（{attachments.size_text(attachments.limit_bytes(session))}）：请分成几个文件导入")
    profile = session.get(ReadingProfile, device.profile_id)
    limits = parse_limits(device.limits)
    parsed = parse(data, profile, attachments.clean_filename(filename), limits)
    at, by = now(session), actor(session)
    kept = Attachment(filename=attachments.clean_filename(filename), media_type=CSV_MEDIA_TYPE, sha256=digest,
                      content=bytes(data), ledger=LEDGER, record_id=None, created_at=at, created_by=by,
                      description=f"{device.name}（{device.code}）的原始数据文件")
    session.add(kept)
    session.flush()
    rows, alarms = _readings(device, parsed, limits, kept.id, at, by)
    ids = audit.insert_audited(session.connection(), EnvironmentReading.__table__, rows, by, info=session.info)
    raised = [ReadingAlarm(reading_id=ids[index], device_id=device.id, message=message, created_at=at, created_by=by)
              for index, message in alarms]
    session.add_all(raised)
    record = ReadingImport(device_id=device.id, filename=kept.filename, sha256=digest, attachment_id=kept.id,
                           readings=len(rows), alarms=len(raised), created_at=at, created_by=by,
                           first_at=min(p.measured_at for p in parsed), last_at=max(p.measured_at for p in parsed))
    session.add(record)
    session.flush()
    kept.record_id = record.id
    session.flush()
    # The month's safety archive files the import — its record and the kept
    # file — as one material, not each of its thousands of readings (R3.8).
    archives.file_safety_month(session, record.first_at.year, record.first_at.month)
    return Imported(record.id, len(rows), len(raised))


def _readings(device: Device, parsed: list[Parsed], limits: dict[str, Limit], file_id: int, at, by):
    """The rows to insert (plain dicts: 100,000 ORM objects would take a
    minute) and, by row index, the message of each reading outside its limits."""
    rows, alarms = [], []
    fixed = dict(location=device.location, warehouse_id=device.warehouse_id, equipment_id=device.equipment_id,
                 source_file_id=file_id, created_at=at, created_by=by)
    bounds = {name: (limit.low, limit.high) for name, limit in limits.items()}
    for item in parsed:
        low, high = bounds.get(item.parameter, (None, None))
        too_low, too_high = low is not None and item.value < low, high is not None and item.value > high
        rows.append(dict(fixed, measured_at=item.measured_at, parameter=item.parameter, value=item.value,
                         unit=item.unit, alarm_low=low, alarm_high=high, alarm=too_low or too_high))
        if too_low or too_high:
            side = f"低于下限 {low}" if too_low else f"高于上限 {high}"
            alarms.append((len(rows) - 1, f"{device.name}（{device.location}）{item.measured_at:%Y-%m-%d %H:%M} "
                                          f"{item.parameter} {item.value}{item.unit}，{side}{item.unit}"))
    return rows, alarms


def import_path(session: Session, device_code: str, path: str | Path) -> Imported:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取文件「{path}」：{exc.strerror or exc}") from None
    return import_file(session, device_by_code(session, device_code).id, path.name, data)


# ---------------------------------------------------------------- alarms


def correct(session: Session, alarm_id: int, action: str) -> None:
    """Record what was done about an alarm; it no longer needs attention."""
    users.require(session, "enter", "reading_alarm")
    alarm = session.get(ReadingAlarm, alarm_id)
    if alarm is None:
        raise UserError("这条报警不存在")
    if not (action or "").strip():
        raise UserError("「纠偏措施」不能为空：请写明对超限做了什么")
    alarm.corrective_action = action.strip()
    alarm.corrected_at, alarm.corrected_by = now(session), actor(session)
    session.flush()


def open_alarms(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ReadingAlarm).where(ReadingAlarm.corrective_action.is_(None)))


def alerts_due(session: Session, today: dt.date) -> list[alerts.Alert]:
    """One to-do per open alarm (the newest 50), each opening its alarm."""
    rows = session.execute(select(ReadingAlarm.id, ReadingAlarm.message, EnvironmentReading.measured_at)
                           .join(EnvironmentReading, EnvironmentReading.id == ReadingAlarm.reading_id)
                           .where(ReadingAlarm.corrective_action.is_(None))
                           .order_by(EnvironmentReading.measured_at.desc()).limit(50)).all()
    return [alerts.Alert(kind="reading_alarm", title=f"超限报警待纠偏：{message}", severity=alerts.OVERDUE,
                         category=alerts.TODO, due=measured_at.date(), model="ReadingAlarm", record_id=alarm_id)
            for alarm_id, message, measured_at in rows]
