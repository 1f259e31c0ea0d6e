"""Labels: a batch label (product, spec, production date, lot, expiry,
GS1-128 and a GS1 Digital Link QR code) and the cover and spine labels of
the 310 × 220 mm hard cover, printed on A4 and cut out."""

from __future__ import annotations

import datetime as dt

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from app import __version__
from app.errors import UserError
from app.i18n import tr
from app.models import CommodityBatch, Enterprise

from . import fonts
from .codes import digital_link, draw_gs1_128, draw_qr, gs1_128_modules, gs1_elements
from .volume_data import find_archive, read_volume

BATCH_LABEL = (100 * mm, 70 * mm)
A4 = (210 * mm, 297 * mm)
HARD_COVER = (220 * mm, 310 * mm)  # width × height of the archive box's cover


def _canvas(target, size, title: str, author: str) -> Canvas:
    canv = Canvas(target, pagesize=size)
    canv.setTitle(title)
    canv.setAuthor(author)
    canv.setCreator(f"FoodArchive {__version__}")
    return canv


def batch_label_data(session, lot_code: str) -> dict:
    lot = session.scalar(select(CommodityBatch).where(CommodityBatch.lot_code == lot_code.strip()))
    if lot is None:
        raise UserError(tr("No commodity batch has the lot number {lot}.", lot=lot_code))
    if not lot.spec.gtin:
        raise UserError(tr("The spec {spec} of {product} has no GTIN, so no GS1 barcode can be made.",
                           spec=lot.spec.spec, product=lot.product_batch.product.name))
    enterprise = session.scalar(select(Enterprise).limit(1))
    return {"product": lot.product_batch.product.name, "spec": lot.spec.spec, "gtin": lot.spec.gtin,
            "lot": lot.lot_code, "production_date": lot.production_date, "expiry_date": lot.expiry_date,
            "enterprise": enterprise.name if enterprise else ""}


def batch_label(session, lot_code: str, target) -> str:
    """A 100 × 70 mm label of a commodity batch; returns the Digital Link URI."""
    from app.services import settings, users

    users.require(session, "print")
    fonts.from_settings(session)
    data = batch_label_data(session, lot_code)
    uri = digital_link(settings.get(session, "digital_link_resolver"), data["gtin"], data["lot"],
                       data["production_date"], data["expiry_date"])
    draw_batch_label(data, uri, target)
    return uri


def draw_batch_label(data: dict, uri: str, target) -> None:
    w, h = BATCH_LABEL
    canv = _canvas(target, BATCH_LABEL, f"{data['product']} {data['lot']}", data["enterprise"])
    canv.setFont(fonts.FONT, 12)
    canv.drawString(5 * mm, h - 9 * mm, data["product"])
    canv.setFont(fonts.FONT, 8.5)
    expiry: dt.date | None = data["expiry_date"]
    lines = [f"规格：{data['spec']}", f"生产日期：{data['production_date']:%Y-%m-%d}", f"批号：{data['lot']}",
             f"保质期至：{expiry:%Y-%m-%d}" if expiry else "保质期至：—", data["enterprise"]]
    for i, line in enumerate(lines):
        canv.drawString(5 * mm, h - 16 * mm - i * 4.6 * mm, line)
    draw_qr(canv, uri, w - 33 * mm, h - 37 * mm, 30 * mm)
    elements = gs1_elements(data["gtin"], data["lot"], data["production_date"], expiry)
    modules = len(gs1_128_modules(elements)) + 20  # with the quiet zones
    draw_gs1_128(canv, elements, 3 * mm, 3 * mm, 15 * mm, min(0.33 * mm, (w - 6 * mm) / modules), fonts.FONT, 7)
    canv.showPage()
    canv.save()


def _stacked(canv, text: str, x: float, top: float, size: float, bottom: float) -> None:
    """Chinese written down the spine, one upright character under the other."""
    canv.setFont(fonts.FONT, size)
    y = top - size
    for ch in text:
        if y < bottom:
            break
        if ch.strip():
            canv.drawCentredString(x, y, ch)
        y -= size * 1.12


def cover_label(session, number: str, target, spine_mm: float = 30) -> None:
    """On one A4 sheet: the label for the face of the hard cover and the
    spine strip (``spine_mm`` wide: 20, 30 or 40 mm boxes), with cut lines."""
    from app.services import users

    users.require(session, "print")
    fonts.from_settings(session)
    volume = read_volume(session, find_archive(session, number))
    if not 15 <= spine_mm <= 60:
        raise UserError(tr("The spine width must be between 15 and 60 mm."))
    canv = _canvas(target, A4, volume.title, volume.fonds)
    # The face label: 140 × 200 mm, centred on the 220 mm wide cover.
    fx, fy, fw, fh = 12 * mm, 85 * mm, 140 * mm, 200 * mm
    canv.setDash(3, 2)
    canv.rect(fx, fy, fw, fh)
    sx, sw, sh = fx + fw + 10 * mm, spine_mm * mm, 277 * mm
    canv.rect(sx, 10 * mm, sw, sh)
    canv.setDash()
    canv.setFont(fonts.FONT, 14)
    canv.drawCentredString(fx + fw / 2, fy + fh - 18 * mm, volume.fonds)
    canv.setFont(fonts.FONT, 20)
    canv.drawCentredString(fx + fw / 2, fy + fh - 34 * mm, volume.category)
    rows = [("案卷题名", volume.title), ("时　　间", f"{volume.first:%Y%m%d}—{volume.last:%Y%m%d}" if volume.first else ""),
            ("保管期限", volume.retention), ("件　　数", f"{len(volume.materials)} 件"), ("档　　号", volume.archive_no)]
    y = fy + fh - 55 * mm
    for label, value in rows:
        canv.setFont(fonts.FONT, 11)
        canv.drawString(fx + 10 * mm, y, label)
        size = 11 if canv.stringWidth(value, fonts.FONT, 11) < fw - 45 * mm else 8
        canv.setFont(fonts.FONT, size)
        canv.drawString(fx + 35 * mm, y, value)
        canv.line(fx + 33 * mm, y - 2 * mm, fx + fw - 10 * mm, y - 2 * mm)
        y -= 12 * mm
    draw_qr(canv, volume.qr_text, fx + fw / 2 - 20 * mm, fy + 8 * mm, 40 * mm)
    # The spine: 全宗 and 档号 across the top, the title down the middle.
    centre = sx + sw / 2
    canv.setFont(fonts.FONT, 7)
    canv.drawCentredString(centre, 10 * mm + sh - 8 * mm, volume.retention)
    _stacked(canv, volume.title, centre, 10 * mm + sh - 14 * mm, min(14, spine_mm * 0.45) * 1.0, 60 * mm)
    canv.saveState()
    canv.translate(centre + 2.5, 14 * mm)
    canv.rotate(90)
    canv.setFont(fonts.FONT, 9)
    canv.drawString(0, 0, volume.archive_no)
    canv.restoreState()
    canv.setFont(fonts.FONT, 7)
    canv.drawString(fx, 78 * mm, tr("Cut along the dashed lines: the face label ({w} × {h} mm) for the {cw} × {ch} mm "
                                    "hard cover, and the {s} mm spine strip.", w=140, h=200, cw=220, ch=310, s=spine_mm))
    canv.showPage()
    canv.save()
