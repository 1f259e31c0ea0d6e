"""R7.1: a ledger as a printable spreadsheet, with the rows and order of the
ledger's table in the UI (the same ``LedgerQuery``), streamed a chunk of rows
at a time into an openpyxl write-only sheet; and the blank import template
in the same layout.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.files import written_atomically
from app.ledgers import Field, Ledger, ledger
from app.models import Enterprise
from app.services import entry, users
from app.services.ledger_query import Filters, LedgerQuery

from .ledger_columns import Layout, column_of, export_layout
from .sheet import HEADER_ROW, SheetWriter

CHUNK = 1000
Report = Callable[[int, int, str], None]
SHEET_NAME_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def enterprise_name(session: Session) -> str:
    return session.scalar(select(Enterprise.name).order_by(Enterprise.id).limit(1)) or ""


def sheet_name(title: str, taken: set[str] | None = None) -> str:
    """A valid, unused sheet name (31 characters, none of []:*?/\\)."""
    base = title.translate(SHEET_NAME_FORBIDDEN).strip("'")[:31] or "Sheet"
    name, number = base, 2
    while taken is not None and name in taken:
        suffix = f"({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    return name


def period_filters(lg: Ledger, date_from: dt.date | None, date_to: dt.date | None) -> Filters:
    """The filters a period export applies to ``lg``: none to a master list (a
    supplier qualified before the period is still qualified in it) nor to a
    ledger without a date."""
    if lg.whole_list or not lg.date_field:
        return Filters()
    return Filters(date_from=date_from, date_to=date_to)


def describe_filters(lg: Ledger, filters: Filters, shown: dict[str, str] | None = None) -> str:
    """The period and filters in words, for the second row of the sheet."""
    first, last = filters.date_from, filters.date_to
    if lg.date_field and (first or last):
        period = f"期间：{first.isoformat() if first else '不限'} 至 {last.isoformat() if last else '不限'}"
    elif lg.whole_list:
        period = "全部（名录不按期间筛选）"
    else:
        period = "期间：全部"
    parts = [period]
    if filters.search.strip():
        parts.append(f"包含“{filters.search.strip()}”")
    for name, value in (filters.equals or {}).items():
        field = lg.field(name)
        text = (shown or {}).get(name) or (field.display(value) if field.kind != "ref" else f"#{value}")
        parts.append(f"{field.label}：{text or '空'}")
    return "；".join(parts)


# ------------------------------------------------------------------ rows


def stream_rows(session: Session, query: LedgerQuery, layout: Layout, ids: Iterable[int],
                report: Report | None = None, total: int | None = None) -> Iterator[list[object]]:
    """Rows of ``layout`` for ``ids`` in that order, read CHUNK ids at a time; ``ids``
    may be a list or the ids a query streams (``total`` then says how many come)."""
    table = query.table
    fields = query.fields
    columns = [table.c.id, *(table.c[f.name] for f in fields)]
    # A row is (field values..., related values...); each cell picks its position.
    width = len(fields)
    picks = [index if source == "field" else width + index for source, index in layout.sources]
    shown_by = [(cell, fields[index]) for cell, (source, index) in enumerate(layout.sources)
                if source == "field" and fields[index].kind in ("ref", "choice", "bool")]
    n_extra = sum(1 for source, _ in layout.sources if source == "extra")
    missing = (None,) * n_extra
    total = len(ids) if total is None else total
    done = 0
    for chunk in _chunked(ids):
        raw = {row[0]: row[1:] for row in session.execute(select(*columns).where(table.c.id.in_(chunk)))}
        shown = _references(session, query, raw.values())
        extra = {row[0]: tuple(row[1:]) for row in session.execute(layout.extras.statement(chunk))} if layout.extras else {}
        for ident in chunk:
            values = raw.get(ident)
            if values is None:
                continue  # deleted since the ids were read
            combined = (*values, *extra.get(ident, missing))
            cells = [combined[i] for i in picks]
            for cell, field in shown_by:
                value = cells[cell]
                if value is not None:
                    cells[cell] = shown[field.name].get(value, f"#{value}") if field.kind == "ref" else field.display(value)
            yield cells
        done += len(chunk)
        if report:
            report(min(done, total), total, "")


def _chunked(ids: Iterable[int]) -> Iterator[list[int]]:
    chunk: list[int] = []
    for ident in ids:
        chunk.append(ident)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _references(session: Session, query: LedgerQuery, rows) -> dict[str, dict[int, str]]:
    """Field name -> {id: display text}: one query per looked-up table and column."""
    rows = list(rows)
    positions = {f.name: i for i, f in enumerate(query.fields)}
    wanted: dict = {}
    for name, target in query.targets.items():
        wanted.setdefault(target, set()).update(r[positions[name]] for r in rows if r[positions[name]] is not None)
    texts = {target: {i: target.write(v) for i, v in session.execute(target.ids_and_texts(ids))}
             for target, ids in wanted.items() if ids}
    return {name: texts.get(target, {}) for name, target in query.targets.items()}


# ------------------------------------------------------------------ sheets


def write_ledger_sheet(session: Session, wb: Workbook, lg: Ledger, filters: Filters = Filters(),
                       sort: tuple[int, bool] | None = None, report: Report | None = None,
                       taken: set[str] | None = None, shown: dict[str, str] | None = None) -> tuple[str, int]:
    """Add ``lg`` as a sheet of ``wb`` (write-only); (sheet name, rows written)."""
    users.require(session, "export", lg.key)
    query = LedgerQuery(lg, session.get_bind().dialect.name)
    column, descending = sort if sort is not None else query.default_sort()
    # The table's own statement, its ids streamed a chunk at a time: never all in memory.
    total = session.scalar(query.count(filters))
    ids = session.execute(query.ids(filters, column, descending).execution_options(yield_per=CHUNK)).scalars()
    layout = export_layout(lg)
    name = sheet_name(lg.title, taken)
    ws = wb.create_sheet(title=name)
    title = " ".join(part for part in (enterprise_name(session), lg.title) if part)
    subtitle = f"{describe_filters(lg, filters, shown)}；共 {total} 行；导出日期：{clock.today().isoformat()}"
    writer = SheetWriter(ws, layout.columns, title, subtitle)
    if report:
        report(0, total, lg.title)
    for row in stream_rows(session, query, layout, ids, report, total):
        writer.append(row)
    writer.close()
    return name, writer.rows_written


@contextmanager
def saved_atomically(path: str | os.PathLike):
    """A write-only workbook saved under a temporary name, renamed into ``path``
    only when complete: a failed or cancelled export leaves no half file, and
    a message names ``path`` (app/files.py)."""
    wb = Workbook(write_only=True)
    try:
        with written_atomically(path) as temporary:
            yield wb
            wb.save(temporary)
    except BaseException:
        _discard(wb)
        raise


def _discard(wb: Workbook) -> None:
    """Close the sheets' half-written streams in order and remove their temporary
    files (left to the garbage collector, they write into closed files)."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        try:
            if not ws.closed:
                ws.close()
            writer.cleanup()
        except (OSError, ValueError):
            pass


def export_ledger(session: Session, ledger_key: str, path: str | os.PathLike, filters: Filters = Filters(),
                  sort: tuple[int, bool] | None = None, report: Report | None = None,
                  shown: dict[str, str] | None = None) -> int:
    """Write one ledger to ``path`` with the filters the user chose; the number
    of rows. A period export goes through ``period_filters`` first."""
    lg = ledger(ledger_key)
    with saved_atomically(path) as wb:
        _, rows = write_ledger_sheet(session, wb, lg, filters, sort, report, shown=shown)
    return rows


# ------------------------------------------------------------------ templates


def importable_keys() -> list[str]:
    """Ledgers whose rows can be entered on a plain form, so imported from a sheet."""
    from app.ledgers import registry

    return sorted(key for key in registry() if entry.plain_form(key))


def ledger_list(keys: list[str]) -> str:
    """``key  title`` lines, for the command line's --help."""
    from app.ledgers import registry

    return "\n".join(f"  {key:<28}{registry()[key].title}" for key in keys)


def template_fields(lg: Ledger) -> list[Field]:
    fixed = set(entry.fixed_fields(lg.key))
    return [f for f in lg.fields if f.name not in fixed]


def _hint(lg: Ledger, field: Field) -> str:
    needed = field.required and field.name != entry.auto_numbered(lg.key)
    lines = ["必填" if needed else "可空"]
    if field.kind == "choice":
        lines.append("填写：" + "、".join(field.choices.values()))
    elif field.kind == "bool":
        lines.append("填写：是 或 否")
    elif field.kind == "date":
        lines.append("日期，如 2026-11-22")
    elif field.kind == "datetime":
        lines.append("日期时间，如 2026-11-22 08:30")
    elif field.kind == "ref":
        lines.append(f"填写已有的{field.label}（与系统中的名称或编号一致）")
    elif field.kind in ("int", "decimal"):
        lines.append("数字")
    if field.name == entry.auto_numbered(lg.key):
        lines.append("留空由系统编号")
    if field.help:
        lines.append(field.help)
    return "\n".join(lines)


def export_template(session: Session, ledger_key: str, path: str | os.PathLike) -> None:
    """A blank sheet to fill in: the export's layout, without the columns the
    system keeps and without the signature row; each header cell says what it takes."""
    lg = ledger(ledger_key)
    if not entry.plain_form(ledger_key):
        from app.errors import UserError

        raise UserError(f"「{lg.title}」不能从表格导入：{entry.refusal(ledger_key)}")
    users.require(session, "enter", ledger_key)
    fields = template_fields(lg)
    columns = [column_of(f) for f in fields]
    with saved_atomically(path) as wb:
        ws = wb.create_sheet(title=sheet_name(lg.title))
        title = " ".join(part for part in (enterprise_name(session), lg.title) if part)
        subtitle = f"导入模板：从第 {HEADER_ROW + 1} 行起每行填写一条记录；表头不要改动；鼠标停在表头上可看到填写说明"
        # No signature row: the rows below the header are for the data.
        SheetWriter(ws, columns, title, subtitle, notes=[_hint(lg, f) for f in fields]).close(signature=False)
