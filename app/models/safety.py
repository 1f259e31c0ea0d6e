"""R2.9–R2.10: environment readings and the safety-management records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Recorded, fk


class EnvironmentReading(Recorded, Base):
    """R2.9 — a temperature/humidity or process reading, entered or imported."""

    __tablename__ = "environment_reading"
    __label__ = "环境与设备数据"
    location: Mapped[str] = mapped_column(String(100))
    warehouse_id: Mapped[int | None] = fk("warehouse.id", nullable=True)
    equipment_id: Mapped[int | None] = fk("equipment.id", nullable=True)
    measured_at: Mapped[dt.datetime] = mapped_column(index=True)
    parameter: Mapped[str] = mapped_column(String(40))  # temperature, humidity, …
    value: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(20))
    alarm_low: Mapped[Decimal | None]
    alarm_high: Mapped[Decimal | None]
    alarm: Mapped[bool] = mapped_column(default=False)
    # The device's original file kept as the source record (R2.9).
    source_file_id: Mapped[int | None] = fk("attachment.id", nullable=True)


class WaterMonitoring(Recorded, Base):
    """G§27 — production water quality and purification."""

    __tablename__ = "water_monitoring"
    __label__ = "生产用水监测记录"
    sampled_at: Mapped[dt.datetime] = mapped_column(index=True)
    sampling_point: Mapped[str] = mapped_column(String(100))
    sample_quantity: Mapped[str | None] = mapped_column(String(40))  # G§37(1)
    ph: Mapped[Decimal | None]
    conductivity_us_cm: Mapped[Decimal | None]
    residual_chlorine_mg_l: Mapped[Decimal | None]
    purification: Mapped[str | None] = mapped_column(Text)
    conclusion: Mapped[str] = mapped_column(String(20))  # pass, fail
    inspector_id: Mapped[int] = fk("person.id")


class EquipmentUpkeep(Recorded, Base):
    """G§28 — equipment maintenance and cleaning."""

    __tablename__ = "equipment_upkeep"
    __label__ = "设备维护保养记录"
    equipment_id: Mapped[int] = fk("equipment.id")
    done_on: Mapped[dt.date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))  # maintenance, cleaning, calibration
    content: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[int] = fk("person.id")


class WorkshopCleanliness(Recorded, Base):
    """G§30 — workshop cleanliness check."""

    __tablename__ = "workshop_cleanliness"
    __label__ = "车间洁净度检测记录"
    workshop: Mapped[str] = mapped_column(String(100))
    checked_on: Mapped[dt.date] = mapped_column(index=True)
    item: Mapped[str] = mapped_column(String(100))
    basis: Mapped[str | None] = mapped_column(String(100))
    instrument: Mapped[str | None] = mapped_column(String(100))
    instrument_model: Mapped[str | None] = mapped_column(String(100))
    cleanliness_class: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str | None] = mapped_column(String(40))
    result: Mapped[str] = mapped_column(String(100))
    conclusion: Mapped[str] = mapped_column(String(20))
    inspector_id: Mapped[int] = fk("person.id")


class StorageConditionRecord(Recorded, Base):
    """G§19 — material storage conditions: temperature, humidity, light."""

    __tablename__ = "storage_condition_record"
    __label__ = "物料贮存条件记录"
    warehouse_id: Mapped[int] = fk("warehouse.id")
    checked_at: Mapped[dt.datetime] = mapped_column(index=True)
    temperature_c: Mapped[Decimal | None]
    humidity_pct: Mapped[Decimal | None]
    light_protected: Mapped[bool | None]
    conclusion: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int] = fk("person.id")


class NearExpiryHandling(Recorded, Base):
    """G§19 — handling of near-expiry and expired materials."""

    __tablename__ = "near_expiry_handling"
    __label__ = "临近及超过保质期物料处理记录"
    lot_id: Mapped[int] = fk("material_lot.id")
    handled_on: Mapped[dt.date] = mapped_column(index=True)
    quantity: Mapped[Decimal]
    action: Mapped[str] = mapped_column(String(100))  # 退货, 销毁, 优先使用 …
    notes: Mapped[str | None] = mapped_column(Text)
    person_id: Mapped[int] = fk("person.id")
