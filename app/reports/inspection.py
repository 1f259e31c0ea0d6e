"""R7.1: one workbook for an inspection — a cover sheet listing the ledgers,
then one sheet per chosen ledger for the period, each in the printed layout."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet.hyperlink import Hyperlink
from sqlalchemy.orm import Session

from app import clock
from app.errors import UserError
from app.ledgers import ledger

from .ledger_export import Report, enterprise_name, period_filters, saved_atomically, write_ledger_sheet
from .sheet import Column, SheetWriter

COVER = "目录"
COVER_COLUMNS = (Column("序号", 6, "int"), Column("台账名称", 24), Column("工作表", 24), Column("日期栏目", 14),
                 Column("记录行数", 10, "int"))


def export_inspection(session: Session, ledger_keys: Sequence[str], path: str | os.PathLike,
                      date_from: dt.date | None = None, date_to: dt.date | None = None,
                      report: Report | None = None) -> dict[str, int]:
    """Write the chosen ledgers for the period to one file; rows per ledger key."""
    keys = list(dict.fromkeys(ledger_keys))
    if not keys:
        raise UserError("请至少选择一个台账")
    ledgers = [ledger(key) for key in keys]
    counts: dict[str, int] = {}
    with saved_atomically(path) as wb:
        cover = wb.create_sheet(title=COVER)  # first sheet; its rows are written once the counts are known
        taken = {COVER}
        listed = []
        for number, lg in enumerate(ledgers, start=1):
            def step(done: int, total: int, _text: str, number=number, title=lg.title) -> None:
                if report:
                    report(done, total, f"{number}/{len(ledgers)} {title}")

            filters = period_filters(lg, date_from, date_to)
            name, rows = write_ledger_sheet(session, wb, lg, filters, report=step, taken=taken)
            taken.add(name)
            counts[lg.key] = rows
            listed.append((number, lg, name, rows))
        _write_cover(session, cover, listed, date_from, date_to)
    return counts


def _write_cover(session: Session, ws, listed, date_from, date_to) -> None:
    period = f"{date_from.isoformat() if date_from else '不限'} 至 {date_to.isoformat() if date_to else '不限'}"
    title = " ".join(part for part in (enterprise_name(session), "检查用台账汇编") if part)
    subtitle = f"期间：{period}（无日期栏目的台账为全部记录）；编制日期：{clock.today().isoformat()}"
    writer = SheetWriter(ws, COVER_COLUMNS, title, subtitle)
    for number, lg, name, rows in listed:
        link = WriteOnlyCell(ws, name)
        link.hyperlink = Hyperlink(ref="", location=f"'{name}'!A1", display=name)
        link.style = "Hyperlink"
        date_label = lg.field(lg.date_field).label if lg.date_field and not lg.whole_list else "（全部）"
        writer.ws.append([number, lg.title, link, date_label, rows])
        writer.rows_written += 1
    writer.close()
