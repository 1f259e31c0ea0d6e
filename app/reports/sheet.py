"""The printed-form layout every exported sheet shares (openpyxl write-only, Qt-free).

Row 1: enterprise and ledger name; row 2: the period and filters; row 3: the
header; data from row 4; a signature row (编制/审核/日期) after the data.
Frozen header, autofilter, landscape fitted to the page width with the
header row repeated on every printed page, gridlines printed like a paper
form. Data cells carry real numbers and dates; text that a spreadsheet could
take for a formula is written as text with Excel's quote prefix.

Printed legibly (issue 16): only the columns the ledger prints are on paper
(the others are folded away, one click opens them); fitted to A4 when that
keeps the smallest text at MIN_PRINT_PT or more, else to A3, which the page
header says; long text wraps and its row is as tall as its lines; title and
period rows are merged over the table and wrap rather than run off the page.
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
PAPER_A4, PAPER_A3 = "9", "8"  # ECMA-376 paperSize codes
# Landscape page widths in points, and the margins left and right (inches).
PAGE_WIDTH_PT = {PAPER_A4: 297 / 25.4 * 72, PAPER_A3: 420 / 25.4 * 72}
SIDE_MARGIN_IN = 0.4
A3_NOTE = "A3 纸横向打印"
MIN_PRINT_PT = 8.0  # the smallest printed text an inspector reads without a lens
SMALLEST_PT = 10  # the header's size; data cells use the workbook's 11 pt
DIGIT_PX = 7  # Excel's column width unit: the default font's digit, 7 px = 5.25 pt
LINE_PT = 15.0  # a line of 11 pt text (宋体 / Calibri) in a wrapped cell
FIRST_DATA_ROW = HEADER_ROW + 1
SIGNATURE_LABELS = ("编制：", "审核：", "日期：")
# A cell starting with one of these could run as a formula (OWASP's CSV
# injection list: = + - @, and the tab and carriage return that hide them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 24  # long text wraps onto more lines rather than widening the page
FONT_NAME = "宋体"
DIGITS = ("int", "decimal", "date", "datetime", "bool")

_thin = Side(style="thin")
HEADER_FONT = Font(name=FONT_NAME, bold=True, size=10)
HEADER_FILL = PatternFill("solid", fgColor="E8EEF4")
HEADER_BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
TITLE_FONT = Font(name=FONT_NAME, bold=True, size=16)
TITLE_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
PERIOD_ALIGN = Alignment(horizontal="left", vertical="center", wrap_text=True)
WRAP_ALIGN = Alignment(vertical="top", wrap_text=True)
SIGN_FONT = Font(name=FONT_NAME, size=11)


@dataclass(frozen=True)
class Column:
    label: str
    width: int  # characters, from the ledger declaration
    kind: str = "text"  # a Field kind: decides the cell format
    printed: bool = True  # on paper; otherwise kept in the file, folded away


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
        self._widths = [excel_width(c) for c in self.columns]
        self._printed_width = sum(w for w, c in zip(self._widths, self.columns) if c.printed) or 1.0
        # Printed text columns, with the characters a line of each holds: a row's height follows them.
        self._wrapped = [(index, max(self._widths[index] - 1.5, 1.0)) for index, c in enumerate(self.columns)
                         if c.printed and c.kind not in DIGITS]
        self._wrap_style = self._style_of("General", WRAP_ALIGN)
        self.paper, self.scale = page_for(self.columns)
        self._setup(title)
        self._head(title, subtitle, notes)

    # ---------------------------------------------------------------- setup

    def _setup(self, title: str) -> None:
        ws = self.ws
        for index, (column, width) in enumerate(zip(self.columns, self._widths), start=1):
            dimension = ws.column_dimensions[get_column_letter(index)]
            dimension.width = width
            if not column.printed:
                dimension.hidden, dimension.outlineLevel = True, 1
        if not all(c.printed for c in self.columns):
            ws.sheet_format.outlineLevelCol = 1
        ws.freeze_panes = f"A{FIRST_DATA_ROW}"
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = self.paper
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.gridLines = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN_IN
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        ws.oddHeader.right.text = safe_text(title)[:200].replace("&", "&&")
        if self.paper == PAPER_A3:
            ws.oddHeader.left.text = A3_NOTE

    def _head(self, title: str, subtitle: str, notes: Sequence[str]) -> None:
        """Title and period merged over the table, wrapping when longer than it
        (never cut at the page's edge); rows as tall as their lines; the header
        row as tall as its longest label."""
        width = max(len(self.columns), 1)
        if width > 1:
            self.ws.merged_cells.add(f"A{TITLE_ROW}:{self._last}{TITLE_ROW}")
            self.ws.merged_cells.add(f"A{PERIOD_ROW}:{self._last}{PERIOD_ROW}")
        title, subtitle = safe_text(title), safe_text(subtitle)
        self._height(TITLE_ROW, 22 * lines_of(title, self._printed_width, TITLE_FONT.sz) + 6)
        # The title names the enterprise, typed by a user: "=HYPERLINK(…)" as a
        # name must stay text in every sheet, as in the data cells.
        self.ws.append([self._cell(self._any(title), font=TITLE_FONT, alignment=TITLE_ALIGN)])
        self._height(PERIOD_ROW, 14 * lines_of(subtitle, self._printed_width, 10) + 2)
        self.ws.append([self._cell(self._any(subtitle), font=Font(name=FONT_NAME, size=10), alignment=PERIOD_ALIGN)])
        self._height(HEADER_ROW, 14 * max((lines_of(c.label, w - 1, HEADER_FONT.sz)
                                           for c, w in zip(self.columns, self._widths)), default=1) + 4)
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

    def _to_top(self, cells: list) -> None:
        """A row of several lines reads from its top: every cell aligned there,
        not the wrapped ones at the top and the others at the bottom."""
        for index, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, Cell):
                if not value.alignment.wrap_text:
                    value.alignment = WRAP_ALIGN
            else:
                cells[index] = self._styled(value, self._wrap_style)

    def _height(self, row: int, points: float) -> None:
        """Set before the row is written: a write-only sheet writes a row at once."""
        self.ws.row_dimensions[row].height = round(points, 1)

    def append(self, values: Sequence[object]) -> None:
        """One data row, a value per column, of the column's type (str, int, Decimal, date).
        Text longer than its printed column wraps, and the row is as tall as its most lines."""
        cells = self.cells(values)
        lines = 1
        for index, room in self._wrapped:
            value = cells[index]
            if type(value) is str and (len(value) * 2 > room or "\n" in value):
                count = lines_of(value, room)
                if count > 1:
                    lines = max(lines, count)
                    cells[index] = self._styled(value, self._wrap_style)
        row = FIRST_DATA_ROW + self.rows_written
        if lines > 1:
            self._height(row, LINE_PT * lines)
            self._to_top(cells)
        self.ws.append(cells)
        if lines > 1:
            del self.ws.row_dimensions[row]  # written: the dimension is not needed again
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

    def _style_of(self, number_format: str, alignment: Alignment | None = None):
        template = WriteOnlyCell(self.ws)
        template.number_format = number_format
        if alignment is not None:
            template.alignment = alignment
        return template._style  # openpyxl's StyleArray: copied into each cell, not looked up again

    def _dated(self, value, style) -> Cell:
        return self._styled(value, style)

    def _styled(self, value, style) -> Cell:
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
            printed = [index for index, c in enumerate(self.columns) if c.printed]
            self.ws.append(signature_row(self.ws, len(self.columns), printed))


def signature_row(ws, width: int, printed: Sequence[int] | None = None) -> list:
    """编制 / 审核 / 日期 spread over the printed columns of the table (a label
    in a folded column would not be on paper)."""
    row: list = [None] * max(width, 3)
    places = list(printed) if printed and len(printed) >= 3 else list(range(max(width, 3)))
    step = max(len(places) // 3, 1)
    for index, label in enumerate(SIGNATURE_LABELS):
        cell = WriteOnlyCell(ws, label)
        cell.font = SIGN_FONT
        row[places[index * step]] = cell
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
    unit = 1.0 if column.kind in DIGITS else 2.0 if column.kind == "choice" else 1.2  # choices are Chinese words
    body = min(column.width * unit, MAX_WIDTH)
    label = _visual_length(column.label) / 2 + 2
    return round(min(max(body, label, 6) + 1, MAX_WIDTH + 1), 1)


def page_for(columns: Sequence[Column]) -> tuple[str, float]:
    """(paper, scale): A4 landscape when the printed columns fit its width with
    the smallest text at MIN_PRINT_PT or more, else A3 landscape."""
    needed = column_points(excel_width(c) for c in columns if c.printed)
    for paper in (PAPER_A4, PAPER_A3):
        scale = min(1.0, printable_points(paper) / needed) if needed else 1.0
        if SMALLEST_PT * scale >= MIN_PRINT_PT:
            return paper, scale
    return PAPER_A3, scale


def printable_points(paper: str, side_margin_in: float = SIDE_MARGIN_IN) -> float:
    return PAGE_WIDTH_PT[paper] - 2 * side_margin_in * 72


def column_points(widths: Iterable[float]) -> float:
    """Excel draws a column of width w (in digit widths, padding included) as 7w pixels, 0.75 pt each."""
    return sum(widths) * DIGIT_PX * 0.75


def lines_of(text: str, room: float, size: float = 11) -> int:
    """Lines ``text`` takes wrapped in ``room`` digit widths at ``size`` points
    (a Chinese character two digits wide at 11 pt)."""
    scale = size / 11
    return sum(max(1, -(-int(_visual_length(part) * scale) // max(int(room), 1))) for part in text.split("\n"))


def _visual_length(text: str) -> int:
    """Columns a text takes: a Chinese character counts two."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)
