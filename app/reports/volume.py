"""One printed archive volume (案卷), GB/T 9705-2008 and guideline art. 45–46:
cover (案卷封面) → catalogue (卷内目录) → materials → remarks sheet
(卷内备考表). A4 portrait, the CJK font embedded.

Only the material pages are numbered (top right, from 1). The catalogue's
页号/页数 and the cover's 页数 depend on where the materials fall, so they
are drawn when the document is saved (``DeferringCanvas``): one layout pass.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate, Frame, NextPageTemplate, PageBreak, PageTemplate, Spacer, Table,
)

from app import __version__
from app.i18n import tr

from . import fonts
from .codes import QRFlowable
from .layout import (
    LANDSCAPE_FRAME, LANDSCAPE_MARGINS, LANDSCAPE_WIDTH, LEFT, MATERIAL_FRAME, PAGE_H, PAGE_W, RIGHT, WIDTH,
    DeferringCanvas, Later, Styles, grid, para,
)
from .materials import material_story
from .volume_data import VolumeData, read_volume

log = logging.getLogger("reports")

CATALOGUE_HEADS = ("顺序号", "档号/文号", "责任者", "题名", "日期", "页号", "页数", "备注")
CATALOGUE_WIDTHS = [w * mm for w in (10, 24, 20, 60, 16, 14, 10, 16)]  # 170 mm, GB/T 9705's proportions


@dataclass
class Plan:
    """Where things fell: filled during the build, read when the pages are saved."""

    material_count: int
    offset: int | None = None  # physical pages before material page 1
    starts: dict[int, int] = field(default_factory=dict)  # seq -> material page
    last_material_page: int = 0
    pdf_pages: list = field(default_factory=list)  # (physical page, PdfPage)

    @property
    def pages(self) -> int:
        return self.last_material_page

    def start(self, seq: int) -> int:
        return self.starts.get(seq, 0)

    def end(self, seq: int) -> int:
        later = [p for s, p in self.starts.items() if s > seq]
        return (min(later) - 1) if later else self.last_material_page

    def page_range(self, seq: int) -> str:
        start, end = self.start(seq), self.end(seq)
        return str(start) if seq < self.material_count or start == end else f"{start}-{end}"

    def page_count(self, seq: int) -> int:
        return self.end(seq) - self.start(seq) + 1


class VolumeDoc(BaseDocTemplate):
    def __init__(self, target, volume: VolumeData, **kwargs):
        super().__init__(
            target, pagesize=(PAGE_W, PAGE_H), leftMargin=LEFT, rightMargin=RIGHT, topMargin=20 * mm,
            bottomMargin=15 * mm, title=volume.title, author=volume.fonds, subject=volume.archive_no,
            creator=f"FoodArchive {__version__}", keywords=volume.archive_no, **kwargs,
        )
        self.volume = volume
        self.plan = Plan(len(volume.materials))

        def frame(top):
            return Frame(LEFT, 15 * mm, WIDTH, PAGE_H - top - 15 * mm, id="body", leftPadding=0, rightPadding=0,
                         topPadding=0, bottomPadding=0)

        self.addPageTemplates([
            PageTemplate("cover", [frame(25 * mm)]),
            PageTemplate("catalogue", [frame(35 * mm)]),  # table 35 mm from the top
            PageTemplate("material", [frame(20 * mm)], onPage=self._number),  # MATERIAL_FRAME high
            PageTemplate("remarks", [frame(25 * mm)]),
            PageTemplate("landscape", [Frame(
                LANDSCAPE_MARGINS[0], LANDSCAPE_MARGINS[3], LANDSCAPE_WIDTH, LANDSCAPE_FRAME, id="wide",
                leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)],
                onPage=self._number, pagesize=(PAGE_H, PAGE_W)),
        ])

    def _number(self, canv, _doc) -> None:
        page = canv.getPageNumber()
        if self.plan.offset is None:
            self.plan.offset = page - 1
        number = page - self.plan.offset
        self.plan.last_material_page = number
        canv.setFont(fonts.FONT, 10)
        width, height = canv._pagesize  # a landscape page too
        canv.drawRightString(width - RIGHT, height - 12 * mm, str(number))

    def afterFlowable(self, flowable) -> None:  # noqa: N802 — reportlab's name
        seq = getattr(flowable, "starts_material", None)
        if seq is not None:
            self.plan.starts[seq] = self.page - self.plan.offset
        pdf_page = getattr(flowable, "pdf_page", None)
        if pdf_page is not None:
            self.plan.pdf_pages.append((self.page, pdf_page))


# ------------------------------------------------------------------ parts


def _date_span(volume: VolumeData) -> str:
    if volume.first is None:
        return ""
    return f"{volume.first:%Y%m%d}—{volume.last:%Y%m%d}"


def cover(volume: VolumeData, plan: Plan, st: Styles) -> list:
    rows = [
        ("全宗名称", volume.fonds), ("类目名称", volume.category), ("案卷题名", volume.title),
        ("时　　间", _date_span(volume)),
        ("保管期限", volume.retention + (f"（至 {volume.retention_until:%Y-%m-%d}）" if volume.retention_until else "")),
    ]
    table = [[para(k, st.cover), para(v, st.cover_title if k == "案卷题名" else st.cover)] for k, v in rows]
    table.append([para("件　　数", st.cover), para(f"{len(volume.materials)} 件", st.cover)])
    table.append([para("页　　数", st.cover), Later(lambda: f"{plan.pages} 页", 12, "left")])
    table += [[para("归 档 号", st.cover), para(volume.filing_no, st.cover)],
              [para("档　　号", st.cover), para(volume.archive_no, st.cover)]]
    qr = Table([[QRFlowable(volume.qr_text, 32 * mm),
                 para(tr("Archive number and content hash (SHA-256):") + f"\n{volume.archive_no}\n{volume.content_hash}",
                      st.small)]], colWidths=[36 * mm, WIDTH - 36 * mm], hAlign="LEFT",
               style=[("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
    return [
        Spacer(1, 10 * mm), para(volume.fonds, st.title), Spacer(1, 6 * mm),
        para(volume.category, st.big),
        Spacer(1, 12 * mm),
        grid(table, [30 * mm, WIDTH - 30 * mm], header=False, extra=[("TOPPADDING", (0, 0), (-1, -1), 6),
                                                                      ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]),
        Spacer(1, 14 * mm), qr,
    ]


def catalogue(volume: VolumeData, plan: Plan, st: Styles) -> list:
    heads = [para(h, st.head) for h in CATALOGUE_HEADS]
    rows = [heads]
    for m in volume.materials:
        remark = tr("{count} records", count=len(m.records)) if len(m.records) > 1 else ""
        rows.append([
            para(str(m.seq), st.cell), para(m.doc_no, st.small), para(m.responsible, st.small), para(m.title, st.cell),
            para(f"{m.date:%Y%m%d}" if m.date else "", st.small),
            Later(lambda seq=m.seq: plan.page_range(seq), 7.5), Later(lambda seq=m.seq: str(plan.page_count(seq)), 7.5),
            para(remark, st.small),
        ])
    summary = para("　".join([f"档号：{volume.archive_no}", f"案卷题名：{volume.title}"]), st.body)
    total = Later(lambda: f"总页数：{plan.pages}　件数：{len(volume.materials)}", 9, "left")
    return [para("卷内目录", st.part), summary, total, Spacer(1, 3 * mm), grid(rows, CATALOGUE_WIDTHS)]


def remarks(volume: VolumeData, plan: Plan, st: Styles) -> list:
    cites = "；".join(f"{no}（{title}）" for no, title in volume.cross_refs)
    lines = [para("本卷情况说明：", st.body),
             Later(lambda: f"本卷共 {len(volume.materials)} 件，{plan.pages} 页。", 9, "left")]
    lines += [para(text, st.cell) for text in volume.remarks]
    used = sum(line.wrap(WIDTH - 6 * mm, PAGE_H)[1] + 2 for line in lines)
    # One framed column that may run over pages, at least 165 mm high on paper.
    rows = [[line] for line in lines] + [[Spacer(1, max(5 * mm, 165 * mm - used))]]
    box = grid(rows, [WIDTH], header=False, extra=[("GRID", (0, 0), (-1, -1), 0, (1, 1, 1)),
                                                   ("BOX", (0, 0), (-1, -1), 0.8, (0, 0, 0)),
                                                   ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm)])
    sign = grid([[para("立卷人", st.body), para(volume.filer, st.body), para("检查人", st.body),
                  para(volume.checker, st.body)],
                 [para("立卷时间", st.body), para(f"{volume.filed_on:%Y-%m-%d}" if volume.filed_on else "", st.body),
                  para("档号", st.body),
                  para(volume.archive_no, st.body)]],
                [25 * mm, 60 * mm, 25 * mm, 60 * mm], header=False)
    return [para("卷内备考表", st.part), para(f"互见号：{cites}", st.body), Spacer(1, 3 * mm),
            box, Spacer(1, 6 * mm), sign]


# ------------------------------------------------------------------ build


def build(volume: VolumeData, target, font: str = "") -> Plan:
    """Lay out ``volume`` into ``target`` (path or binary file); returns the page plan."""
    fonts.register(font)
    target = str(target) if isinstance(target, Path) else target
    st = Styles()
    pdf_out = target
    doc = VolumeDoc(io.BytesIO() if _needs_merge(volume) else target, volume)
    plan = doc.plan
    story = cover(volume, plan, st) + [NextPageTemplate("catalogue"), PageBreak()] + catalogue(volume, plan, st)
    story.append(NextPageTemplate("material"))
    attached: list = []  # PDF pages of scans; afterFlowable notes where they fall
    for material in volume.materials:
        story += material_story(material, st, attached, volume.archive_no, MATERIAL_FRAME, volume.paper_signatures)
    story += [NextPageTemplate("remarks"), PageBreak()] + remarks(volume, plan, st)
    doc.build(story, canvasmaker=DeferringCanvas)
    if doc.filename is not target:
        _merge_pdf_pages(doc.filename.getvalue(), plan, pdf_out)
    return plan


def _needs_merge(volume: VolumeData) -> bool:
    return any(s.media_type == "application/pdf" for m in volume.materials for r in m.records for s in r.scans)


def _merge_pdf_pages(data: bytes, plan: Plan, target) -> None:
    """Place attached PDF pages on their placeholder pages, scaled into the frame."""
    from pypdf import PdfReader, PdfWriter, Transformation

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    # Each attached PDF opened once, as a writer's copy: turning a page's
    # content (below) needs a page that belongs to a writer.
    sources: dict[int, PdfWriter] = {}
    for physical, pdf_page in plan.pdf_pages:
        key = id(pdf_page.content)
        if key not in sources:
            sources[key] = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_page.content)))
        source = sources[key].pages[pdf_page.index]
        if source.rotation % 360:
            # A scanner often stores a sideways page with /Rotate: merging
            # copies only the content, so turn the content itself.
            source.transfer_rotation_to_content()
        box = source.mediabox
        w, h = float(box.width), float(box.height)
        box_w, box_h = WIDTH, PAGE_H - 20 * mm - 15 * mm - 10 * mm
        scale = min(box_w / w, box_h / h)
        writer.pages[physical - 1].merge_transformed_page(
            source, Transformation().translate(-float(box.left), -float(box.bottom)).scale(scale)
            .translate(LEFT, 15 * mm + (box_h - h * scale)))
    if isinstance(target, (str, Path)):
        with open(target, "wb") as out:
            writer.write(out)
    else:
        writer.write(target)


def print_volume(session, archive_id: int, target, font: str | None = None) -> Plan:
    """Read archive ``archive_id`` and write its volume to ``target``."""
    from app.services import settings, users

    users.require(session, "print")
    setting = settings.get(session, "report_font") if font is None else font
    fonts.register(setting)  # fail before reading anything when no font exists
    return build(read_volume(session, archive_id), target, setting)
