"""R4.3: the recall drill's report — drill.pdf (scope, quantities, mass
balance with its discrepancies flagged, customers with contacts, the elapsed
time against the 4 h and 24 h benchmarks) and drill.xlsx (the FSMA-204-style
sortable sheet of trace_sheet, plus the customers and their quantities)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer
from sqlalchemy.orm import Session

from app.files import written_atomically
from app.services.recall_drill import Drill
from app.ledgers.choices import BATCH_STATUS

from . import fonts
from .layout import LEFT, PAGE_H, PAGE_W, RIGHT, WIDTH, Styles, cell, grid, para
from .ledger_export import enterprise_name, saved_atomically
from .sheet import Column, SheetWriter
from .trace_sheet import COLUMNS as EVENT_COLUMNS
from .trace_sheet import trace_rows

RED = colors.HexColor("#b00000")
# The PDF lists this many sale lines; the sheet has them all (a recall of the
# salt lot has 33,000: 800 pages that no one reads on paper, 60 s to lay out).
SALE_LINES = 300


def fmt(value) -> str:
    """A quantity without trailing zeros (12.500 → 12.5)."""
    text = format(value.normalize() if hasattr(value, "normalize") else value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
CUSTOMER_COLUMNS = (
    Column("客户", 24), Column("联系人", 10), Column("联系电话", 14), Column("地址", 30),
    Column("发货数量（件）", 10, "int"), Column("销售单数", 8, "int"), Column("涉及商品批次", 30),
)


@dataclass
class Written:
    pdf: Path
    xlsx: Path
    seconds: float  # writing both files


def write(session: Session, drill: Drill, folder: str | os.PathLike) -> Written:
    """drill.pdf and drill.xlsx in ``folder`` (made when missing)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    pdf, xlsx = out / "drill.pdf", out / "drill.xlsx"
    with written_atomically(pdf) as partial:
        write_pdf(session, drill, partial)
    write_xlsx(session, drill, xlsx)
    return Written(pdf, xlsx, time.perf_counter() - clock)


# ------------------------------------------------------------------- sheet


def customer_rows(drill: Drill) -> list[list[object]]:
    rows = []
    for c in drill.customers:
        lots = "、".join(dict.fromkeys(d["lot_code"] for d in c["deliveries"]))
        rows.append([c["name"], c.get("contact_person") or "", c.get("phone") or "", c.get("address") or "",
                     c["units_delivered"], len(c["deliveries"]), lots])
    return rows


def write_xlsx(session: Session, drill: Drill, path: str | os.PathLike) -> None:
    name = enterprise_name(session)
    with saved_atomically(path) as wb:
        ws = wb.create_sheet(title="追溯事件")
        events = trace_rows(session, drill.result)
        writer = SheetWriter(ws, EVENT_COLUMNS, " ".join(p for p in (name, "召回演练 追溯事件") if p),
                             f"演练 {drill.audit_no}：从「{drill.number}」正向追溯，共 {len(events)} 个关键追溯事件")
        for row in events:
            writer.append(row)
        writer.close()
        ws = wb.create_sheet(title="客户与数量")
        writer = SheetWriter(ws, CUSTOMER_COLUMNS, " ".join(p for p in (name, "召回演练 客户清单") if p),
                             f"客户 {len(drill.customers)} 家，发货共 {drill.units_shipped} 件")
        for row in customer_rows(drill):
            writer.append(row)
        writer.close()


# --------------------------------------------------------------------- pdf


def _table(st: Styles, head: list[str], rows: list[list[str]], widths_mm: list[float], red_rows=()) -> object:
    widths = [w * mm for w in widths_mm]
    scale = WIDTH / sum(widths)
    widths = [w * scale for w in widths]
    body = [[cell(h, st.head, w) for h, w in zip(head, widths)]]
    body += [[cell(str(v), st.cell, w) for v, w in zip(row, widths)] for row in rows]
    extra = [("TEXTCOLOR", (0, i + 1), (-1, i + 1), RED) for i in red_rows]
    return grid(body, widths, extra=extra)


def _elapsed(seconds) -> str:
    return f"{seconds} 秒" if seconds < 60 else f"{int(seconds) // 60} 分 {seconds % 60:.0f} 秒"


def write_pdf(session: Session, drill: Drill, path: str | os.PathLike) -> None:
    fonts.from_settings(session)
    st = Styles()
    r = drill.result
    story: list = [para(f"{enterprise_name(session)} 召回演练报告", st.title)]
    story.append(para(
        f"演练编号：{drill.audit_no}　　演练起点：{drill.number}　　开始时间：{drill.started_at:%Y-%m-%d %H:%M:%S}\n"
        f"完成受影响范围、客户清单及联系方式和物料平衡用时：{_elapsed(drill.seconds)}\n"
        + "；".join(drill.verdicts()), st.body))
    story += [Spacer(1, 3 * mm), para(
        f"范围：产品批 {len(r.product_batches)}，商品批次 {len(r.commodity_batches)}，销售记录 {len(r.deliveries)}，"
        f"发货共 {drill.units_shipped} 件，客户 {len(r.customers)} 家，物料批次 {len(r.material_lots)}", st.body)]
    story += [Spacer(1, 3 * mm), para("一、受影响的产品批与商品批次", st.cover)]
    story.append(_table(st, ["产品批号", "产品", "生产日期", "产出", "结存", "状态"], [
        [b["batch_no"], b["product"], b["production_date"],
         f"{fmt(b['output_quantity'])} {b['unit']}" if b["output_quantity"] is not None else "未完工",
         f"{fmt(b['quantity_on_hand'] or 0)} {b['unit']}", BATCH_STATUS.get(b["status"], b["status"])] for b in r.product_batches
    ] or [["（从商品批次或销售单起追溯：见商品批次）", "", "", "", "", ""]], [30, 35, 20, 25, 25, 15]))
    story.append(Spacer(1, 2 * mm))
    story.append(_table(st, ["商品批号", "产品与规格", "来自产品批", "包装（件）", "已销售（件）", "在库（件）"], [
        [c["lot_code"], f"{c['product']} {c['spec']}", c["batch_no"], c["units"], c["units_delivered"],
         c["units_on_hand"]] for c in r.commodity_batches], [32, 40, 30, 18, 18, 18]))
    story += [Spacer(1, 3 * mm), para("二、客户及联系方式", st.cover)]
    story.append(_table(st, ["客户", "联系人", "联系电话", "地址", "发货（件）", "商品批次"],
                        [row[:5] + [row[6]] for row in customer_rows(drill)], [35, 15, 25, 45, 15, 35]))
    story += [Spacer(1, 3 * mm), para("三、物料平衡", st.cover)]
    balance = drill.balance
    batches = balance["product_batches"]
    story.append(_table(st, ["产品批号", "投料", "产出", "损耗", "包装", "投入他批", "结存", "判定"], [
        [b["batch_no"], fmt(b["fed"]), fmt(b["produced"]) if b["produced"] is not None else "—", fmt(b["losses"]),
         fmt(b["packed"]), fmt(b["fed_onward"]), fmt(b["on_hand"]), "异常" if b["flagged"] else "平衡"]
        for b in batches] or [["—"] * 8], [30, 16, 16, 14, 16, 16, 16, 12],
        red_rows=[i for i, b in enumerate(batches) if b["flagged"]]))
    lots = balance["material_lots"]
    if lots:
        story.append(Spacer(1, 2 * mm))
        story.append(_table(st, ["物料批号", "收货", "领用", "报废", "结存", "差异", "判定"], [
            [m["lot_no"], fmt(m["received"]), fmt(m["issued"]), fmt(m["written_off"]), fmt(m["in_stock"]),
             f"{fmt(m['discrepancy'])} {m['unit']}", "异常" if m["flagged"] else "平衡"] for m in lots],
            [32, 18, 18, 16, 18, 20, 12], red_rows=[i for i, m in enumerate(lots) if m["flagged"]]))
    flags = drill.flags()
    story.append(Spacer(1, 2 * mm))
    story.append(para("物料平衡异常：\n" + "\n".join(flags) if flags else "物料平衡：未发现异常", st.body))
    story += [Spacer(1, 3 * mm), para("四、销售记录", st.cover)]
    shown = r.deliveries[:SALE_LINES]
    story.append(_table(st, ["销售单号", "商品批号", "客户", "数量（件）", "销售日期", "已确认交付"], [
        [d["delivery_no"], d["lot_code"], d["customer"], d["units"], d["sale_date"], "是" if d["confirmed"] else "否"]
        for d in shown] or [["—"] * 6], [30, 32, 45, 15, 20, 15]))
    if len(r.deliveries) > len(shown):
        story.append(para(f"另有销售记录 {len(r.deliveries) - len(shown)} 条，完整清单见 drill.xlsx（追溯事件表）", st.body))
    story += [Spacer(1, 6 * mm), para("演练负责人：＿＿＿＿＿＿　　质量负责人：＿＿＿＿＿＿　　日期：＿＿＿＿＿＿", st.body)]
    doc = SimpleDocTemplate(str(path), pagesize=(PAGE_W, PAGE_H), leftMargin=LEFT, rightMargin=RIGHT,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=f"召回演练报告 {drill.audit_no}")

    def footer(canvas, document):
        canvas.setFont(fonts.FONT, 8)
        canvas.drawCentredString(PAGE_W / 2, 8 * mm, f"召回演练报告 {drill.audit_no}　第 {document.page} 页")

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
