"""R2.9: devices whose files are imported (data loggers, lines, instruments),
the mapping profiles that read their files, each import, and the alarms a
reading outside its device's limits raises."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Recorded, fk


class ReadingProfile(Recorded, Base):
    """How one kind of device file is read: kept as data, so a new logger
    model is a new row, not a new version of the program."""

    __tablename__ = "reading_profile"
    __label__ = "设备数据导入配置"
    name: Mapped[str] = mapped_column(String(100), unique=True)
    encoding: Mapped[str] = mapped_column(String(20), default="utf8")  # utf8, gbk (Chinese Excel), gb18030
    delimiter: Mapped[str] = mapped_column(String(10), default="comma")  # comma, semicolon, tab
    decimal_comma: Mapped[bool] = mapped_column(default=False)  # 3,5 means 3.5
    skip_rows: Mapped[int] = mapped_column(default=0)  # lines above the header (logger name, serial …)
    time_column: Mapped[str] = mapped_column(String(100))
    time_format: Mapped[str | None] = mapped_column(String(40))  # strptime; empty: the usual forms
    # One line per column read: "列名=参数:单位", e.g. "温度(°C)=温度:℃".
    columns: Mapped[str] = mapped_column(Text)


class Device(Recorded, Base):
    """A data logger, line or instrument whose files are imported, with its alarm limits."""

    __tablename__ = "device"
    __label__ = "监测设备"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # logger, instrument
    location: Mapped[str] = mapped_column(String(100))
    warehouse_id: Mapped[int | None] = fk("warehouse.id", nullable=True)
    equipment_id: Mapped[int | None] = fk("equipment.id", nullable=True)
    profile_id: Mapped[int] = fk("reading_profile.id")
    # One line per parameter: "温度:0~4℃", "湿度:~75%RH" (an empty side is no limit).
    limits: Mapped[str | None] = mapped_column(Text)


class ReadingImport(Recorded, Base):
    """One device file imported: its hash makes a second import of it add nothing."""

    __tablename__ = "reading_import"
    __label__ = "设备数据导入记录"
    __table_args__ = (UniqueConstraint("device_id", "sha256"),)
    device_id: Mapped[int] = fk("device.id")
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    attachment_id: Mapped[int] = fk("attachment.id")
    readings: Mapped[int]
    alarms: Mapped[int]
    first_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ReadingAlarm(Recorded, Base):
    """A reading outside its limits: open until someone records the corrective action."""

    __tablename__ = "reading_alarm"
    __label__ = "设备数据超限报警"
    reading_id: Mapped[int] = fk("environment_reading.id")
    device_id: Mapped[int] = fk("device.id")
    message: Mapped[str] = mapped_column(Text)
    corrective_action: Mapped[str | None] = mapped_column(Text)
    corrected_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    corrected_by: Mapped[str | None] = mapped_column(String(40))
