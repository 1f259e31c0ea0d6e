"""The production story: day by day, batches made, inspected, packed,
released and delivered; the CCP deviation and the recall happen on their day."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from random import Random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CommodityBatch, Delivery, Feeding, ProductBatch, RecallProgress
from app.services import distribution, production, quality

from . import data, safety
from .clock import Clock
from .masterdata import Factory, test_items
from .stores import Stores, q, text

BASE_DAYS = (0, 3)  # Monday, Thursday: 豆浆基料 ×2 → 原味豆浆 + 内酯豆腐
DRIED_DAYS = (2,)  # Wednesday: 五香豆腐干
DEVIATION_WEEKS = 9  # the CCP deviation: a 原味豆浆 batch about nine weeks before the end
RECALL_WEEKS = 6  # the recall: a 五香豆腐干 batch about six weeks before the end
# Who buys what: spec -> customer kinds (S supermarket, C canteen, R restaurant).
BUYERS = {"250 mL/瓶": "S", "1 L/瓶": "SCR", "400 g/盒": "SCR", "200 g/袋": "S", "2.5 kg/袋（餐饮装）": "CR"}
VEHICLES = ("沪DK3721", "沪BE6958", "沪EF0532")
WATER_SEED = 5749  # GB 5749
SAMPLE_PLACES = {"DJ": "留样室冷藏柜 A-1", "NZ": "留样室冷藏柜 A-2", "DG": "留样室冷藏柜 A-3"}


def days_of(clock: Clock) -> int:
    """How many days the story runs (each one a step of the progress)."""
    return ((clock.anchor - dt.timedelta(days=1)) - clock.start).days + 1


def run(session: Session, factory: Factory, clock: Clock, rng: Random,
        progress: Callable[[int, int, str], None] | None = None) -> None:
    Story(session, factory, clock, rng).run(progress)


class Story:
    def __init__(self, session: Session, factory: Factory, clock: Clock, rng: Random):
        self.session, self.factory, self.clock, self.rng = session, factory, clock, rng
        self.stores = Stores(session, factory, clock, rng)
        self.events: dict[dt.date, list[Callable[[], None]]] = defaultdict(list)
        self.deviation_day = self._first(BASE_DAYS, clock.end - dt.timedelta(weeks=DEVIATION_WEEKS))
        self.recall_day = self._first(DRIED_DAYS, clock.end - dt.timedelta(weeks=RECALL_WEEKS))
        self.confirmations = 0
        # Water tests draw from their own numbers, so the rest of the story stays as it was.
        self.water_rng = Random(WATER_SEED)

    def _first(self, weekdays, after: dt.date) -> dt.date:
        day = after
        while day.weekday() not in weekdays:
            day += dt.timedelta(days=1)
        return day

    def run(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        last = self.clock.anchor - dt.timedelta(days=1)
        filed: set[tuple[int, int]] = set()
        due = safety.schedule(self.clock.start, last)
        total = days_of(self.clock)
        for done, day in enumerate(self.clock.days(self.clock.start, last)):
            if progress:
                progress(done, total, f"{day.isoformat()} 的生产、检验和发货")
            if day.day == 1 and day > self.clock.start:
                previous = day - dt.timedelta(days=1)
                safety.file_month(self.session, self.clock, previous.year, previous.month, day)
                filed.add((previous.year, previous.month))
            safety.daily(self.session, self.factory, self.clock, self.rng, day, due.get(day, set()))
            self.stores.check_expiry(day)
            if day <= self.clock.end and day.weekday() == 0 and day.day <= 7:
                self.water(day)
            if day <= self.clock.end:
                self.produce(day)
            for event in self.events.pop(day, []):
                event()
        month = self.clock.start.replace(day=1)
        while month <= last:
            if (month.year, month.month) not in filed:
                safety.file_month(self.session, self.clock, month.year, month.month, last)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        if progress:
            progress(total, total, "")

    # ------------------------------------------------------------ production

    def produce(self, day: dt.date) -> None:
        if day.weekday() in BASE_DAYS:
            bases = [self.base(day, slot) for slot in (1, 2)]
            shares = [q(b.output_quantity * Decimal(str(self.rng.uniform(0.44, 0.5)))) for b in bases]
            self.soymilk(day, list(zip(bases, shares)))
            self.tofu(day, [(b, b.quantity_on_hand) for b in bases])
            self.cleaning(day, "L01", bases[-1], "豆浆车间（磨浆、煮浆、调配、灌装间）", 14)
        elif day.weekday() in DRIED_DAYS:
            self.dried(day)

    def start(self, code: str, day: dt.date, line: str, role: str, hour: int, minute: int = 0,
              sources=None) -> ProductBatch:
        at = self.clock.on(day, hour, minute)
        lead = self.factory.crew(role)[0]
        values = {
            "product_id": self.factory.products[code].id, "line_id": self.factory.lines[line].id, "team": lead.team,
            "production_order": f"SCZL-{day:%Y%m%d}-{code}", "production_date": day, "started_at": at, "unit": "kg",
            "operator_id": lead.id,
        }
        if sources:
            return production.mix_batches(self.session, values, sources, operator_id=lead.id)
        return production.start_batch(self.session, values)

    def fed(self, batch: ProductBatch) -> Decimal:
        """Everything fed into the batch so far (lots and other batches)."""
        total = self.session.scalar(select(func.sum(Feeding.quantity)).where(Feeding.batch_id == batch.id))
        return q(total or 0)

    def ccp(self, batch: ProductBatch, code: str, at: dt.datetime, operator, index: int = 0, value=None):
        ccp = self.factory.ccps[code][index]
        low, high = data.CCPS[code][index][-1]
        value = value if value is not None else Decimal(f"{self.rng.uniform(low, high):.1f}")
        self.clock.set(at)
        return production.record_ccp(self.session, batch, ccp, value, operator_id=operator.id, measured_at=at)

    def record(self, batch: ProductBatch, key: str, at: dt.datetime, operator, **values) -> None:
        self.clock.set(at)
        at_field = {"process_record": "recorded_at", "sterilisation_record": "started_at",
                    "intermediate_storage": "stored_at", "cleaning_record": "cleaned_at"}[key]
        production.add_record(self.session, key, batch, dict(values, **{at_field: at}, operator_id=operator.id))

    def complete(self, batch: ProductBatch, output: Decimal, at: dt.datetime) -> None:
        self.clock.set(at)
        production.complete_batch(self.session, batch, output, self.fed(batch) - output, finished_at=at)

    def inspect(self, kind: str, code: str, at: dt.datetime, *, batch=None, commodity=None, **extra):
        items = test_items(self.session, self.factory, kind, code, self.rng)
        self.clock.set(at)
        values = {
            "kind": kind, "batch_id": batch.id if batch else None,
            "commodity_batch_id": commodity.id if commodity else None, "sampled_at": at,
            "inspector_id": self.rng.choice(self.factory.crew("inspectors")).id,
            "reviewer_id": self.factory.person("quality_manager").id, **extra,
        }
        return quality.inspect(self.session, values, items)

    def water(self, day: dt.date) -> None:
        """G§37: the monthly laboratory test of production water against GB 5749,
        filed in the month's safety-management archive."""
        rng = self.water_rng
        at = self.clock.on(day, 7, 30)
        quality.inspect(self.session, {
            "kind": "water", "material_id": self.factory.materials["M206"].id, "sampled_at": at,
            "sampling_place": rng.choice(data.WATER_PLACES), "sample_quantity": "500 mL × 2（无菌瓶、普通瓶各 1）",
            "sampling_method": "GB/T 5750.2-2023 水样的采集与保存", "inspector_id": rng.choice(self.factory.crew("inspectors")).id,
            "reviewer_id": self.factory.person("quality_manager").id,
        }, test_items(self.session, self.factory, "water", "M206", rng))

    def base(self, day: dt.date, slot: int) -> ProductBatch:
        """豆浆基料 (semi-finished): soybeans, water and defoamer, cooked ≥ 95 ℃."""
        start = 4 + slot
        batch = self.start("BJ", day, "L01", "base", start)
        crew = self.factory.crew("base")
        soy = Decimal(self.rng.randint(60, 80))
        at = self.clock.on(day, start, 10)
        recipe = data.RECIPES["BJ"]
        for code in ("M101", "M206", "M304"):
            self.stores.feed(batch, code, q(soy * Decimal(str(recipe[code]))), at, crew[0],
                             method="称量后投入磨浆机" if code != "M206" else "流量计计量加入",
                             purpose="消泡（加工助剂）" if code == "M304" else None)
        self.ccp(batch, "BJ", at + dt.timedelta(minutes=60), crew[0])
        fed = self.fed(batch)
        output = q(fed * Decimal(str(self.rng.uniform(0.80, 0.83))))
        self.record(batch, "process_record", at + dt.timedelta(minutes=85), crew[1], kind="by_product", step="浸泡、浆渣分离",
                    description=f"大豆 {text(soy)} kg 浸泡 10 h（水温 {self.rng.randint(15, 19)} ℃）后磨浆；豆渣约 "
                                f"{text(q(fed - output - Decimal('8')))} kg 交饲料厂回收，煮浆蒸发损耗约 8 kg")
        done = at + dt.timedelta(minutes=100)
        self.complete(batch, output, done)
        self.inspect("semi_finished", "BJ", done + dt.timedelta(minutes=5), batch=batch, sample_quantity="500 mL",
                     sampling_method="煮浆罐出料口取样", process_step="煮浆后")
        self.record(batch, "intermediate_storage", done + dt.timedelta(minutes=10), crew[1], quantity=output,
                    removed_at=self.clock.on(day, 9, 0), storage_mode="chilled", condition="半成品暂存冷库 0～4 ℃")
        return batch

    def soymilk(self, day: dt.date, sources) -> None:
        """原味豆浆: two base batches mixed, sugar and water, pasteurised, bottled."""
        crew = self.factory.crew("soymilk")
        batch = self.start("DJ", day, "L01", "soymilk", 9, 0, sources=sources)
        at = self.clock.on(day, 9, 10)
        base = sum((share for _, share in sources), Decimal(0))
        for code in ("M201", "M206"):
            self.stores.feed(batch, code, q(base * Decimal(str(data.RECIPES["DJ"][code]))), at, crew[0],
                             method="称量后投入调配罐")
        self.record(batch, "process_record", at + dt.timedelta(minutes=25), crew[1], kind="processing", step="均质",
                    description="调配后均质", parameters=f"均质压力 {self.rng.randint(19, 21)} MPa")
        check = at + dt.timedelta(minutes=50)
        if day == self.deviation_day:
            self.deviation(batch, check, crew[0])
        else:
            self.ccp(batch, "DJ", check, crew[0])
            self.ccp(batch, "DJ", check + dt.timedelta(minutes=30), crew[0])
        self.record(batch, "sterilisation_record", check, crew[0], method="pasteurisation",
                    duration_seconds=self.rng.choice((15, 16, 18, 20)), temperature_c=f"{self.rng.uniform(86.5, 89):.1f}")
        self.finish(batch, "DJ", day, check + dt.timedelta(minutes=90), shares=(0.6, 0.4), keep=("250 mL/瓶", "4", "瓶"))

    def deviation(self, batch: ProductBatch, at: dt.datetime, operator) -> None:
        """The one CCP deviation of the story, corrected and verified (G§20)."""
        technician = self.factory.person("technician")
        reading = self.ccp(batch, "DJ", at, operator, value=Decimal("83.4"))
        fixed = self.clock.set(at + dt.timedelta(minutes=8))
        production.correct_deviation(
            self.session, reading,
            "杀菌温度 83.4 ℃ 低于关键限值 85 ℃：自动回流阀已将该时段约 120 kg 豆浆回流至平衡罐；立即检查发现蒸汽减压阀"
            "压力波动，调整至 0.4 MPa，温度恢复至 88 ℃ 后重新杀菌；偏离时段产品全部经重新杀菌，未进入灌装。",
            by=technician.id, at=fixed)
        self.record(batch, "process_record", at + dt.timedelta(minutes=12), technician, kind="rework", step="巴氏杀菌",
                    description="杀菌温度偏离后约 120 kg 豆浆回流重新杀菌", parameters="重新杀菌 88.0 ℃，保持 18 s",
                    measures="更换蒸汽减压阀膜片；当班增加杀菌温度记录频次至每 15 min",
                    verification="复测杀菌温度 87.6～88.4 ℃；该批成品检验脲酶阴性、微生物合格")
        self.ccp(batch, "DJ", at + dt.timedelta(minutes=20), operator, value=Decimal("88.0"))
        self.ccp(batch, "DJ", at + dt.timedelta(minutes=40), operator)

    def tofu(self, day: dt.date, sources) -> None:
        """内酯豆腐: the rest of both base batches, coagulated in the box at 85–90 ℃."""
        crew = self.factory.crew("tofu")
        batch = self.start("NZ", day, "L02", "tofu", 9, 30, sources=sources)
        at = self.clock.on(day, 9, 40)
        base = sum((share for _, share in sources), Decimal(0))
        for code in ("M301", "M303"):
            self.stores.feed(batch, code, q(base * Decimal(str(data.RECIPES["NZ"][code]))), at, crew[0],
                             method="温水溶解后加入", purpose="凝固剂")
        check = at + dt.timedelta(minutes=60)
        self.ccp(batch, "NZ", check + dt.timedelta(minutes=15), crew[1])
        self.record(batch, "sterilisation_record", check, crew[1], method="pasteurisation",
                    duration_seconds=self.rng.choice((1200, 1320, 1500)),
                    temperature_c=f"{self.rng.uniform(86.5, 89):.1f}")
        self.finish(batch, "NZ", day, check + dt.timedelta(minutes=80), shares=(1,), keep=("400 g/盒", "3", "盒"))

    def dried(self, day: dt.date) -> ProductBatch:
        """五香豆腐干: made from soybeans on its own line, braised, vacuum packed, pasteurised."""
        crew = self.factory.crew("dried")
        batch = self.start("DG", day, "L03", "dried", 6)
        soy = Decimal(self.rng.randint(45, 60))
        at = self.clock.on(day, 6, 10)
        for code, share in data.RECIPES["DG"].items():
            self.stores.feed(batch, code, q(soy * Decimal(str(share))), at, crew[0],
                             method="点浆" if code == "M302" else "称量投入", purpose="凝固剂" if code == "M302" else None)
        self.record(batch, "process_record", at - dt.timedelta(hours=10), crew[0], kind="pretreatment", step="浸泡",
                    description=f"大豆 {text(soy)} kg 除杂清洗后浸泡",
                    parameters=f"水温 {self.rng.randint(15, 19)} ℃，浸泡 10 h，豆水比 1:3")
        self.ccp(batch, "DG", at + dt.timedelta(minutes=50), crew[0], index=0)
        self.inspect("in_process", "DG", at + dt.timedelta(hours=4), batch=batch, sample_quantity="3 块",
                     process_step="卤煮", sampling_method="卤煮锅随机取样",
                     control_measures="盐分超出范围时调整卤汁浓度或卤煮时间，复测合格后方可出锅",
                     proficiency_evidence="快速盐度计经上海市计量测试技术研究院校准（在有效期内）；每月与 GB 5009.44 化学法比对，偏差≤0.1%")
        sterilise = at + dt.timedelta(hours=6)
        self.ccp(batch, "DG", sterilise + dt.timedelta(minutes=20), crew[0], index=1)
        self.record(batch, "sterilisation_record", sterilise, crew[0], method="pasteurisation",
                    duration_seconds=self.rng.choice((1800, 1980, 2100)),
                    temperature_c=f"{self.rng.uniform(86.5, 89):.1f}")
        self.ccp(batch, "DG", sterilise + dt.timedelta(minutes=70), crew[0], index=2)
        self.finish(batch, "DG", day, sterilise + dt.timedelta(minutes=80), shares=(0.75, 0.25),
                    keep=("200 g/袋", "3", "袋"))
        self.cleaning(day, "L03", batch, "豆干车间（点浆、压制、卤煮、包装间）", 15)
        if day == self.recall_day:
            self.events[day + dt.timedelta(days=5)].append(lambda: self.recall(batch))
        return batch

    def finish(self, batch: ProductBatch, code: str, day: dt.date, at: dt.datetime, shares, keep) -> None:
        """Complete, inspect, keep samples, pack per spec, store, release, plan the deliveries."""
        fed = self.fed(batch)
        # Bottled and boxed products lose 1–2.5 % on the line; 豆腐干 weighs a fifth of all fed (黄浆水, 豆渣, 卤汁).
        target = fed * Decimal(str(self.rng.uniform(0.975, 0.99) if code != "DG" else self.rng.uniform(0.185, 0.195)))
        specs = self.factory.specs[code]
        units, left = [], target
        for spec, share in zip(specs, shares):
            count = int(min(left, target * Decimal(str(share))) / spec.net_content)
            units.append(count)
            left -= count * spec.net_content
        output = sum((spec.net_content * n for spec, n in zip(specs, units)), Decimal(0))
        self.complete(batch, output, at)
        self.inspect("finished", code, at + dt.timedelta(minutes=10), batch=batch, sample_quantity="5 件",
                     sampling_method="GB/T 2828.1 随机抽样", sample_base=f"{sum(units)} 件")
        inspector = self.rng.choice(self.factory.crew("inspectors"))
        self.clock.set(at + dt.timedelta(minutes=15))
        quality.keep_sample(self.session, {
            "batch_id": batch.id, "name": batch.product.name, "spec": keep[0], "quantity": keep[1], "unit": keep[2],
            "production_date": day, "kept_on": day, "location": SAMPLE_PLACES[code],
            "disposal_date": batch.expiry_date + dt.timedelta(days=1), "keeper_id": inspector.id,
        })
        packer, keeper = self.factory.person("packer"), self.factory.person("keeper")
        for number, (spec_row, spec, n) in enumerate(zip(data.SPECS[code], specs, units)):
            if n == 0:
                continue
            begin = at + dt.timedelta(minutes=20 + 50 * number)
            end = begin + dt.timedelta(minutes=45)
            self.clock.set(end)
            commodity = distribution.pack(self.session, batch, spec, n, {
                "team": packer.team, "packed_from": begin, "packed_to": end, "label_checked": True,
                "operator_id": packer.id,
            })
            for material, per_unit in spec_row[3]:
                self.stores.pack(batch, material, n * per_unit, end, packer)
            if spec_row[4]:
                carton, per_carton = spec_row[4]
                self.stores.pack(batch, carton, math.ceil(n / per_carton), end, packer)
            stored = end + dt.timedelta(minutes=10)
            self.clock.set(stored)
            distribution.move_goods(self.session, commodity, self.factory.warehouses["W04"], "in", n, {
                "moved_at": stored, "status": "待检", "temperature_c": f"{self.rng.uniform(1.5, 3.8):.1f}",
                "handed_over_by": packer.id, "received_by": keeper.name,
            })
            self.release(commodity, max(self.clock.on(day, 15, 0), stored + dt.timedelta(minutes=20)))
            self.plan_deliveries(commodity, spec.spec, day)

    def release(self, commodity: CommodityBatch, at: dt.datetime) -> None:
        """G§40: the release inspection with the label check, then release by the quality manager."""
        self.inspect("release", commodity.spec.product.code, at, commodity=commodity, sample_quantity="3 件",
                     sampling_method="随机抽样",
                     label_check_passed=True,
                     label_check_notes="标签内容符合 GB 7718-2011、GB 28050-2011；生产日期、批号喷码清晰，与商品批次一致")
        manager = self.factory.person("quality_manager")
        self.clock.set(at + dt.timedelta(minutes=40))
        distribution.release(self.session, commodity, by=manager.id, at=at + dt.timedelta(minutes=40))

    def cleaning(self, day: dt.date, line: str, batch: ProductBatch, area: str, hour: int) -> None:
        operator = self.factory.crew("base" if line == "L01" else "dried")[0]
        self.record(batch, "cleaning_record", self.clock.on(day, hour, 30), operator,
                    line_id=self.factory.lines[line].id, area=area,
                    checks="设备、管道、地面无残留物料；工器具归位；无上批标签、包装材料遗留",
                    agents="1.5% 氢氧化钠 CIP 75 ℃ 15 min → 清水 → 0.8% 硝酸 65 ℃ 10 min → 清水 → 200 mg/L 二氧化氯消毒",
                    validation=f"末次冲洗水 pH {self.rng.uniform(6.8, 7.4):.1f}；"
                               f"ATP 涂抹 {self.rng.randint(18, 95)} RLU（≤150 RLU 合格）")

    # ---------------------------------------------------------- distribution

    def plan_deliveries(self, commodity: CommodityBatch, spec: str, day: dt.date) -> None:
        """Split a commodity batch among two or three buyers, shipped on the next one or two days."""
        buyers = [c for kind in BUYERS[spec] for c in self.factory.customers[kind]]
        forced = day == self.recall_day and spec == "200 g/袋"  # the recalled batch reaches three supermarkets
        chosen = buyers[:3] if forced else self.rng.sample(buyers, min(len(buyers), self.rng.randint(2, 3)))
        weights = [self.rng.uniform(0.6, 1.4) for _ in chosen]
        trips: dict[dt.date, list] = defaultdict(list)
        remaining = commodity.units
        for number, (customer, weight) in enumerate(zip(chosen, weights)):
            units = remaining if number == len(chosen) - 1 else max(1, int(commodity.units * weight / sum(weights)))
            remaining -= units
            when = day + dt.timedelta(days=1 + (number % 2 if forced else self.rng.randint(0, 1)))
            if units > 0 and when < self.clock.anchor and when < commodity.expiry_date:
                trips[when].append((customer, units))
        for when, drops in trips.items():
            at = dt.datetime.combine(when, dt.time(6, self.rng.randint(0, 30)))
            self.events[when].append(lambda c=commodity, d=drops, t=at: self.ship(c, d, t))

    def ship(self, commodity: CommodityBatch, drops, at: dt.datetime) -> None:
        """One refrigerated-truck trip: one issue from the cold store, one sale per customer."""
        if commodity.status != "released":
            return  # recalled before it left
        self.clock.set(at)
        keeper, clerk = self.factory.person("keeper"), self.factory.person("clerk")
        vehicle = self.rng.choice(VEHICLES)
        distribution.move_goods(self.session, commodity, self.factory.warehouses["W04"], "out",
                                sum(units for _, units in drops), {
            "moved_at": at, "status": "已出库", "temperature_c": f"{self.rng.uniform(1.5, 3.8):.1f}",
            "handed_over_by": keeper.id, "received_by": clerk.name,
        })
        for number, (customer, units) in enumerate(drops):
            self.confirmations += 1
            self.clock.set(at + dt.timedelta(minutes=40 * (number + 1)))
            delivery = distribution.deliver(self.session, commodity, customer, units, {
                "sale_date": at.date(),
                "cold_chain": f"冷藏车 0～4 ℃，全程温度记录（到货 {self.rng.uniform(2.0, 4.0):.1f} ℃）",
                "vehicle": vehicle, "warehouse_id": self.factory.warehouses["W04"].id, "clerk_id": clerk.id,
            })
            # The driver brings the signed 交付确认单 back the same day.
            distribution.confirm_delivery(self.session, delivery, f"QS{at:%Y%m%d}{self.confirmations:04d}", at.date(),
                                          customer.contact_person or customer.name)

    # ---------------------------------------------------------------- recall

    def recall(self, batch: ProductBatch) -> None:
        """R2.8: a supermarket reports swollen bags; the whole batch is recalled,
        returns are counted per customer, the goods destroyed under supervision."""
        day = self.clock.on(batch.production_date + dt.timedelta(days=5), 9, 0)
        manager, technician = self.factory.person("quality_manager"), self.factory.person("technician")
        first = self.session.scalars(
            select(Delivery).join(CommodityBatch).where(CommodityBatch.product_batch_id == batch.id).order_by(Delivery.id)
        ).first()
        record = distribution.recall(self.session, batch, {
            "started_on": day.date(), "source": f"客户投诉（{first.customer.name}）", "level": "三级",
            "reason": f"{first.customer.name}反映批号 {batch.batch_no} 的五香豆腐干部分包装胀袋。企业检查留样发现 3 袋中 1 袋"
                      "封口处有微小漏气，判断为真空封口机加热条老化导致封口不严，杀菌后二次污染可能引起胀袋；"
                      "为防范风险，主动召回该批次全部产品。",
            "manager_id": manager.id,
        })
        self.record(batch, "process_record", day + dt.timedelta(minutes=30), technician, kind="emergency", step="真空包装",
                    description="接到胀袋投诉后启动召回；检查留样与库存产品封口，确认真空封口机 2 号加热条老化",
                    measures="真空封口机停用维修，更换加热条和硅胶垫；库存产品隔离并挂“召回待处理”标识",
                    verification="维修后连续 3 次封口强度和浸水密封性试验合格，恢复使用")
        self.events[day.date() + dt.timedelta(days=1)].append(lambda: self.returns(record))

    def returns(self, record) -> None:
        progress = self.session.scalars(
            select(RecallProgress).where(RecallProgress.recall_id == record.id)
            .order_by(RecallProgress.delivery_id)).all()
        returned: dict[int, int] = defaultdict(int)
        day = record.started_on + dt.timedelta(days=1)
        for row in progress:
            delivery = self.session.get(Delivery, row.delivery_id)
            units = max(1, int(delivery.units * self.rng.uniform(0.72, 0.92)))
            self.clock.on(day, 10, 0)
            distribution.record_return(self.session, row, units, day)
            returned[delivery.commodity_batch_id] += units
        keeper = self.factory.person("keeper")
        for commodity_id, units in returned.items():
            commodity = self.session.get(CommodityBatch, commodity_id)
            at = self.clock.on(day, 16, 0)
            distribution.move_goods(self.session, commodity, self.factory.warehouses["W04"], "in", units, {
                "moved_at": at, "status": "召回隔离", "temperature_c": "2.6", "handed_over_by": keeper.id,
                "received_by": keeper.name,
            })
        self.events[day + dt.timedelta(days=2)].append(lambda: self.destroy(record, returned))

    def destroy(self, record, returned: dict[int, int]) -> None:
        day = record.started_on + dt.timedelta(days=3)
        keeper, manager = self.factory.person("keeper"), self.factory.person("quality_manager")
        commodities = self.session.scalars(
            select(CommodityBatch).where(CommodityBatch.product_batch_id == record.product_batch_id)
            .order_by(CommodityBatch.id)).all()
        for commodity in commodities:
            units = commodity.units_on_hand + returned.get(commodity.id, 0)
            at = self.clock.on(day, 9, 30)
            distribution.move_goods(self.session, commodity, self.factory.warehouses["W04"], "out", units, {
                "moved_at": at, "status": "销毁出库", "handed_over_by": keeper.id, "received_by": "上海松清环境服务有限公司",
            })
            distribution.destroy(self.session, {
                "recall_id": record.id, "product_batch_id": record.product_batch_id, "commodity_batch_id": commodity.id,
                "destroyed_at": at + dt.timedelta(hours=1), "place": "上海松清环境服务有限公司（松江区泖港镇）湿垃圾处理站",
                "method": "破袋后粉碎，作为湿垃圾无害化处理", "units": units,
                "quantity": commodity.spec.net_content * units,
                "people": f"{manager.name}、{keeper.name}、{self.factory.person('technician').name}",
                "supervisors": "松江区市场监督管理局车墩市场监管所 执法人员 2 名",
                "notes": "销毁过程全程录像，照片及处理单位出具的处置证明附后",
            })
        self.events[day + dt.timedelta(days=4)].append(lambda: self.close(record))

    def close(self, record) -> None:
        self.clock.on(record.started_on + dt.timedelta(days=7), 14, 0)
        distribution.close_recall(
            self.session, record,
            regulator_opinion="松江区市场监督管理局：经核查，企业已按《食品召回管理办法》实施三级召回，召回产品已在监督下无害化处理；"
                              "同意结束召回，企业应落实整改措施并于 30 日内提交整改报告。",
            corrective_measures="1. 更换真空封口机加热条、硅胶垫，纳入每月预防性维护；2. 封口工序每小时抽 5 袋做浸水密封性检查并记录；"
                                "3. 杀菌后冷却水余氯每班检测；4. 对包装班进行封口质量培训与考核；5. 修订《真空包装作业指导书》。",
        )
