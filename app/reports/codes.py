"""Barcodes drawn as vectors (crisp at any printer resolution): QR codes by
``segno``, GS1-128 by ``python-barcode`` (FNC1 after the start, variable
fields last or followed by FNC1), GS1 Digital Link URIs (standards.md)."""

from __future__ import annotations

import datetime as dt

import segno
from barcode.codex import Gs1_128
from reportlab.platypus import Flowable

GS1_FNC1 = Gs1_128.FNC1_CHAR


def qr_matrix(text: str, error: str = "m", border: int = 4) -> list[list[bool]]:
    """The modules of a QR code of ``text``, with its quiet zone."""
    code = segno.make(text, error=error, micro=False)
    size = len(code.matrix) + 2 * border
    blank = [[False] * size for _ in range(border)]
    rows = [[False] * border + [bool(cell & 1) for cell in row] + [False] * border for row in code.matrix]
    return blank + rows + [list(r) for r in blank]


def draw_qr(canv, text: str, x: float, y: float, size: float) -> None:
    """A QR code of ``text`` with its quiet zone, lower left at (x, y)."""
    matrix = qr_matrix(text)
    module = size / len(matrix)
    canv.saveState()
    canv.setFillColorRGB(0, 0, 0)
    path = canv.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + start * module, y + size - (r + 1) * module, (c - start) * module, module)
            else:
                c += 1
    canv.drawPath(path, stroke=0, fill=1)
    canv.restoreState()


class QRFlowable(Flowable):
    def __init__(self, text: str, size: float):
        super().__init__()
        self.text, self.size = text, size

    def wrap(self, _w, _h):
        return self.size, self.size

    def draw(self):
        draw_qr(self.canv, self.text, 0, 0, self.size)


def yymmdd(day: dt.date) -> str:
    return day.strftime("%y%m%d")


def gtin14(gtin: str) -> str:
    return gtin.rjust(14, "0")


def gs1_elements(gtin: str, lot: str, production: dt.date | None, expiry: dt.date | None) -> list[tuple[str, str]]:
    """(AI, value) pairs, fixed-length ones first and the variable lot last."""
    elements = [("01", gtin14(gtin))]
    if production is not None:
        elements.append(("11", yymmdd(production)))
    if expiry is not None:
        elements.append(("17", yymmdd(expiry)))
    elements.append(("10", lot))
    return elements


def gs1_hri(elements: list[tuple[str, str]]) -> str:
    """The human-readable interpretation under the bars: (01)…(10)…"""
    return "".join(f"({ai}){value}" for ai, value in elements)


def gs1_128_modules(elements: list[tuple[str, str]]) -> str:
    """The bar pattern ('1' = bar module) of a GS1-128 symbol; an FNC1 follows
    every variable-length field except the last."""
    data = ""
    for index, (ai, value) in enumerate(elements):
        data += ai + value
        if ai == "10" and index < len(elements) - 1:
            data += GS1_FNC1
    return "".join(Gs1_128(data).build())


def draw_gs1_128(canv, elements, x: float, y: float, height: float, module: float, font: str, font_size: float) -> float:
    """Bars with the text under them; returns the symbol's width."""
    pattern = gs1_128_modules(elements)
    quiet = 10 * module
    canv.saveState()
    path = canv.beginPath()
    bar_bottom = y + font_size * 1.4
    i = 0
    while i < len(pattern):
        if pattern[i] == "1":
            start = i
            while i < len(pattern) and pattern[i] == "1":
                i += 1
            path.rect(x + quiet + start * module, bar_bottom, (i - start) * module, height)
        else:
            i += 1
    canv.drawPath(path, stroke=0, fill=1)
    width = len(pattern) * module + 2 * quiet
    canv.setFont(font, font_size)
    canv.drawCentredString(x + width / 2, y, gs1_hri(elements))
    canv.restoreState()
    return width


def digital_link(resolver: str, gtin: str, lot: str, production: dt.date | None, expiry: dt.date | None) -> str:
    """https://<resolver>/01/<GTIN14>/10/<lot>?11=YYMMDD&17=YYMMDD"""
    from urllib.parse import quote

    url = f"{resolver.rstrip('/')}/01/{gtin14(gtin)}/10/{quote(lot, safe='')}"
    query = [f"11={yymmdd(production)}"] if production else []
    query += [f"17={yymmdd(expiry)}"] if expiry else []
    return url + ("?" + "&".join(query) if query else "")
