"""R4.3, S§5(4): a recall drill (召回演练) — the affected set of a lot, the
customers with their contacts and the mass balance, timed, and recorded in
the internal audit log. Nothing else is written: a drill recalls nothing.

The clock runs from the start of the drill until the affected set, the
customer list and the mass balance are complete (the computer's part of a
drill); it is measured with ``time.perf_counter`` — an elapsed time, not a
date, so it is not on the program's clock (app/clock.py).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from app.models import InternalAudit

from . import internal_audit, trace, users
from .common import now

# Benchmarks the report compares the elapsed time with: a retailer's mock
# recall expects the customer list within 4 hours; FSMA 204 asks for the
# sortable spreadsheet within 24 hours of the FDA's request.
BENCHMARKS = ((4 * 3600, "零售商模拟召回要求 4 小时内"), (24 * 3600, "FSMA 204 要求 24 小时内提交可排序电子表格"))


@dataclass
class Drill:
    number: str
    started_at: dt.datetime
    seconds: Decimal
    result: trace.TraceResult  # forward: the affected set and the customers
    balance: dict  # the mass balance of the batches and lots behind it
    audit_no: str

    @property
    def customers(self) -> list[dict]:
        return self.result.customers

    @property
    def units_shipped(self) -> int:
        return sum(d["units"] for d in self.result.deliveries)

    def flags(self) -> list[str]:
        return [flag for key in ("material_lots", "product_batches") for entry in self.balance[key]
                for flag in entry["flags"]]

    def verdicts(self) -> list[str]:
        return [f"{label}：{'达到' if self.seconds <= limit else '未达到'}" for limit, label in BENCHMARKS]

    def summary(self) -> str:
        r = self.result
        return (f"演练「{self.number}」用时 {self.seconds} 秒：产品批 {len(r.product_batches)}，商品批次 "
                f"{len(r.commodity_batches)}，销售记录 {len(r.deliveries)}（{self.units_shipped} 件），客户 "
                f"{len(r.customers)}；物料平衡" + (f"异常 {len(self.flags())} 项" if self.flags() else "未发现异常"))


def run(session: Session, number: str) -> Drill:
    """Run a drill from ``number`` (a lot, supplier lot, batch, commodity lot
    or delivery) and record it in the internal audit log."""
    users.require(session, "enter", "internal_audit")
    started_at = now(session)
    clock = time.perf_counter()
    result = trace.trace(session, number, "forward")
    # A forward trace does not go back to the lots a batch was made from, nor
    # from a commodity lot to its batch: what it lacks the backward trace gives.
    balance = dict(result.mass_balance)
    if not balance["product_batches"] or not balance["material_lots"]:
        behind = trace.trace(session, number, "backward").mass_balance
        for key in ("product_batches", "material_lots"):
            balance[key] = balance[key] or behind[key]
    seconds = Decimal(str(round(time.perf_counter() - clock, 3)))
    drill = Drill(number.strip(), started_at, seconds, result, balance, "")
    record = internal_audit.record_drill(session, drill.number, started_at, seconds, drill.summary(),
                                         findings="；".join(drill.flags()) or None)
    drill.audit_no = record.audit_no
    return drill


def drills(session: Session) -> list[InternalAudit]:
    """Every drill in the internal audit log, newest first."""
    return internal_audit.drills(session)

