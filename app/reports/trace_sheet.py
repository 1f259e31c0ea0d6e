"""R4, R7.1: a trace or recall drill as one flat, sortable sheet in the style
of the FDA's FSMA 204 sortable spreadsheet — one row per critical tracking
event (receiving, feeding, production, packing, shipping) with the lot,
quantity and unit, product, previous source and next recipient, location,
date and reference document. The column names are ours, in Chinese; FSMA
204's own list is only the model for what a row holds."""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import IncomingInspection, MaterialLot
from app.services import users
from app.services.trace import DIRECTIONS, TraceResult

from .ledger_export import Report, enterprise_name, saved_atomically
from .sheet import Column, SheetWriter

COLUMNS = (
    Column("关键追溯事件", 10), Column("追溯批号", 16), Column("数量", 10, "decimal"), Column("单位", 6),
    Column("产品或物料", 20), Column("上一来源", 24), Column("下一接收方", 24), Column("地点", 24),
    Column("日期", 11, "date"), Column("参考单据", 16),
)
EVENT_ORDER = {"接收": 0, "投料": 1, "生产": 2, "包装": 3, "销售发货": 4}


def trace_rows(session: Session, result: TraceResult) -> list[list[object]]:
    """The events of ``result``, ordered by date and then along the chain."""
    here = enterprise_name(session) or "本厂"
    receipts = {}
    lot_ids = [lot["id"] for lot in result.material_lots]
    if lot_ids:
        receipts = {row.id: row for row in session.execute(
            select(MaterialLot.id, IncomingInspection.receipt_no, IncomingInspection.receipt_date)
            .join(IncomingInspection, IncomingInspection.id == MaterialLot.receipt_id)
            .where(MaterialLot.id.in_(lot_ids)))}
    batches = {b["batch_no"]: b for b in result.product_batches}
    commodities = {c["lot_code"]: c for c in result.commodity_batches}
    customers = {c["name"]: c for c in result.customers}
    buyers = {d["delivery_no"]: d["customer"] for d in result.deliveries}
    rows: list[list[object]] = []
    for lot in result.material_lots:
        receipt = receipts.get(lot["id"])
        rows.append(["接收", lot["lot_no"], lot["quantity_received"], lot["unit"], lot["material"],
                     f"{lot.get('supplier', '')}（供应商批号 {lot['supplier_lot']}）", here, here,
                     receipt.receipt_date if receipt else None, receipt.receipt_no if receipt else ""])
    for source in (*result.material_lots, *result.product_batches):
        number = source.get("lot_no") or source["batch_no"]
        name = source.get("material") or source.get("product")
        for link in source.get("fed_into", ()):
            target = batches.get(link["batch_no"], {})
            rows.append(["投料", number, link["quantity"], link["unit"], name, number, link["batch_no"], here,
                         target.get("production_date"), link["batch_no"]])
    for batch in result.product_batches:
        onward = [*batch.get("packed_into", ()), *batch.get("fed_into", ())]
        rows.append(["生产", batch["batch_no"], batch["output_quantity"], batch["unit"], batch["product"],
                     "、".join(i.get("lot_no") or i.get("batch_no") for i in batch.get("inputs", ())),
                     "、".join(link.get("lot_code") or link.get("batch_no") for link in onward), here,
                     batch["production_date"], batch["batch_no"]])
    for c in result.commodity_batches:
        rows.append(["包装", c["lot_code"], c["units"], "件", f"{c['product']} {c['spec']}", c["batch_no"],
                     "、".join(dict.fromkeys(buyers.get(d["delivery_no"], "") for d in c.get("deliveries", ()))), here, c["production_date"], c["lot_code"]])
    for d in result.deliveries:
        c = commodities.get(d["lot_code"], {})
        customer = customers.get(d["customer"], {})
        rows.append(["销售发货", d["lot_code"], d["units"], "件",
                     f"{c['product']} {c['spec']}" if c else "", here, d["customer"], customer.get("address", ""),
                     d["sale_date"], d["delivery_no"]])
    rows.sort(key=lambda r: (r[8] is None, r[8] or 0, EVENT_ORDER[r[0]], str(r[1])))
    return rows


def export_trace(session: Session, result: TraceResult, path: str | os.PathLike, report: Report | None = None) -> int:
    """The flat trace sheet in ``path``; the number of event rows."""
    users.require(session, "export")
    rows = trace_rows(session, result)
    with saved_atomically(path) as wb:
        ws = wb.create_sheet(title="追溯结果")
        title = " ".join(p for p in (enterprise_name(session), "追溯结果") if p)
        subtitle = (f"{DIRECTIONS[result.direction]}追溯「{result.query}」；物料批次 {len(result.material_lots)}，"
                    f"产品批 {len(result.product_batches)}，商品批次 {len(result.commodity_batches)}，"
                    f"销售记录 {len(result.deliveries)}；共 {len(rows)} 个追溯事件")
        writer = SheetWriter(ws, COLUMNS, title, subtitle)
        for done, row in enumerate(rows, start=1):
            writer.append(row)
            if report and done % 1000 == 0:
                report(done, len(rows), "")
        writer.close()
    return len(rows)
