"""Issue 19 §2 (R2.9): device files imported through profiles kept as data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.cli import main
from app.errors import UserError, ValidationError
from app.models import Archive, ArchiveRecord, Attachment, EnvironmentReading, ReadingAlarm, ReadingImport
from app.services import alerts, audit, common, devices

from .builders import TODAY, plant

# A Chinese-Excel export of a cold-store logger: GBK, semicolons, decimal commas,
# two lines about the logger above the header.
GBK_CSV = (
    "记录仪：冷库一号 温湿度记录仪\r\n"
    "序列号：TH-2026-0001\r\n"
    "时间;温度(°C);湿度(%RH)\r\n"
    "2026/11/20 08:00:00;2,5;70,0\r\n"
    "2026/11/20 08:30:00;3,1;71,5\r\n"
    "2026/11/20 09:00:00;6,2;72,0\r\n"   # too warm
    "2026/11/20 09:30:00;3,9;80,5\r\n"   # too humid
    "2026/11/20 10:00:00;-1,5;69,0\r\n"  # too cold
).encode("gbk")


def cold_store(session):
    profile = common.create(session, "reading_profile", dict(
        name="冷库记录仪（中文 Excel）", encoding="gbk", delimiter="semicolon", decimal_comma=True, skip_rows=2,
        time_column="时间", time_format="%Y/%m/%d %H:%M:%S", columns="温度(°C)=温度:℃\n湿度(%RH)=湿度:%RH"))
    return common.create(session, "device", dict(
        code="TH01", name="冷库一号记录仪", kind="logger", location="成品冷库", profile_id=profile.id,
        limits="温度:0~4℃\n湿度:~75%RH"))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_gbk_csv_with_decimal_comma_imports_raises_alarms_and_a_second_import_adds_nothing(session):
    plant(session)
    device = cold_store(session)
    result = devices.import_file(session, device.id, "冷库一号.csv", GBK_CSV)
    assert (result.readings, result.alarms, result.duplicate) == (10, 3, False)
    readings = session.scalars(select(EnvironmentReading).order_by(EnvironmentReading.measured_at,
                                                                   EnvironmentReading.parameter)).all()
    first = [r for r in readings if r.parameter == "温度"][0]
    assert (first.measured_at, first.value, first.unit, first.alarm_high) == (
        dt.datetime(2026, 11, 20, 8, 0), 2.5, "℃", 4)
    assert [(r.parameter, float(r.value)) for r in readings if r.alarm] == [("温度", 6.2), ("湿度", 80.5), ("温度", -1.5)]
    # The original file is the source record of every reading, kept with its hash.
    kept = session.get(Attachment, readings[0].source_file_id)
    assert kept.content == GBK_CSV and kept.ledger == "reading_import" and kept.record_id == result.import_id
    assert {r.source_file_id for r in readings} == {kept.id}
    # Each alarm needs a corrective action and is on the home page until it has one.
    found = [a for a in alerts.collect(session, TODAY) if a.kind == "reading_alarm"]
    assert len(found) == 3 and all(a.model == "ReadingAlarm" for a in found)
    assert any("温度 6.2℃，高于上限 4℃" in a.title for a in found)

    # The month's safety archive files the import (its record and kept file), not 10 rows.
    held = session.execute(select(ArchiveRecord.table_name, func.count()).join(Archive)
                           .where(Archive.kind == "safety", Archive.period == "2026-11")
                           .group_by(ArchiveRecord.table_name)).all()
    assert dict(held).get("reading_import") == 1 and "environment_reading" not in dict(held)

    again = devices.import_file(session, device.id, "改了名字.csv", GBK_CSV)
    assert again.duplicate and again.import_id == result.import_id
    assert count(session, EnvironmentReading) == 10 and count(session, ReadingAlarm) == 3
    assert count(session, ReadingImport) == 1

    devices.correct(session, found[0].record_id, "已调整冷库温控，复测 3.2℃")
    assert len([a for a in alerts.collect(session, TODAY) if a.kind == "reading_alarm"]) == 2
    # Every row written by the import is in the audit chain.
    assert audit.verify(session.connection()) == []


def test_a_bad_line_names_line_and_column_and_nothing_is_written(session):
    plant(session)
    device = cold_store(session)
    bad = GBK_CSV + "2026/11/20 10:30:00;abc;70,0\r\n20.11.2026;3,0;70,0\r\n".encode("gbk")
    with pytest.raises(UserError) as caught:
        devices.import_file(session, device.id, "坏.csv", bad)
    assert "第 9 行「温度(°C)」：「abc」不是数值（配置规定小数点是逗号）" in caught.value.message
    assert "第 10 行「时间」" in caught.value.message
    assert count(session, EnvironmentReading) == 0 and count(session, Attachment) == 0


def test_wrong_encoding_and_missing_column_are_explained(session):
    plant(session)
    device = cold_store(session)
    with pytest.raises(UserError, match="表头中没有.*温度\\(°C\\)"):
        devices.import_file(session, device.id, "x.csv", "a\r\nb\r\n时间;温度;湿度(%RH)\r\n".encode("gbk"))
    utf8_profile = common.create(session, "reading_profile", dict(
        name="UTF-8", encoding="utf8", delimiter="comma", time_column="时间", columns="温度(°F)=温度:℉"))
    line = common.create(session, "device", dict(code="L1", name="杀菌线", kind="instrument", location="车间",
                                                 profile_id=utf8_profile.id, limits="温度:~40℃"))
    with pytest.raises(UserError, match="不是配置「UTF-8」规定的"):
        devices.import_file(session, line.id, "y.csv", "时间,温度(°F)\n2026-11-20 08:00,98\n".encode("gbk"))
    # Fahrenheit from the instrument is converted to the device's ℃ limits.
    result = devices.import_file(session, line.id, "y.csv", "时间,温度(°F)\n2026-11-20 08:00,104\n".encode())
    assert result.alarms == 0
    reading = session.scalar(select(EnvironmentReading).where(EnvironmentReading.equipment_id.is_(None),
                                                               EnvironmentReading.location == "车间"))
    assert (float(reading.value), reading.unit) == (40.0, "℃")


def test_profile_and_limits_are_checked_when_entered(session):
    plant(session)
    with pytest.raises(ValidationError, match="「读数列」.*应写成 列名=参数:单位"):
        common.create(session, "reading_profile", dict(name="坏", encoding="gbk", delimiter="comma",
                                                       time_column="时间", columns="温度"))
    profile = common.create(session, "reading_profile", dict(name="好", encoding="gbk", delimiter="comma",
                                                             time_column="时间", columns="温度=温度:℃"))
    with pytest.raises(ValidationError, match="「报警限」.*下限大于上限"):
        common.create(session, "device", dict(code="X", name="X", kind="logger", location="库",
                                              profile_id=profile.id, limits="温度:8~4℃"))


def test_import_readings_command(tmp_path, capsys):
    from app.db import make_engine, make_sessionmaker, upgrade
    from app.services import acting

    path = tmp_path / "readings.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with acting.Sessions(make_sessionmaker(engine), acting.system("测试")).begin() as session:
        plant(session)
        cold_store(session)
    engine.dispose()
    csv_file = tmp_path / "冷库一号.csv"
    csv_file.write_bytes(GBK_CSV)
    assert main(["--db", str(path), "import-readings", "TH01", str(csv_file)]) == 0
    said = capsys.readouterr().out
    assert "已导入 10 条读数" in said and "3 条超出报警限" in said
    assert main(["--db", str(path), "import-readings", "TH01", str(csv_file)]) == 0
    assert "此前已经导入过，没有增加任何读数" in capsys.readouterr().out
    assert main(["--db", str(path), "import-readings", "NOPE", str(csv_file)]) == 1
    assert "没有编号或名称为「NOPE」的监测设备；已有：TH01" in capsys.readouterr().err


def test_the_monthly_safety_volume_draws_the_files_readings_with_their_limits(session, tmp_path):
    """R2.9: the paper shows what the readings did: one chart per parameter,
    the alarm limits and the number of excursions named on it."""
    from app.reports import reading_chart, volume as printed
    from app.reports.volume_data import read_volume

    plant(session)
    device = cold_store(session)
    devices.import_file(session, device.id, "冷库一号.csv", GBK_CSV)
    archive = session.scalars(select(Archive).where(Archive.kind == "safety", Archive.period == "2026-11")).one()
    material = next(m for m in read_volume(session, archive.id).materials if m.ledger == "reading_import")
    charts = {chart.title: chart for chart in material.charts}
    assert set(charts) == {"成品冷库 温度（℃）", "成品冷库 湿度（%RH）"}
    temperature = charts["成品冷库 温度（℃）"]
    assert (temperature.low, temperature.high, temperature.alarms) == (0, 4, 2)
    assert [value for _, value in temperature.points] == [2.5, 3.1, 6.2, 3.9, -1.5]
    assert temperature.points[-1][0] == 2.0  # hours since the first reading
    assert (charts["成品冷库 湿度（%RH）"].high, charts["成品冷库 湿度（%RH）"].alarms) == (75, 1)
    target = tmp_path / "safety.pdf"
    printed.print_volume(session, archive.id, str(target))
    assert target.stat().st_size > 0
    assert reading_chart.caption(temperature) == "成品冷库 温度（℃）：超限 2 次；报警限（红色虚线）：下限 0、上限 4"
