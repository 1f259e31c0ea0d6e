"""Purchasing and the material stores: goods are ordered when the stock of a
material will not cover the next issue, received the working day before,
inspected at the gate (R2.1) and issued first-in, first-out (R2.2); a lot
that empties closes its running ledger at zero."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from random import Random

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import MaterialLot, ProductBatch
from app.services import production, quality, receiving
from app.services.common import create

from . import data
from .clock import Clock
from .masterdata import Factory, test_items

# 花椒 bought cheaply near the end of its shelf life: the near-expiry story (G§19).
NEAR_EXPIRY = ("M104", 296)
# The second soybean delivery (from the cooperative) fails moisture and goes back.
REJECTED = ("M101", 1)
NEAR_EXPIRY_NOTICE = 14  # days before expiry the keeper acts

SUPPLIER_LOT_PREFIX = {"S01": "BK", "S02": "FH", "S03": "RK", "S04": "HJ", "S05": "JS", "S06": "HT", "S07": "ST",
                       "S08": "WY", "S09": "JS", "S10": "TH", "S11": "HD", "S12": "HS", "S13": "JY", "S14": "SP"}


def q(value) -> Decimal:
    """A quantity to the gram (the columns keep three decimals)."""
    return Decimal(str(value)).quantize(Decimal("0.001"))


def text(quantity: Decimal) -> str:
    """A quantity as a person writes it: 1500, 12.5."""
    return format(quantity.normalize(), "f")


class Stores:
    def __init__(self, session: Session, factory: Factory, clock: Clock, rng: Random):
        self.session, self.factory, self.clock, self.rng = session, factory, clock, rng
        self.lots: dict[str, list[MaterialLot]] = defaultdict(list)
        self.orders: dict[str, int] = defaultdict(int)
        self.handled: set[int] = set()

    # ------------------------------------------------------------ receiving

    def _usable(self, code: str, day: dt.date) -> Iterator[MaterialLot]:
        for lot in self.lots[code]:
            fresh = lot.expiry_date is None or lot.expiry_date >= day
            if lot.status == "available" and lot.quantity_on_hand > 0 and fresh:
                yield lot

    def order(self, code: str, day: dt.date, at_least: Decimal) -> MaterialLot:
        """Goods ordered for ``day`` arrive the afternoon before."""
        suppliers, size, age, certificate = data.SUPPLY[code]
        number = self.orders[code]
        self.orders[code] += 1
        supplier = self.factory.suppliers[suppliers[number % len(suppliers)]]
        arrival = self.clock.on(day - dt.timedelta(days=1), 14, 30)
        quantity = max(q(size), q(at_least))
        if (code, number) == REJECTED:
            self._reject(code, supplier, arrival, quantity)
            supplier = self.factory.suppliers[suppliers[0]]
        old = NEAR_EXPIRY[1] if (code, number) == (NEAR_EXPIRY[0], 0) else self.rng.randint(*age)
        lot = self._receive(code, supplier, arrival, quantity, old, certificate, "accepted")
        self.lots[code].append(lot)
        return lot

    def _receive(self, code, supplier, arrival: dt.datetime, quantity: Decimal, old: int, certificate: str,
                 decision: str, moisture: str | None = None) -> MaterialLot:
        material = self.factory.materials[code]
        made = arrival.date() - dt.timedelta(days=old)
        supplier_code = next(k for k, v in self.factory.suppliers.items() if v is supplier)
        inspector = self.rng.choice(self.factory.crew("inspectors"))
        values = {
            "material_id": material.id, "supplier_id": supplier.id, "spec": material.spec, "quantity": quantity,
            "unit": material.unit, "production_date": made,
            "supplier_lot": f"{SUPPLIER_LOT_PREFIX[supplier_code]}{made:%y%m%d}{self.rng.randint(1, 9):02d}",
            "shelf_life_days": material.shelf_life_days, "receipt_date": arrival.date(),
            "certificate_kind": certificate,
            "certificate_no": f"{SUPPLIER_LOT_PREFIX[supplier_code]}-JC{made:%Y%m}{self.rng.randint(100, 999)}",
            "decision": decision, "inspector_id": inspector.id,
            "warehouse_id": None if material.category == "water" else self.factory.warehouses[
                "W02" if material.category == "packaging" else "W01"].id,
        }
        if code == "M101":
            values.update(
                own_sample_base=f"{text(quantity)} kg（{int(quantity / 50)} 袋）",
                own_sampling_method="GB/T 5491-1985 四分法扦样",
                own_sample_size="2 kg",
                own_test_summary=("水分 GB 5009.3（≤13.0%）、杂质与损伤粒 GB/T 5494（≤1.0%、≤3.0%）、色泽气味 GB/T 5492："
                                  + ("水分不符合要求，判不合格" if moisture else "均符合 GB 1352-2023 一等要求，判合格")),
                contaminant_values="铅 0.03 mg/kg（限量 0.2，GB 2762-2022）；赭曲霉毒素 A 未检出（GB 2761-2017）",
                trace_code=f"23{made:%y%m%d}{self.rng.randint(10**7, 10**8 - 1)}" if supplier_code == "S01" else None,
            )
        if material.category == "packaging":
            values["contaminant_values"] = "总迁移量、高锰酸钾消耗量、重金属（以 Pb 计）均符合 GB 4806.7-2023（型式检验报告）"
        receipt = receiving.receive(self.session, values)
        lot = self.session.scalar(select(MaterialLot).where(MaterialLot.receipt_id == receipt.id))
        if code == "M101":
            self._inspect_soybeans(receipt, arrival, inspector, moisture)
        return lot

    def _inspect_soybeans(self, receipt, arrival: dt.datetime, inspector, moisture: str | None) -> None:
        items = test_items(self.session, self.factory, "incoming", "M101", self.rng,
                           {"水分": moisture} if moisture else None)
        sampled = self.clock.set(arrival + dt.timedelta(minutes=20))
        quality.inspect(self.session, {
            "kind": "incoming", "receipt_id": receipt.id, "sampled_at": sampled,
            "sample_quantity": "2 kg", "sampling_method": "GB/T 5491-1985 四分法",
            "sample_base": f"{text(receipt.quantity)} kg",
            "inspector_id": inspector.id, "reviewer_id": self.factory.person("quality_manager").id,
        }, items)

    def _reject(self, code, supplier, arrival: dt.datetime, quantity: Decimal) -> None:
        """A soybean lot that fails moisture: rejected at the gate, then sent back."""
        lot = self._receive(code, supplier, arrival, quantity, self.rng.randint(60, 90), "第三方检验报告", "rejected",
                            moisture="15.6%")
        self.lots[code].append(lot)
        back = self.clock.set(arrival + dt.timedelta(hours=2))
        receiving.write_off(self.session, lot, lot.quantity_on_hand, back,
                            "进货查验水分 15.6% 超过 GB 1352-2023 规定的 13.0%，拒收，整车退回供应商（退货单 TH-"
                            f"{back:%Y%m%d}-01）")

    # -------------------------------------------------------------- issuing

    def take(self, code: str, quantity: Decimal, day: dt.date) -> Iterator[tuple[MaterialLot, Decimal]]:
        """Lots and quantities that cover ``quantity``, oldest first; orders more when short.

        The caller issues each part before asking for the next one."""
        need = q(quantity)
        while need > 0:
            lot = next(self._usable(code, day), None)
            if lot is None:
                back = self.session.info.get("now")
                lot = self.order(code, day, need)
                self.clock.set(back)
            part = min(need, lot.quantity_on_hand)
            yield lot, part
            need -= part

    def feed(self, batch: ProductBatch, code: str, quantity, at: dt.datetime, operator, method: str | None = None,
             purpose: str | None = None) -> None:
        for lot, part in self.take(code, quantity, at.date()):
            production.feed_lot(self.session, batch, lot, part, operator_id=operator.id, fed_at=at, method=method,
                                purpose=purpose)

    def pack(self, batch: ProductBatch, code: str, used: int, at: dt.datetime, operator) -> None:
        """G§33: packaging material issued, used and wasted, one record per lot."""
        wasted = self.rng.randint(0, max(1, used // 400))
        remaining_used, remaining_wasted = used, wasted
        for lot, part in self.take(code, used + wasted, at.date()):
            part_used = min(remaining_used, int(part))
            part_wasted = int(part) - part_used
            remaining_used -= part_used
            remaining_wasted -= part_wasted
            production.add_record(self.session, "packaging_record", batch, {
                "material_lot_id": lot.id, "issued": part, "used": part_used, "wasted": part_wasted,
                "recorded_at": at, "operator_id": operator.id,
            })

    # --------------------------------------------------------- near expiry

    def check_expiry(self, day: dt.date) -> None:
        """G§19: a lot close to its expiry date goes back to the supplier for exchange."""
        keeper = self.factory.person("keeper")
        for lots in self.lots.values():
            for lot in lots:
                if (lot.id in self.handled or lot.status != "available" or lot.expiry_date is None
                        or lot.quantity_on_hand <= 0 or (lot.expiry_date - day).days > NEAR_EXPIRY_NOTICE):
                    continue
                self.handled.add(lot.id)
                at = self.clock.on(day, 16, 0)
                quantity = lot.quantity_on_hand
                create(self.session, "near_expiry_handling", {
                    "lot_id": lot.id, "handled_on": day, "quantity": quantity, "action": "退货调换",
                    "notes": f"{lot.material.name}批次 {lot.lot_no} 将于 {lot.expiry_date} 到期，剩余 {text(quantity)} {lot.unit}"
                             "，经质量负责人批准退回供应商调换新批次；已在库位挂“临近保质期”标识",
                    "person_id": keeper.id,
                })
                receiving.write_off(self.session, lot, quantity, at,
                                    f"临近保质期（{lot.expiry_date} 到期）退回供应商调换")
