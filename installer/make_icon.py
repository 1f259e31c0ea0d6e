"""Draws the application icon: resources/icons/foodarchive.png (256 px) and
foodarchive.ico (16–256 px, PNG-compressed entries, as Windows Vista+ reads).

Run once after changing the design, from the repository root, and commit the files:
    QT_QPA_PLATFORM=offscreen .venv/bin/python installer/make_icon.py
It needs a font with Chinese glyphs (Debian: fonts-wqy-microhei).
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPainterPath

SIZES = (16, 24, 32, 48, 64, 128, 256)
OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"


def draw(size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    margin = size * 0.04
    box = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    path = QPainterPath()
    path.addRoundedRect(box, size * 0.18, size * 0.18)
    painter.fillPath(path, QColor("#2e7d32"))  # a food-safety green
    # A folded-corner sheet: the archive.
    sheet = QRectF(size * 0.22, size * 0.16, size * 0.56, size * 0.68)
    fold = size * 0.14
    page = QPainterPath()
    page.moveTo(sheet.left(), sheet.top())
    page.lineTo(sheet.right() - fold, sheet.top())
    page.lineTo(sheet.right(), sheet.top() + fold)
    page.lineTo(sheet.right(), sheet.bottom())
    page.lineTo(sheet.left(), sheet.bottom())
    page.closeSubpath()
    painter.fillPath(page, QColor("white"))
    font = QFont("WenQuanYi Micro Hei")
    font.setPixelSize(max(8, int(size * 0.40)))
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#1b5e20"))
    painter.drawText(sheet.adjusted(0, fold * 0.5, 0, 0), Qt.AlignmentFlag.AlignCenter, "档")
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def ico(images: dict[int, bytes]) -> bytes:
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in images.items():
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(blobs))
        blobs += png
    return header + entries + blobs


def main() -> int:
    QGuiApplication(sys.argv)
    images = {size: draw(size) for size in SIZES}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "foodarchive.png").write_bytes(images[256])
    (OUT / "foodarchive.ico").write_bytes(ico(images))
    print(f"wrote {OUT / 'foodarchive.png'} and {OUT / 'foodarchive.ico'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
