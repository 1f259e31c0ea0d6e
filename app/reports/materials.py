"""The material pages of a volume, laid out from the ledger declarations:
a ledger of many small rows prints as the paper register it replaces (one
line per record, the signatures in the last columns); a record with many
fields (a batch record, an inspection report, a receipt) prints as a form.
Amendments are marked (※) and listed under the record; scans follow it."""

from __future__ import annotations

import io
import re

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Image, KeepTogether, NextPageTemplate, PageBreak, Paragraph, Spacer

from app.i18n import tr

from . import reading_chart
from .fonts import FONT
from .layout import LANDSCAPE_FRAME, LANDSCAPE_WIDTH, WIDTH, InkLine, Mark, Styles, cell, grid, para
from .volume_data import IMAGE_TYPES, MaterialData, RecordData, SignatureLine

# Ledgers whose records are documents of their own: printed as forms.
FORM_LEDGERS = {"product_batch", "commodity_batch", "inspection", "incoming_inspection", "recall", "destruction",
                "near_expiry_handling"}
MAX_COLUMNS = 16  # a register of more columns prints record by record as forms
SIG_WIDTH = 22 * mm
SIG_IMAGE_H = 7 * mm
STATE_MARK = {"invalid": "失效", "missing": "未签名"}
QUIET = colors.HexColor("#707070")
LABEL_SHADE = colors.HexColor("#f3f3f3")
PDF = "application/pdf"


class PdfPage:
    """A page of an attached PDF, merged onto its placeholder page after the build."""

    def __init__(self, content: bytes, index: int):
        self.content, self.index = content, index


class PdfPlaceholder(Flowable):
    """A whole page kept for one page of an attached PDF: its caption at the
    top, the rest left empty for the page merged there after the build, so
    nothing that follows is laid out underneath it."""

    def __init__(self, caption: Paragraph, pdf_page: PdfPage):
        super().__init__()
        self.caption, self.pdf_page = caption, pdf_page

    def wrap(self, avail_width, avail_height):
        self.caption_height = self.caption.wrap(avail_width, avail_height)[1]
        self.width, self.height = avail_width, max(avail_height, self.caption_height)
        return self.width, self.height

    def draw(self):
        self.caption.drawOn(self.canv, 0, self.height - self.caption_height)


def _sig_cell(sig: SignatureLine, st: Styles, with_image: bool = True, ink: bool = False, form: bool = False):
    """A signature as signed in the program; with paper signatures (``ink``)
    a missing or no longer valid one leaves a line to sign on and the date.
    A missing electronic signature is said once on the remarks sheet, not
    on every line: a form says it quietly, a register leaves the cell empty."""
    if ink and sig.state != "valid":
        return InkLine(12 * mm if form else 9 * mm)
    if sig.state == "missing":
        return Mark(STATE_MARK["missing"], 6.5, QUIET) if form else ""
    parts = []
    if with_image and sig.image_png:
        parts.append(_image(sig.image_png, 20 * mm, SIG_IMAGE_H))
    parts.append(para(f"{sig.printed_name}\n{sig.signed_at:%Y-%m-%d %H:%M}", st.small))
    if sig.state == "invalid":
        parts.append(Mark(f"（{STATE_MARK['invalid']}）", 6.5))
    return parts


def _image(data: bytes, max_w: float, max_h: float) -> Image:
    from reportlab.lib.utils import ImageReader

    reader = ImageReader(io.BytesIO(data))
    w, h = reader.getSize()
    scale = min(max_w / w, max_h / h)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale, hAlign="LEFT")


PRINT_PIXELS = 2400  # the longest side of a printed scan: 300 dpi over the 200 mm it may fill


def printable(content: bytes) -> list[bytes]:
    """An attached picture as the volume draws it, one picture per page of a
    multi-page TIFF scan: turned upright as the camera meant, transparent
    parts white, no larger than print needs, and in a form reportlab embeds
    (a JPEG stays a JPEG, anything else becomes a PNG)."""
    from PIL import Image

    with Image.open(io.BytesIO(content)) as image:
        source = image.format
        turned = image.getexif().get(0x0112, 1) != 1  # the orientation tag
        if source == "JPEG" and not turned and image.mode in ("RGB", "L") and max(image.size) <= PRINT_PIXELS:
            return [content]  # already what a PDF embeds as it is
        if source == "TIFF":
            frames = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                frames.append(_encoded(image, source))
            return frames
        image.draft("RGB", (PRINT_PIXELS, PRINT_PIXELS))
        return [_encoded(image, source)]


def _encoded(image, source: str) -> bytes:
    from app.services.attachments import upright

    picture = upright(image)
    picture.thumbnail((PRINT_PIXELS, PRINT_PIXELS))
    out = io.BytesIO()
    if source in ("JPEG", "MPO"):
        picture.save(out, "JPEG", quality=90)
    else:
        picture.save(out, "PNG")
    return out.getvalue()


def signature_block(record: RecordData, st: Styles, ink: bool = False) -> list:
    """签名: one column per required meaning: image, printed name, time (or a line for ink)."""
    if not record.signatures:
        return []
    heads = [para(tr("{meaning} (signature)", meaning=s.meaning), st.head) for s in record.signatures]
    cells = [_sig_cell(s, st, ink=ink, form=True) for s in record.signatures]
    width = min(WIDTH / len(cells), 45 * mm)
    return [Spacer(1, 2 * mm), grid([heads, cells], [width] * len(cells))]


def amendment_block(record: RecordData, st: Styles, prefix: str = "") -> list:
    if not record.amendments:
        return []
    rows = [[para(h, st.head) for h in (tr("Field"), tr("Original value"), tr("New value"), tr("Reason"),
                                               tr("Changed by"), tr("Time"))]]
    for a in record.amendments:
        rows.append([para(a.field, st.small), para(a.old, st.small), para(a.new, st.small), para(a.reason, st.small),
                     para(a.by, st.small), para(f"{a.at:%Y-%m-%d %H:%M}", st.small)])
    caption = para(f"※ {prefix}" + tr("Amended after first entry:"), st.cell)
    widths = [x * mm for x in (28, 32, 32, 40, 18, 20)]
    return [Spacer(1, 2 * mm), caption, grid(rows, widths)]


def scan_block(record: RecordData, st: Styles, pdf_pages: list) -> list:
    """Scans of the original vouchers, after the record they belong to:
    pictures placed on the page, each page of a PDF on a page of its own."""
    out: list = []
    for scan in record.scans:
        if scan.media_type in IMAGE_TYPES:
            pictures = printable(scan.content)
            for index, picture in enumerate(pictures):
                caption = para(_caption(scan, index, len(pictures)), st.cell)
                # The caption never stays behind at the foot of a page without its picture.
                out.append(KeepTogether([Spacer(1, 3 * mm), caption, _image(picture, WIDTH, 200 * mm)]))
        elif scan.media_type == PDF:
            from pypdf import PdfReader

            total = len(PdfReader(io.BytesIO(scan.content)).pages)
            for index in range(total):
                marker = PdfPlaceholder(para(_caption(scan, index, total), st.cell), PdfPage(scan.content, index))
                pdf_pages.append(marker.pdf_page)
                out += [PageBreak(), marker]
        else:
            out += [Spacer(1, 2 * mm), para(_caption(scan, 0, 1) + tr(" (kept electronically; not printable)"), st.cell)]
    return out


def _caption(scan, index: int, total: int) -> str:
    name = scan.filename if total == 1 else tr("{name} (page {n} of {total})", name=scan.filename, n=index + 1,
                                                total=total)
    text = tr("Attachment: {name} {description}", name=name, description=scan.description).strip()
    if scan.late:
        text += tr(" (added after the record was submitted: {by}, {at})", by=scan.added_by,
                   at=f"{scan.added_at:%Y-%m-%d %H:%M}")
    return text


def form(record: RecordData, material: MaterialData, st: Styles, pdf_pages: list, ink: bool = False) -> list:
    """label | value | label | value; long texts over the whole width."""
    amended = {a.field for a in record.amendments}
    rows, spans, pending = [], [], []

    def label(text):
        return cell(("※" if text in amended else "") + text, st.cell, 28 * mm)

    for name, text_label, value in record.values:
        if record.kinds.get(name) == "longtext" or len(value) > 40:
            if pending:
                rows.append(pending + ["", ""])
                pending = []
            spans.append(("SPAN", (1, len(rows)), (3, len(rows))))
            rows.append([label(text_label), para(value, st.cell), "", ""])
        else:
            pending += [label(text_label), cell(value, st.cell, 57 * mm)]
            if len(pending) == 4:
                rows.append(pending)
                pending = []
    if pending:
        rows.append(pending + ["", ""])
    # The labels are shaded; a long text spanning the row keeps a white ground.
    spanned = {start[1] for _kind, start, _end in spans}
    shade = [("BACKGROUND", (0, 0), (0, -1), LABEL_SHADE)] + [
        ("BACKGROUND", (2, r), (2, r), LABEL_SHADE) for r in range(len(rows)) if r not in spanned]
    out = [grid(rows, [28 * mm, 57 * mm, 28 * mm, 57 * mm], header=False, extra=spans + shade)]
    if record.items:
        out += [Spacer(1, 2 * mm), para(tr("Inspection items"), st.cell)]
        head = [para(h, st.head) for h in [tr("No."), *material.item_labels]]
        widths = [10 * mm, 38 * mm, 34 * mm, 34 * mm, 34 * mm, 20 * mm]
        body = [[str(i), *(cell(v, st.cell, w) for v, w in zip(item, widths[1:]))] for i, item in enumerate(record.items, 1)]
        out.append(grid([head, *body], widths))
    out += amendment_block(record, st)
    out += signature_block(record, st, ink)
    out += scan_block(record, st, pdf_pages)
    return out


def _columns(material: MaterialData) -> tuple[list[int], list[tuple[str, str]]]:
    """Columns worth a place in the register, and the values shared by every row."""
    first = material.records[0].values
    shared, shown = [], []
    for i, (_name, label, value) in enumerate(first):
        values = {r.values[i][2] for r in material.records}
        if values == {""}:
            continue
        if len(values) == 1 and len(material.records) > 1:
            shared.append((label, value))
        else:
            shown.append(i)
    return shown, shared


# What a column should not break: a date and time, a phone number, a number with its unit (and its
# direction: 领用 12 kg), a run between spaces and punctuation (a lot number, a
# name); a long Chinese run may break after four characters.
_UNBROKEN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d|\d{2,4}-\d{3,4} \d{4}\b"
                       r"|(?:[\u4e00-\u9fff]{1,2} )?-?\d[\d.,]*(?: [^\s\d、，。；：（）()]{1,4}(?=\s|$))?"
                       r"|[^\s、，。；：（）()]+")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]")
_DIGIT = re.compile(r"\d")
CELL_PAD = 4.5  # left + right padding of a cell, and a little air
LONGEST = 60 * mm  # a column wider than this wraps its text


def _sizes(material: MaterialData, index: int, st: Styles) -> tuple[float, float]:
    """(natural, least) width of a register column: the natural one holds its
    longest value on one line (up to ``LONGEST``), the least one its longest
    unbroken word and its label on at most three lines."""
    size, head = st.cell.fontSize, st.head.fontSize
    label = material.records[0].values[index][1]
    texts = {r.values[index][2] for r in material.records[:300]}
    longest = max((stringWidth(line, FONT, size) for t in texts for line in t.split("\n")), default=0)
    four_chars = stringWidth("国国国国", FONT, size)

    def unbroken(word: str, font_size: float) -> float:
        width = stringWidth(word, FONT, font_size)
        # A Chinese word may break after four characters; a quantity (领用 12 kg) never.
        return min(width, four_chars) if _CJK.search(word) and not _DIGIT.search(word) else width

    word = max((unbroken(w, size) for t in texts for w in _UNBROKEN.findall(t)), default=0)
    label_w = stringWidth(label, FONT, head)
    label_word = max((unbroken(w, head) for w in _UNBROKEN.findall(label)), default=0)
    two_chars = four_chars / 2
    natural = max(min(longest, LONGEST), min(label_w, 18 * mm), two_chars) + CELL_PAD
    least = max(word, label_w / 3, label_word, two_chars) + CELL_PAD
    return max(natural, least), least


def _fixed(material: MaterialData) -> float:
    return 9 * mm + SIG_WIDTH * len(material.records[0].signatures)


SQUEEZE = 0.35  # a column keeps at least this share of its room above its least width


def fits(material: MaterialData, st: Styles, width: float) -> bool:
    """The register's columns fit ``width`` without breaking a word, and
    without squeezing every column to a narrow strip of many short lines."""
    shown, _shared = _columns(material)
    sizes = [_sizes(material, i, st) for i in shown]
    natural, least = sum(n for n, _l in sizes), sum(m for _n, m in sizes)
    return _fixed(material) + least + SQUEEZE * (natural - least) <= width


def register_columns(material: MaterialData, width: float = WIDTH, st: Styles | None = None
                     ) -> tuple[list[int], list[tuple[str, str]], list[float]]:
    """The register's field columns, the values shared by all rows (printed
    above it) and the column widths: 顺序号, the fields, one per signature.
    Columns get their natural width when the page has room, else each gives
    up what it can above its least width, in proportion."""
    st = st or Styles()
    shown, shared = _columns(material)
    meanings = len(material.records[0].signatures)
    sizes = [_sizes(material, i, st) for i in shown]
    free = width - _fixed(material)
    natural, least = sum(n for n, _l in sizes), sum(m for _n, m in sizes)
    if natural <= free:
        widths = [n * free / natural for n, _l in sizes]
    elif least <= free:
        share = (free - least) / (natural - least)
        widths = [m + (n - m) * share for n, m in sizes]
    else:  # even the least widths do not fit: words break
        widths = [m * free / least for _n, m in sizes]
    return shown, shared, [9 * mm, *widths, *([SIG_WIDTH] * meanings)]


PAD = 3.0  # top + bottom padding of a register cell (layout.GRID)
LEADING = 9.5  # of a plain-string cell (layout.GRID)
SAFETY = 8.0  # points kept free on every page against rounding


def _height(row: list, widths: list[float]) -> float:
    tallest = LEADING
    for value, width in zip(row, widths):
        if isinstance(value, str):
            continue
        parts = value if isinstance(value, list) else [value]
        tallest = max(tallest, sum(p.wrap(width - 4, 10_000)[1] for p in parts))
    return tallest + PAD


def paginate(heights: list[float], header: float, first: float, page: float) -> list[tuple[int, int]]:
    """Rows cut into page-sized runs (each with the header), measured once:
    reportlab's own Table.split re-measures every remaining row on every
    page, which is quadratic in a register of thousands of rows."""
    runs, start, used, room = [], 0, 0.0, first - header - SAFETY
    for index, height in enumerate(heights):
        if used + height > room and index > start:
            runs.append((start, index))
            start, used, room = index, 0.0, page - header - SAFETY
        used += height
    runs.append((start, len(heights)))
    return runs


def register(material: MaterialData, st: Styles, pdf_pages: list, room: tuple[float, float],
             ink: bool = False, width: float = WIDTH) -> list:
    """One line per record, the signatures in the last columns; ``room`` is
    the height left on the first page and the height of a whole page."""
    shown, shared, widths = register_columns(material, width, st)
    meanings = [s.meaning for s in material.records[0].signatures]
    out: list = []
    first, page = room
    if shared:
        line = para("　".join(f"{label}：{value}" for label, value in shared), st.cell)
        out += [line, Spacer(1, 1.5 * mm)]
        first -= line.wrap(width, page)[1] + 1.5 * mm
    head = [para(tr("No."), st.head), *(para(material.records[0].values[i][1], st.head) for i in shown),
            *(para(m, st.head) for m in meanings)]
    rows = []
    notes: list = []
    for n, record in enumerate(material.records, 1):
        mark = "※" if record.amendments else ""
        rows.append([f"{mark}{n}", *(cell(record.values[i][2], st.cell, w) for i, w in zip(shown, widths[1:])),
                     *(_sig_cell(s, st, with_image=True, ink=ink) for s in record.signatures)])
        if record.amendments:
            notes += amendment_block(record, st, prefix=tr("line {n}: ", n=n))
        if record.scans:
            notes += scan_block(record, st, pdf_pages)
    runs = paginate([_height(r, widths) for r in rows], _height(head, widths), first, page)
    for index, (start, end) in enumerate(runs):
        if index:
            out.append(PageBreak())
        out.append(grid([head, *rows[start:end]], widths))
    return out + notes


def material_story(material: MaterialData, st: Styles, pdf_pages: list, archive_no: str, page: float,
                   ink: bool = False) -> list:
    story = _material_pages(material, st, pdf_pages, archive_no, page, ink)
    for chart in material.charts:
        story.append(KeepTogether([Spacer(1, 4 * mm), para(reading_chart.caption(chart), st.body),
                                   reading_chart.drawing(chart, WIDTH)]))
    return story


def _material_pages(material: MaterialData, st: Styles, pdf_pages: list, archive_no: str, page: float,
                    ink: bool = False) -> list:
    """The pages of one material; ``page`` is the height of a page's frame;
    ``ink``: signatures are given in ink on paper (纸质签名). A register too
    wide for a portrait page prints on landscape pages."""
    heading = para(material.title, st.title)
    heading.starts_material = material.seq  # the volume notes the page it lands on
    meta = [tr("Archive no. {no}", no=archive_no), tr("Item {seq}", seq=material.seq)]
    if material.doc_no:
        meta.append(tr("Document no. {no}", no=material.doc_no))
    meta.append(tr("Responsible: {who}", who=material.responsible))
    byline = para("　".join(meta), st.small)
    story = [PageBreak(), KeepTogether([heading, byline]), Spacer(1, 3 * mm)]
    if not material.records:
        return story + [para(tr("(the records of this item no longer exist)"), st.body)]
    columns = len(_columns(material)[0]) + len(material.records[0].signatures)
    if material.ledger in FORM_LEDGERS or len(material.records) == 1 or columns > MAX_COLUMNS:
        for n, record in enumerate(material.records):
            if n:
                story += [Spacer(1, 5 * mm)]
            if len(material.records) > 1:
                story.append(para(tr("Record {number}", number=record.number), st.body))
            story += form(record, material, st, pdf_pages, ink)
        return story
    width = WIDTH
    if not fits(material, st, WIDTH):
        width, page = LANDSCAPE_WIDTH, LANDSCAPE_FRAME
        story = [NextPageTemplate("landscape"), *story]
    top = heading.wrap(width, page)[1] + st.title.spaceAfter + byline.wrap(width, page)[1]
    first = page - top - 3 * mm
    story += register(material, st, pdf_pages, (first, page), ink, width)
    if width != WIDTH:
        story.append(NextPageTemplate("material"))  # the next material starts upright again
    return story
