"""R2.9–R2.10: environment readings and the records filed in the
safety-management archive (安全管理档案, G§19, G§27, G§28, G§30)."""

from __future__ import annotations

from app.ledgers.base import register
from app.models import (
    EnvironmentReading, EquipmentUpkeep, ReadingAlarm, ReadingImport, NearExpiryHandling, StorageConditionRecord, WaterMonitoring,
    WorkshopCleanliness,
)

from . import choices as c
from . import fields as F
from . import validators as v
from .fields import (
    COMPUTED, attachment, count, day, declare, flag, material_lot, moment, note, person, pick, qty, ref, text,
)


def safety(model: type, fields: list, *, date: str, signs: tuple[str, ...] = ("操作",), **options):
    """A record filed per period in the safety-management archive."""
    return declare(model, "安全管理", fields, date=date, archive="safety", signs=signs, **options)


def measure(name: str, label: str, check=v.not_negative):
    return qty(name, label, required=False, check=check)


def conclusion(label: str = "检测结论"):
    return pick("conclusion", label, c.VERDICT)


register(
    safety(ReadingImport, [
        ref("device_id", "监测设备", "device", "name", True, 14),
        text("filename", "文件名", 20, True),
        text("sha256", "SHA-256", 20, True, help=COMPUTED),
        ref("attachment_id", "原始数据文件", "attachment", "filename", True, 20),
        count("readings", "读数条数", check=v.not_negative, help=COMPUTED),
        count("alarms", "超限报警条数", check=v.not_negative, help=COMPUTED),
        moment("first_at", "最早读数时间", required=False),
        moment("last_at", "最晚读数时间", required=False),
    ], title="设备数据导入记录", date="first_at", signs=()),
    declare(ReadingAlarm, "安全管理", [
        ref("device_id", "监测设备", "device", "name", True, 14),
        ref("reading_id", "超限读数", "environment_reading", "measured_at", True, 16),
        note("message", "超限情况", True),
        note("corrective_action", "纠偏措施"),
        moment("corrected_at", "纠偏时间", required=False),
        text("corrected_by", "纠偏人", 10),
    ], title="设备数据超限报警", date="corrected_at"),
    safety(EnvironmentReading, [
        text("location", "监测位置", 16, True),
        F.warehouse(),
        ref("equipment_id", "设备", "equipment", "name", False, 16),
        moment("measured_at", "监测时间"),
        text("parameter", "监测参数", 10, True, help="如温度、湿度或工艺参数"),
        qty("value", "监测值", check=None),
        F.unit(),
        measure("alarm_low", "报警下限", check=None),
        measure("alarm_high", "报警上限", check=None),
        flag("alarm", "超限报警", help=COMPUTED),
        attachment("source_file_id", "原始数据文件"),
    ], title="环境与设备监测数据", date="measured_at", signs=()),
    safety(WaterMonitoring, [
        moment("sampled_at", "取样时间"),
        text("sampling_point", "取样地点", 16, True),
        text("sample_quantity", "取样数量", 10),
        qty("ph", "pH值", required=False, check=None, low=0, high=14),
        measure("conductivity_us_cm", "电导率（μS/cm）"),
        measure("residual_chlorine_mg_l", "余氯（mg/L）"),
        note("purification", "生产用水纯化情况"),
        conclusion(),
        person("inspector_id", "检测人"),
    ], date="sampled_at", signs=("操作", "复核")),
    safety(EquipmentUpkeep, [
        ref("equipment_id", "设备名称", "equipment", "name", True, 16),
        day("done_on", "日期"),
        pick("kind", "类别", c.UPKEEP_KIND),
        note("content", "维护保养、清洁内容", required=True),
        text("result", "结果", 16, True),
        person("person_id", "执行人"),
    ], date="done_on"),
    safety(WorkshopCleanliness, [
        text("workshop", "车间名称", 16, True),
        day("checked_on", "检测日期"),
        text("item", "控制项目", 16, True),
        text("basis", "依据", 16),
        text("instrument", "检测仪器名称", 16),
        text("instrument_model", "检测仪器型号", 12),
        text("cleanliness_class", "洁净区等级要求", 12),
        text("state", "检测状态", 10),
        text("result", "检测结果", 16, True),
        conclusion(),
        person("inspector_id", "检测人"),
    ], date="checked_on", signs=("操作", "复核")),
    safety(StorageConditionRecord, [
        F.warehouse(required=True),
        moment("checked_at", "检查时间"),
        F.temperature("temperature_c", "温度（℃）"),
        F.percent("humidity_pct", "湿度（%RH）"),
        flag("light_protected", "避光"),
        conclusion("检查结论"),
        person("person_id", "检查人"),
    ], date="checked_at"),
    safety(NearExpiryHandling, [
        material_lot("lot_id"),
        day("handled_on", "处理日期"),
        qty("quantity", "处理数量"),
        text("action", "处理方式", 12, True, help="如退货、销毁、优先使用"),
        note("notes", "说明"),
        person("person_id", "处理人"),
    ], date="handled_on", signs=("操作", "批准")),
)
