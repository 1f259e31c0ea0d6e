"""The safety-management records (R2.9–R2.10, G§19, G§27, G§28, G§30) and
their monthly archive (R3.8): cold-store readings twice a day, production
water every Monday, stores every Wednesday, equipment upkeep three times a
month, calibration on the 2nd, workshop cleanliness on the 10th — and in a
partial month at either end of the story, on its first day — the month filed
on the 1st of the next."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from random import Random

from sqlalchemy.orm import Session

from app.services import archives
from app.services.common import create

from .clock import Clock
from .masterdata import Factory

WATER_POINTS = (
    ("制水间出水口", "市政自来水→多介质过滤→活性炭过滤→精密过滤→紫外线消毒，设备运行正常"),
    ("灌装间末梢水龙头", "经水处理设备处理后的生产用水"),
)
UPKEEP = {
    5: ("EQ02", "maintenance", "检查磨片磨损和分离滤网，紧固电机底座，加注食品级润滑脂"),
    15: ("EQ04", "cleaning", "板片拆洗除垢，更换破损密封垫，复装后做 0.6 MPa 保压试验"),
    25: ("EQ10", "maintenance", "检查加热条、硅胶垫和真空泵油位，更换真空泵油"),
}
CALIBRATION = (
    ("EQ12", "金属探测仪灵敏度校验：Fe φ1.5 mm、SUS φ2.5 mm 标准试块前中后三个位置各通过 3 次，均能检出并剔除"),
    ("EQ03", "煮浆温度计（PT100）与标准温度计在 95 ℃ 比对，偏差 0.2 ℃（允许 ±0.5 ℃）"),
)
CLEANLINESS = (
    ("灌装间", "空气沉降菌", "GB/T 18204.3-2013 自然沉降法", "恒温培养箱", "LRH-150", "≤30 CFU/皿（5 min）", "静态",
     lambda rng: f"{rng.randint(4, 18)} CFU/皿"),
    ("内包间", "操作台表面 ATP", "企业清洁验证规程", "ATP 荧光检测仪", "HT-ATP100", "≤150 RLU", "清洁后",
     lambda rng: f"{rng.randint(20, 110)} RLU"),
    ("内包间", "员工手部表面菌落总数", "GB 15982-2012 附录 A", "恒温培养箱", "LRH-150", "≤10 CFU/cm²", "上岗前",
     lambda rng: f"{rng.randint(0, 6)} CFU/cm²"),
)


# Each kind of record and the days it is due; a month of the story that has
# no such day (the first and last months are partial) gets it on its first day.
RULES = {
    "water": lambda day: day.weekday() == 0,  # Monday
    "stores": lambda day: day.weekday() == 2,  # Wednesday
    "upkeep": lambda day: day.day in UPKEEP,
    "calibration": lambda day: day.day == 2,
    "cleanliness": lambda day: day.day == 10,
}


def schedule(first: dt.date, last: dt.date) -> dict[dt.date, set[str]]:
    """Which records are due on which day of the story."""
    plan: dict[dt.date, set[str]] = defaultdict(set)
    month: list[dt.date] = []
    day = first
    while day <= last:
        month.append(day)
        day += dt.timedelta(days=1)
        if day.day == 1 or day > last:
            for kind, due in RULES.items():
                for chosen in [d for d in month if due(d)] or month[:1]:
                    plan[chosen].add(kind)
            month = []
    return plan


def daily(session: Session, factory: Factory, clock: Clock, rng: Random, day: dt.date, due: set[str]) -> None:
    """The cold-store readings of the day and the records due on it."""
    for hour in (8, 20):
        at = clock.on(day, hour, 0)
        for code in ("W03", "W04"):
            store = factory.warehouses[code]
            value = f"{rng.uniform(1.2, 3.8):.1f}"
            create(session, "environment_reading", {
                "location": store.name, "warehouse_id": store.id, "measured_at": at, "parameter": "温度",
                "value": value, "unit": "℃", "alarm_low": store.temperature_min, "alarm_high": store.temperature_max,
            }, alarm=False)
    if "water" in due:
        _water(session, factory, clock, rng, day)
    if "stores" in due:
        _stores(session, factory, clock, rng, day)
    if "upkeep" in due:
        equipment, kind, content = UPKEEP.get(day.day, UPKEEP[5])
        _upkeep(session, factory, clock, day, equipment, kind, content, "完成，试运行正常")
    if "calibration" in due:
        for equipment, content in CALIBRATION:
            _upkeep(session, factory, clock, day, equipment, "calibration", content, "校验合格")
    if "cleanliness" in due:
        _cleanliness(session, factory, clock, rng, day)


def _water(session, factory, clock, rng, day) -> None:
    inspector = factory.crew("inspectors")[0]
    for number, (point, purification) in enumerate(WATER_POINTS):
        at = clock.on(day, 7, 30 + 10 * number)
        create(session, "water_monitoring", {
            "sampled_at": at, "sampling_point": point, "ph": f"{rng.uniform(7.0, 7.8):.2f}",
            "conductivity_us_cm": str(rng.randint(280, 420)), "residual_chlorine_mg_l": f"{rng.uniform(0.08, 0.35):.2f}",
            "purification": purification, "conclusion": "pass", "inspector_id": inspector.id,
        })


def _stores(session, factory, clock, rng, day) -> None:
    keeper = factory.person("keeper")
    for number, code in enumerate(("W01", "W02", "W03", "W04")):
        store = factory.warehouses[code]
        chilled = store.storage_condition == "chilled"
        create(session, "storage_condition_record", {
            "warehouse_id": store.id, "checked_at": clock.on(day, 9, 10 * number),
            "temperature_c": f"{rng.uniform(1.5, 3.8) if chilled else rng.uniform(14, 24):.1f}",
            "humidity_pct": None if chilled else f"{rng.uniform(45, 62):.0f}",
            "light_protected": True, "conclusion": "pass", "person_id": keeper.id,
        })


def _upkeep(session, factory, clock, day, equipment, kind, content, result) -> None:
    clock.on(day, 16, 0)
    create(session, "equipment_upkeep", {
        "equipment_id": factory.equipment[equipment].id, "done_on": day, "kind": kind, "content": content,
        "result": result, "person_id": factory.person("technician").id,
    })


def _cleanliness(session, factory, clock, rng, day) -> None:
    clock.on(day, 10, 0)
    inspector = factory.crew("inspectors")[1]
    for workshop, item, basis, instrument, model, limit, state, measure in CLEANLINESS:
        create(session, "workshop_cleanliness", {
            "workshop": workshop, "checked_on": day, "item": item, "basis": basis, "instrument": instrument,
            "instrument_model": model, "cleanliness_class": limit, "state": state, "result": measure(rng),
            "conclusion": "pass", "inspector_id": inspector.id,
        })


def file_month(session: Session, clock: Clock, year: int, month: int, on: dt.date) -> None:
    """R3.8: the month's records as one safety-management archive. It stays
    open: sealing needs a 立卷人 and a 检查人 who are real users."""
    clock.on(on, 8, 0)
    archives.file_safety_month(session, year, month)
