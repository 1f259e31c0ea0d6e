"""R7.1: read a filled template or an exported ledger back into the database.

Every row goes through ``entry.save_new`` — the path a form's Save takes —
inside its own savepoint, so each is checked with the form's rules, against
the database and the rows before it; then either every row stays or, when
any row was refused, nothing does. Problems name the sheet row, the column
letter and header, and the reason, in Chinese.
"""

from __future__ import annotations

import logging
import os
import warnings
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import PermissionDenied, UserError, ValidationError
from app.ledgers import Field, Ledger, ledger, registry
from app.services import entry, users

from .ledger_columns import derived_labels
from .sheet import is_signature_row

log = logging.getLogger("reports")

HEADER_SEARCH_ROWS = 20
SHOWN_PROBLEMS = 20
Report = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Problem:
    row: int  # the sheet's row number, as the spreadsheet shows it
    column: str  # column letter, "" when the problem is the whole row
    label: str  # the column's header
    reason: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "表头"
        if self.column:
            where += f" {self.column} 列「{self.label}」"
        return f"{where}：{self.reason}"


class ImportRefused(UserError):
    """Some rows are wrong: nothing was imported. ``problems`` lists them all."""

    def __init__(self, title: str, problems: Sequence[Problem], rows: int):
        self.problems = list(problems)
        shown = "\n".join(str(p) for p in self.problems[:SHOWN_PROBLEMS])
        more = len(self.problems) - SHOWN_PROBLEMS
        tail = f"\n……另有 {more} 处问题" if more > 0 else ""
        super().__init__(f"「{title}」未导入任何记录：{rows} 行中发现 {len(self.problems)} 处问题。\n{shown}{tail}")


@dataclass(frozen=True)
class Sheet:
    header_row: int
    columns: dict[str, int]  # field name -> 0-based column index
    ignored: tuple[str, ...]  # headers read but not imported (system-kept or related columns)
    rows: list[tuple[int, tuple]]  # (sheet row number, values)
    refused: tuple[Problem, ...] = ()  # cells whose value cannot be read: formulas, error values


# ------------------------------------------------------------------ reading


def _not_a_workbook(shown: str, exc: Exception) -> str:
    """openpyxl's reasons are English; the user needs to know what to do."""
    if shown.lower().endswith(".xls") or ".xls file format" in str(exc):
        return f"「{shown}」是旧的 Excel 97-2003 格式（.xls）：请在 Excel 中「另存为」Excel 工作簿（.xlsx）后再导入"
    return (f"无法读取 Excel 文件「{shown}」：它不是 Excel 工作簿（.xlsx），或者文件已损坏。"
            "请在 Excel 中打开它并「另存为」Excel 工作簿（.xlsx）后再导入")


# What openpyxl raises on a file that is not a sound workbook: a zip that is
# not one or is cut short, XML that is malformed, holds an entity bomb or an
# external entity (expat refuses both), parts that are missing or of the wrong
# kind. Any of them means the same to the user: the file cannot be read.
UNREADABLE = (InvalidFileException, zipfile.BadZipFile, zlib.error, EOFError, ParseError, SyntaxError, KeyError,
              ValueError, TypeError, AttributeError, IndexError, OverflowError, UnicodeError)


def read_sheet(path: str | os.PathLike, lg: Ledger) -> Sheet:
    """The header row (the row of the first 20 that names most fields) and the data below it.

    Every row of the sheet is read, whatever size its ``<dimension>`` claims.
    A formula or an error value in a data cell makes the import refuse that
    cell: the value a spreadsheet would show is not reliably in the file."""
    shown = os.fspath(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except OSError as exc:
        from app.problems import file_problem

        raise UserError(file_problem(exc, shown, "无法读取 Excel 文件")) from None
    except UNREADABLE as exc:
        raise UserError(_not_a_workbook(shown, exc)) from None
    try:
        with warnings.catch_warnings():
            # openpyxl warns of what it cannot keep (a date serial out of range
            # becomes an error cell, refused below); the user reads the problem list.
            warnings.simplefilter("ignore")
            return _read(wb, lg)
    except UNREADABLE as exc:
        log.info("unreadable workbook %s: %r", shown, exc)
        raise UserError(_not_a_workbook(shown, exc)) from None
    finally:
        wb.close()


def _read(wb, lg: Ledger) -> Sheet:
    ws = _sheet_of(wb, lg)
    ws.reset_dimensions()  # read-only mode trusts <dimension>: rows beyond it would be dropped
    labels = {f.label: f.name for f in lg.fields}
    best: tuple[int, int, tuple] = (0, 0, ())
    for number, cells in enumerate(ws.iter_rows(max_row=HEADER_SEARCH_ROWS), start=1):
        values = tuple(_value(cell) for cell in cells)
        hits = sum(1 for v in values if isinstance(v, str) and v.strip() in labels)
        if hits > best[0]:
            best = (hits, number, values)
        if best[0] and hits == 0 and number > best[1] + 1:
            break
    if not best[0]:
        raise UserError(f"文件中找不到「{lg.title}」的表头（前 {HEADER_SEARCH_ROWS} 行中没有与台账栏目相同的列名）")
    header_row, header = best[1], best[2]
    columns, ignored = _columns(lg, header)
    wanted = {index: name for name, index in columns.items()}
    data, refused = [], []
    for number, cells in enumerate(ws.iter_rows(min_row=header_row + 1), start=header_row + 1):
        values = tuple(_value(cell) for cell in cells)
        if is_signature_row(values):
            break
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        for index, cell in enumerate(cells):
            reason = _unusable(cell) if index in wanted else None
            if reason:
                letter = get_column_letter(index + 1)
                refused.append(Problem(number, letter, lg.field(wanted[index]).label, reason))
        data.append((number, values))
    return Sheet(header_row, columns, ignored, data, tuple(refused))


def _value(cell) -> object:
    return getattr(cell, "value", None)


def _unusable(cell) -> str | None:
    """Why a cell's value cannot be imported: a formula (its result may not be
    in the file at all) or an error value."""
    kind = getattr(cell, "data_type", None)
    if kind == "f":
        return "是公式，不能导入：请把这一列复制后「选择性粘贴 → 数值」，再导入"
    if kind == "e":
        return f"是错误值 {cell.value}（如日期超出范围或公式出错），请改为实际的值"
    return None


def _sheet_of(wb, lg: Ledger):
    """The sheet named like the ledger, else the only or the first one."""
    for ws in wb.worksheets:
        if ws.title.startswith(lg.title[:31]):
            return ws
    return wb.worksheets[0]


def _columns(lg: Ledger, header: Sequence[object]) -> tuple[dict[str, int], tuple[str, ...]]:
    labels = {f.label: f.name for f in lg.fields}
    fixed = set(entry.fixed_fields(lg.key))
    columns: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    for index, value in enumerate(header):
        text = str(value).strip() if value is not None else ""
        if not text:
            continue
        name = labels.get(text)
        if name is None or name in fixed:
            ignored.append(text)
        elif name in columns:
            problems.append(Problem(0, get_column_letter(index + 1), text, "列名重复"))
        else:
            columns[name] = index
    auto = entry.auto_numbered(lg.key)
    for f in lg.fields:
        if f.required and f.name not in columns and f.name not in fixed and f.name != auto:
            problems.append(Problem(0, "", f.label, f"缺少必填的列「{f.label}」"))
    if problems:
        raise ImportRefused(lg.title, problems, 0)
    return columns, tuple(ignored)


# ------------------------------------------------------------------ values


def _plain(field: Field, raw: object) -> object:
    """A spreadsheet's number in a text column (a code typed as 20261101) as its digits."""
    if field.kind in ("text", "longtext", "ref") and isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        return raw.strip()
    return raw


class References:
    """Turns the text a reference column shows (a material's name, a person's
    name, a lot number) back into the id it stands for; cached per value."""

    def __init__(self, session: Session):
        self.session = session
        self.cache: dict[tuple[str, str, object], list[int]] = {}

    def resolve(self, field: Field, raw: object) -> int:
        target = registry()[field.lookup.ledger]
        shown = next((f for f in target.fields if f.name == field.lookup.display), None)
        value = raw
        if shown is not None:
            value = shown.convert(_plain(shown, raw))  # ValueError: a reason without the label
        key = (target.key, field.lookup.display, value)
        if key not in self.cache:
            column = target.model.__table__.c[field.lookup.display]
            self.cache[key] = list(self.session.scalars(
                select(target.model.__table__.c.id).where(column == value).limit(2)))
        found = self.cache[key]
        text = shown.display(value) if shown is not None else str(value)
        if not found:
            raise ValueError(f"找不到“{text}”（{target.title}中没有这一项）")
        if len(found) > 1:
            raise ValueError(f"“{text}”在{target.title}中有多条，无法确定是哪一条")
        return found[0]


def _row_values(lg: Ledger, sheet: Sheet, values: tuple, refs: References) -> tuple[dict, list[tuple[str, str]]]:
    """Field values of one row, references resolved; (field name, reason) for cells that cannot be read."""
    result: dict[str, object] = {}
    bad: list[tuple[str, str]] = []
    for name, index in sheet.columns.items():
        field = lg.field(name)
        raw = _plain(field, values[index] if index < len(values) else None)
        if raw is None or raw == "":
            continue
        if field.kind == "ref":
            try:
                raw = refs.resolve(field, raw)
            except ValueError as exc:
                bad.append((name, f"「{field.label}」{exc}"))
                continue
        result[name] = raw
    return result, bad


# ------------------------------------------------------------------ import


def import_ledger(session: Session, ledger_key: str, path: str | os.PathLike, report: Report | None = None) -> int:
    """Import every row of the sheet or none; the number of records added.

    Raises ImportRefused (a UserError) listing each bad row's number, column and reason.
    """
    lg = ledger(ledger_key)
    if not entry.plain_form(ledger_key):
        raise UserError(f"「{lg.title}」不能从表格导入：{entry.refusal(ledger_key)}")
    users.require(session, "enter", ledger_key)
    sheet = read_sheet(path, lg)
    if not sheet.rows:
        raise UserError(f"文件中没有「{lg.title}」的数据行（表头在第 {sheet.header_row} 行）")
    refs = References(session)
    problems: list[Problem] = []
    letters = {name: (get_column_letter(index + 1), lg.field(name).label) for name, index in sheet.columns.items()}
    refused = {problem.row for problem in sheet.refused}
    problems += sheet.refused
    outer = session.begin_nested()
    try:
        for done, (number, values) in enumerate(sheet.rows, start=1):
            if number not in refused:
                problems += _import_row(session, lg, sheet, number, values, refs, letters)
            if report:
                report(done, len(sheet.rows), lg.title)
        if problems:
            raise ImportRefused(lg.title, sorted(problems, key=lambda p: p.row), len(sheet.rows))
    except BaseException:
        outer.rollback()
        raise
    outer.commit()
    return len(sheet.rows)


def _import_row(session: Session, lg: Ledger, sheet: Sheet, number: int, values: tuple, refs: References,
                letters: dict[str, tuple[str, str]]) -> list[Problem]:
    values_by_field, unreadable = _row_values(lg, sheet, values, refs)
    if unreadable:
        return [_problem(number, lg, name, reason, letters) for name, reason in unreadable]
    savepoint = session.begin_nested()
    try:
        entry.save_new(session, lg.key, values_by_field)
    except PermissionDenied:
        savepoint.rollback()
        raise
    except ValidationError as error:
        savepoint.rollback()
        return [_problem(number, lg, e.field, e.message, letters) for e in error.errors]
    except UserError as error:
        savepoint.rollback()
        return [Problem(number, "", "", error.message)]
    except Exception as error:  # noqa: BLE001 — one row's surprise must not hide the others
        # A value no rule foresaw (the database refusing it, an overflow):
        # this row is refused, the others are still checked, and the log keeps
        # the traceback for the developers.
        savepoint.rollback()
        log.exception("row %s of %s could not be saved", number, lg.key)
        return [Problem(number, "", "", f"无法保存这一行（{type(error).__name__}）：请核对这一行的数值、日期和文字长度")]
    savepoint.commit()
    return []


def _problem(number: int, lg: Ledger, name: str, reason: str, letters: dict[str, tuple[str, str]]) -> Problem:
    if name in letters:
        letter, label = letters[name]
        return Problem(number, letter, label, reason)
    try:
        label = lg.field(name).label
    except KeyError:
        label = name
    return Problem(number, "", label, reason)


def ignored_labels(lg: Ledger) -> set[str]:
    """Headers an export has that an import skips: system-kept and related columns."""
    fixed = set(entry.fixed_fields(lg.key))
    return {f.label for f in lg.fields if f.name in fixed} | derived_labels(lg)
