"""The printed-form layout every exported sheet shares (openpyxl write-only, Qt-free).

Row 1: enterprise and ledger name; row 2: the period and filters; row 3: the
header; data from row 4; a signature row (编制/审核/日期) after the data.
Frozen header, autofilter, landscape A4 fitted to the page width with the
header row repeated on every printed page, gridlines printed like a paper
form. Data cells carry real numbers and dates; text that a spreadsheet could
take for a formula is written as text with Excel's quote prefix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

TITLE_ROW, PERIOD_ROW, HEADER_ROW = 1, 2, 3
PAPER_A4 = "9"  # ECMA-376 paperSize code
FIRST_DATA_ROW = HEADER_ROW + 1
SIGNATURE_LABELS = ("编制：", "审核：", "日期：")
# A cell starting with one of these could run as a formula (OWASP's CSV
# injection list: = + - @, and the tab and carriage return that hide them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 30
FONT_NAME = "宋体"
DIGITS = ("int", "decimal", "date", "datetime", "bool")

_thin = Side(style="thin")
HEADER_FONT = Font(name=FONT_NAME, bold=True, size=10)
HEADER_FILL = PatternFill("solid", fgColor="E8EEF4")
HEADER_BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
TITLE_FONT = Font(name=FONT_NAME, bold=True, size=16)
TITLE_ALIGN = Alignment(horizontal="centerContinuous", vertical="center")
SIGN_FONT = Font(name=FONT_NAME, size=11)


@dataclass(frozen=True)
class Column:
    label: str
    width: int  # characters, from the ledger declaration
    kind: str = "text"  # a Field kind: decides the cell format


def safe_text(value: str) -> str:
    """Characters an xlsx file cannot hold (control characters) are dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


class SheetWriter:
    """Writes one sheet in the shared layout, row by row (write-only, streaming)."""

    def __init__(self, ws, columns: Sequence[Column], title: str, subtitle: str, *, filters: bool = True,
                 notes: Sequence[str] = ()):
        self.ws = ws
        self.columns = tuple(columns)
        self.rows_written = 0
        self._filters = filters
        self._last = get_column_letter(max(len(self.columns), 1))
        self._date_style, self._datetime_style = self._style_of(DATE_FORMAT), self._style_of(DATETIME_FORMAT)
        self._converters = [self._converter(c.kind) for c in self.columns]
        self._setup(title)
        self._head(title, subtitle, notes)

    # ---------------------------------------------------------------- setup

    def _setup(self, title: str) -> None:
        ws = self.ws
        for index, column in enumerate(self.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = excel_width(column)
        ws.freeze_panes = f"A{FIRST_DATA_ROW}"
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = PAPER_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.gridLines = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        ws.oddHeader.right.text = safe_text(title)[:200].replace("&", "&&")

    def _head(self, title: str, subtitle: str, notes: Sequence[str]) -> None:
        width = max(len(self.columns), 1)
        # The title names the enterprise, typed by a user: "=HYPERLINK(…)" as a
        # name must stay text in every sheet, as in the data cells.
        first = self._cell(self._any(title), font=TITLE_FONT, alignment=TITLE_ALIGN)
        self.ws.append([first] + [self._cell(None, alignment=TITLE_ALIGN) for _ in range(width - 1)])
        self.ws.row_dimensions[TITLE_ROW].height = 28
        self.ws.append([self._cell(self._any(subtitle), font=Font(name=FONT_NAME, size=10))])
        header = [self._cell(c.label, font=HEADER_FONT, fill=HEADER_FILL, border=HEADER_BORDER, alignment=HEADER_ALIGN)
                  for c in self.columns]
        for cell, note in zip(header, notes):
            cell.comment = Comment(note, "FoodArchive", width=220, height=110)
        self.ws.append(header)

    def _cell(self, value, **style) -> Cell:
        """A styled cell; ``value`` may already be a guarded text cell."""
        cell = value if isinstance(value, Cell) else WriteOnlyCell(self.ws, value)
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    # ---------------------------------------------------------------- rows

    def append(self, values: Sequence[object]) -> None:
        """One data row, a value per column, of the column's type (str, int, Decimal, date)."""
        self.ws.append(self.cells(values))
        self.rows_written += 1

    def cells(self, values: Iterable[object]) -> list:
        """Cells for one row: each column's converter, chosen once by its kind."""
        return [value if value is None else convert(value) for convert, value in zip(self._converters, values)]

    def _converter(self, kind: str):
        if kind == "date":
            return self._date
        if kind == "datetime":
            return lambda value: self._dated(value, self._datetime_style if isinstance(value, dt.datetime) else self._date_style)
        if kind in ("int", "decimal"):
            return self._number
        return self._any

    def _date(self, value):
        return self._dated(value, self._date_style)

    def _number(self, value):
        return value if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else self._any(value)

    def _any(self, value):
        """Text is checked; numbers pass; a date in a text column still gets a date format."""
        if isinstance(value, str):
            if value and (value[0] in FORMULA_FIRST or value in ERROR_CODES or ILLEGAL_CHARACTERS_RE.search(value)):
                return self.guarded(value)
            return value
        if isinstance(value, dt.datetime):
            return self._dated(value, self._datetime_style)
        if isinstance(value, dt.date):
            return self._dated(value, self._date_style)
        if isinstance(value, Decimal) and not value.is_finite():
            return str(value)
        return value

    def guarded(self, text: str) -> WriteOnlyCell:
        """Text that stays text: a string cell with the quote prefix, never a formula."""
        cell = WriteOnlyCell(self.ws)
        cell.value = "x"  # data type "s"; the real text is set below so it is never parsed as a formula
        cell._value = safe_text(text)[:32767]
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell

    def _style_of(self, number_format: str):
        template = WriteOnlyCell(self.ws)
        template.number_format = number_format
        return template._style  # openpyxl's StyleArray: copied into each cell, not looked up again

    def _dated(self, value, style) -> Cell:
        cell = Cell(self.ws, row=1, column=1, style_array=style)  # the style first: the value keeps its format
        cell.value = value
        return cell

    def close(self, signature: bool = True) -> None:
        """The autofilter over header and data, then the signature row."""
        last_row = HEADER_ROW + self.rows_written
        if self._filters and self.columns:
            self.ws.auto_filter.ref = f"A{HEADER_ROW}:{self._last}{last_row}"
        if signature:
            self.ws.append([])
            self.ws.append(signature_row(self.ws, len(self.columns)))


def signature_row(ws, width: int) -> list:
    """编制 / 审核 / 日期 spread over the width of the table."""
    row: list = [None] * max(width, 3)
    step = max(width // 3, 1)
    for index, label in enumerate(SIGNATURE_LABELS):
        cell = WriteOnlyCell(ws, label)
        cell.font = SIGN_FONT
        row[index * step] = cell
    return row


def is_signature_row(values: Sequence[object]) -> bool:
    texts = {str(v).strip() for v in values if v is not None and str(v).strip()}
    return SIGNATURE_LABELS[0] in texts and texts <= set(SIGNATURE_LABELS)


def excel_width(column: Column) -> float:
    """Field.width counts characters: digits for numbers and dates, mostly Chinese
    for the rest (about 3/5 of them Chinese, each two digits wide, as printed in
    宋体). Long notes are capped so that a ledger of 30 columns still prints
    legibly fitted to A4's width; they wrap or are read on screen. The header
    wraps onto two lines, so it needs half its length."""
    unit = 1.0 if column.kind in DIGITS else 1.2
    body = min(column.width * unit, MAX_WIDTH)
    label = _visual_length(column.label) / 2 + 2
    return round(min(max(body, label, 6) + 1, MAX_WIDTH + 1), 1)


def _visual_length(text: str) -> int:
    """Columns a text takes: a Chinese character counts two."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)
