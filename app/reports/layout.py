"""The building blocks of every printed page: styles in the embedded CJK
font, a canvas that draws some text only once the whole volume is laid out
(the catalogue's 页号 and the cover's 页数 are known only after the
materials), and small flowables."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, LongTable, Paragraph, Table, TableStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from . import fonts
from .fonts import FONT

PAGE_W, PAGE_H = 210 * mm, 297 * mm
LEFT, RIGHT = 25 * mm, 15 * mm  # binding margin on the left (GB/T 9705)
WIDTH = PAGE_W - LEFT - RIGHT
TOP, BOTTOM = 20 * mm, 15 * mm
MATERIAL_FRAME = PAGE_H - TOP - BOTTOM  # height of a material page's frame
# A register too wide for portrait is turned: the binding margin is then the
# landscape page's top edge (the page is read turned, its top at the spine).
LANDSCAPE_MARGINS = (15 * mm, 15 * mm, 25 * mm, 15 * mm)  # left, right, top, bottom
LANDSCAPE_WIDTH = PAGE_H - LANDSCAPE_MARGINS[0] - LANDSCAPE_MARGINS[1]
LANDSCAPE_FRAME = PAGE_W - LANDSCAPE_MARGINS[2] - LANDSCAPE_MARGINS[3]


def style(name: str, size: float, leading: float | None = None, **extra) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=FONT, fontSize=size, leading=leading or size * 1.3, wordWrap="CJK", **extra)


class Styles:
    def __init__(self):
        self.body = style("body", 9)
        self.cell = style("cell", 7.5)
        self.small = style("small", 6.5)
        self.head = style("head", 7.5, alignment=TA_CENTER)
        self.title = style("title", 14, 20, alignment=TA_CENTER, spaceAfter=2 * mm)
        self.big = style("big", 20, 28, alignment=TA_CENTER)
        self.cover = style("cover", 12, 17)
        self.cover_title = style("cover_title", 15, 21)
        self.part = style("part", 18, 26, alignment=TA_CENTER, spaceAfter=6 * mm)


_hanging_styles: dict[int, ParagraphStyle] = {}


def _room_to_hang(st: ParagraphStyle) -> ParagraphStyle:
    """``st`` with one character's room at the right, where punctuation may hang."""
    found = _hanging_styles.get(id(st))
    if found is None or found.parent is not st:
        found = ParagraphStyle(f"{st.name}-hanging", parent=st, rightIndent=st.rightIndent + st.fontSize)
        _hanging_styles[id(st)] = found
    return found


class Text(Paragraph):
    """A paragraph that stays inside its width. reportlab's CJK wrapping never
    starts a line with closing punctuation (，。）…): it lets it hang past the
    line's end, out of a table cell into the next one. Such a paragraph is
    wrapped again with a character's room kept at the right for it."""

    def wrap(self, avail_width, avail_height):
        size = super().wrap(avail_width, avail_height)
        if self.style.name.endswith("-hanging") or not _overhangs(self.blPara):
            return size
        self.style = _room_to_hang(self.style)
        return super().wrap(avail_width, avail_height)


def _overhangs(lines_of) -> bool:
    return any((line[0] if isinstance(line, tuple) else line.extraSpace) < -0.01 for line in lines_of.lines)


def para(text: str, st: ParagraphStyle) -> Paragraph:
    """A wrapping paragraph of plain text (signs the CJK font lacks set in the
    fallback font) that stays inside its width, hanging punctuation included."""
    return Text(fonts.markup(text), st)


def cell(text: str, st: ParagraphStyle, width: float):
    """A table cell: a plain string when it fits on one line (drawn without
    parsing or wrapping, much faster), else a wrapping Paragraph."""
    if "\n" not in text and fonts.covered(text) and stringWidth(text, FONT, st.fontSize) <= width - 4.5:
        return text
    return para(text, st)


class Mark(Flowable):
    """A short coloured word (未签名, 失效) without a Paragraph's parsing."""

    def __init__(self, text: str, size: float = 7.5, color=colors.HexColor("#b00000")):
        super().__init__()
        self.text, self.size, self.color = text, size, color

    def wrap(self, _w, _h):
        return stringWidth(self.text, FONT, self.size), self.size * 1.2

    def draw(self):
        self.canv.setFont(FONT, self.size)
        self.canv.setFillColor(self.color)
        self.canv.drawString(0, self.size * 0.25, self.text)


class InkLine(Flowable):
    """Room for a signature in ink (纸质签名): a line to sign on and a line for
    the date beneath it, both labelled small in grey."""

    GREY = colors.HexColor("#707070")

    def __init__(self, height: float = 9 * mm):
        super().__init__()
        self.box_height = height

    def wrap(self, avail_width, _avail_height):
        self.width = avail_width
        return self.width, self.box_height

    def draw(self):
        c = self.canv
        size = 5.5
        c.setFont(FONT, size)
        c.setFillColor(self.GREY)
        c.setStrokeColor(self.GREY)
        c.setLineWidth(0.4)
        date_y, sign_y = 2, self.box_height * 0.5
        label_w = stringWidth("日期：", FONT, size)
        c.drawString(0, sign_y + 1, "签名：")
        c.drawString(0, date_y + 1, "日期：")
        c.line(label_w, sign_y, self.width, sign_y)
        c.line(label_w, date_y, self.width, date_y)


GRID = TableStyle([
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("FONTSIZE", (0, 0), (-1, -1), 7.5),
    ("LEADING", (0, 0), (-1, -1), 9.5),
    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ("LEFTPADDING", (0, 0), (-1, -1), 2),
    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
])


def grid(rows, widths, header: bool = True, extra: list | None = None) -> Table:
    # LongTable measures only the rows that fit when it splits: a register of
    # thousands of rows is not re-measured on every page (quadratic in Table).
    kind = LongTable if len(rows) > 60 else Table
    table = kind(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    table.setStyle(GRID)
    commands = list(extra or [])
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    if commands:
        table.setStyle(TableStyle(commands))
    return table


class DeferringCanvas(Canvas):
    """Keeps every page until ``save`` and then draws the deferred texts
    (reportlab's 'page X of Y' recipe): one layout pass, no second build."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kept_pages: list[dict] = []
        self.deferred: list[tuple] = []  # (page, x, y, size, align, text function)

    def defer(self, x: float, y: float, size: float, align: str, text) -> None:
        self.deferred.append((self.getPageNumber(), x, y, size, align, text))

    def showPage(self):  # noqa: N802 — reportlab's name
        self._kept_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        by_page: dict[int, list] = {}
        for item in self.deferred:
            by_page.setdefault(item[0], []).append(item[1:])
        for state in self._kept_pages:
            self.__dict__.update(state)
            for x, y, size, align, text in by_page.get(self._pageNumber, ()):
                self.setFont(FONT, size)
                shown = text()
                if align == "right":
                    self.drawRightString(x, y, shown)
                elif align == "center":
                    self.drawCentredString(x, y, shown)
                else:
                    self.drawString(x, y, shown)
            Canvas.showPage(self)
        Canvas.save(self)


class Later(Flowable):
    """One line of text known only at the end (a page number, a page count)."""

    def __init__(self, text, size: float = 7.5, align: str = "center", width: float | None = None):
        super().__init__()
        self.text, self.size, self.align, self.width_hint = text, size, align, width

    def wrap(self, avail_width, _avail_height):
        self.width = self.width_hint or avail_width
        return self.width, self.size * 1.3

    def draw(self):
        x = {"left": 0, "center": self.width / 2, "right": self.width}[self.align]
        ax, ay = self.canv.absolutePosition(x, self.size * 0.3)
        self.canv.defer(ax, ay, self.size, self.align, self.text)
