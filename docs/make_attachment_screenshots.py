"""Render the attachment screens (R3.6) on the demo factory into
docs/screenshots/13-*.png: a supplier licence with its scans, a submitted
receipt with a voucher photo added later and a refused file, files dragged
over a batch record's empty panel, and the pages of a printed volume where
the batch record's attachments follow it.

    xvfb-run -a -s "-screen 0 1600x1000x24" python3 docs/make_attachment_screenshots.py
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_screenshots import settle  # noqa: E402


def font(size: int):
    from PIL import ImageFont

    from app.reports import fonts

    path, _, index = fonts.register("").partition("#")
    return ImageFont.truetype(path, size, index=int(index or 0))


def licence_scan(path: Path, name: str) -> Path:
    """A scanned business licence: a bordered sheet with its items."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1240, 880), "#fbf7ee")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, 1210, 850), outline="#b8860b", width=10)
    draw.text((620, 110), "营 业 执 照", font=font(72), fill="#a00000", anchor="mm")
    lines = [f"名　　称：{name}", "统一社会信用代码：91230100MA1B2C3D4X", "类　　型：有限责任公司",
             "住　　所：黑龙江省哈尔滨市道里区", "经营范围：粮食收购、销售；食用农产品批发", "营业期限：2015年03月01日至长期"]
    for row, text in enumerate(lines):
        draw.text((120, 230 + row * 80), text, font=font(38), fill="#222222")
    draw.ellipse((900, 600, 1120, 820), outline="#c00000", width=8)
    draw.text((1010, 710), "登记机关", font=font(34), fill="#c00000", anchor="mm")
    image.save(path, "PNG")
    return path


def voucher_photo(path: Path) -> Path:
    """A phone photo of a delivery note, taken sideways (orientation tag 6)."""
    from PIL import Image, ImageDraw

    sheet = Image.new("RGB", (1000, 700), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((500, 60), "送 货 单", font=font(56), fill="black", anchor="mm")
    for row, text in enumerate(["品名：非转基因大豆　　规格：50kg/袋", "数量：2000 kg　　批号：HLJ-2611",
                                "收货人签字：＿＿＿＿　　日期：2026-11-10"]):
        draw.text((80, 180 + row * 110), text, font=font(36), fill="black")
    draw.rectangle((20, 20, 980, 680), outline="black", width=4)
    turned = sheet.transpose(Image.Transpose.ROTATE_90)  # the camera was held sideways
    exif = Image.Exif()
    exif[0x0112] = 6
    turned.save(path, "JPEG", quality=88, exif=exif)
    return path


def report_pdf(path: Path, title: str) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from app.reports import fonts

    fonts.register("")
    out = io.BytesIO()
    canv = Canvas(out, pagesize=A4)
    for page in (1, 2):
        canv.setFont(fonts.FONT, 22)
        canv.drawCentredString(A4[0] / 2, A4[1] - 90, title)
        canv.setFont(fonts.FONT, 12)
        canv.drawString(72, A4[1] - 140, f"报告编号：WT-2026-1121-{page:02d}　　第 {page} 页 共 2 页")
        for row, text in enumerate(["检验项目　　　标准要求　　　检验结果　　单项判定",
                                    "蛋白质　　　　≥ 2.0 g/100g　3.1　　　　合格",
                                    "菌落总数　　　≤ 30000 CFU/g　1200　　　合格"]):
            canv.drawString(72, A4[1] - 190 - row * 26, text)
        canv.rect(60, 80, A4[0] - 120, A4[1] - 200)
        canv.showPage()
    canv.save()
    path.write_bytes(out.getvalue())
    return path


def drag_over(panel, paths) -> None:
    """What the panel shows while files from the file manager hover over it."""
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    QApplication.sendEvent(panel, QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime,
                                                  Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="a demo database to use (default: load the demo into a temporary one)")
    parser.add_argument("--out", default=str(HERE / "screenshots"))
    args = parser.parse_args()

    from app.db import open_database
    from app.models import IncomingInspection, ProductBatch, Supplier, SupplierDocument
    from app.reports.volume import print_volume
    from app.services import acting, archives, users
    from app.ui.app import make_application
    from app.ui.context import AppContext
    from app.ui.record_dialog import RecordDialog
    from app.ui.tasks import TaskRunner
    from PySide6.QtGui import QDragLeaveEvent

    app = make_application(sys.argv)
    folder = Path(tempfile.mkdtemp())
    path = args.db or str(folder / "demo.db")
    engine, maker = open_database(f"sqlite:///{path}")
    if not args.db:
        from app.services import demo

        with acting.Sessions(maker, acting.system(demo.ACTOR)).begin() as session:
            demo.load(session)
    ctx = AppContext(engine, maker, TaskRunner(app))
    ctx.write(lambda s: users.create_user(s, "qian", "钱淑芬", "demo-password-1", ["quality_manager"]),
              as_system="截图")(None)
    with ctx.read() as session:
        ctx.log_in(session.scalar(select(users.User.id).where(users.User.username == "qian")))
        document = session.scalar(select(SupplierDocument).where(SupplierDocument.kind == "business_licence")
                                  .order_by(SupplierDocument.id).limit(1))
        document_id, supplier = document.id, session.get(Supplier, document.supplier_id).name
        receipt_id = session.scalar(select(IncomingInspection.id).where(IncomingInspection.submitted_at.is_not(None))
                                    .order_by(IncomingInspection.id.desc()).limit(1))
        # A batch still in production: its scans are not "added after submission".
        batch_id = session.scalar(select(ProductBatch.id).order_by((ProductBatch.status == "open").desc(),
                                                                   ProductBatch.id.desc()).limit(1))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def shoot(widget, name: str) -> None:
        settle(app, ctx, 0.6)
        widget.grab().save(str(out / f"{name}.png"))
        print(out / f"{name}.png")

    # A supplier's business licence: the scan fills the licence's 证件扫描件.
    dialog = RecordDialog.open(ctx, "supplier_document", document_id)
    dialog.resize(860, 900)
    settle(app, ctx)
    dialog.attachments.description.setText("营业执照正本扫描件")
    dialog.attachments.add_files([licence_scan(folder / "营业执照正本.png", supplier)])
    settle(app, ctx)
    dialog.attachments.add_files([report_pdf(folder / "食品生产许可证.pdf", "食品生产许可证（副本）")])
    settle(app, ctx)
    dialog.attachments.select(dialog.attachments.items[0].id)
    shoot(dialog, "13-attachments-licence")
    dialog.close()

    # A submitted receipt: the delivery note photo comes later; a file that
    # is not a picture is refused by name.
    dialog = RecordDialog.open(ctx, "incoming_inspection", receipt_id)
    dialog.resize(860, 900)
    settle(app, ctx)
    dialog.attachments.add_files([voucher_photo(folder / "送货单照片.jpg")])
    settle(app, ctx)
    fake = folder / "发票.png"
    fake.write_text("这是一份文本，不是图片", encoding="utf-8")
    cut = folder / "磅单.jpg"
    cut.write_bytes((folder / "送货单照片.jpg").read_bytes()[:4000])
    dialog.attachments.add_files([fake, cut])
    settle(app, ctx)
    shoot(dialog, "13-attachments-refused")
    dialog.close()

    # A batch record: files dragged over its empty panel, then a scanned
    # report and a photo attached, and the volume printed.
    dialog = RecordDialog.open(ctx, "product_batch", batch_id)
    settle(app, ctx)
    files = [report_pdf(folder / "在线检测记录.pdf", "在线检测记录"), voucher_photo(folder / "现场照片.jpg")]
    drag_over(dialog.attachments, files)
    shoot(dialog, "13-attachments-drop")
    dialog.attachments.dragLeaveEvent(QDragLeaveEvent())
    dialog.attachments.add_files(files)
    settle(app, ctx)
    dialog.close()
    volume = folder / "volume.pdf"
    with ctx.sessions.begin() as session:
        archive = archives.product_archive(session, session.get(ProductBatch, batch_id))
        print_volume(session, archive.id, volume)
    from pypdf import PdfReader

    texts = [page.extract_text() for page in PdfReader(volume).pages]
    first = next(i for i, t in enumerate(texts) if "产品批生产记录（批号" in t and "生产批号" in t)
    shown = [first, *(i for i, t in enumerate(texts) if "附件：" in t)][:4]
    pictures = []
    for index in shown:
        stem = folder / f"page-{index}"
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(index + 1), "-l", str(index + 1), "-singlefile",
                        str(volume), str(stem)], check=True)
        pictures.append(stem.with_suffix(".png"))
    from PIL import Image

    pages = [Image.open(p) for p in pictures]
    sheet = Image.new("RGB", (sum(p.width for p in pages) + 12 * (len(pages) + 1), max(p.height for p in pages) + 24),
                      "#8a8a8a")
    x = 12
    for page in pages:
        sheet.paste(page, (x, 12))
        x += page.width + 12
    sheet.save(out / "13-attachments-volume.png")
    print(out / "13-attachments-volume.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
