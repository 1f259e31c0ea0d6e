"""R3.6 in the window: a factory installed on an empty database attaches a
PDF and a photo to a batch record through the record window's panel (the
add method and a real drop), the bad files of a drop are refused by name with
nothing written, and the printed archive volume carries the attachments right
after their record."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import func, select

from app.models import Attachment, AuditEntry, ProductBatch, Supplier, SupplierDocument
from app.reports.volume import print_volume
from app.services import archives, audit, common, production, suppliers, users
from app.services.attachments import size_text
from app.ui import attachments_panel
from app.ui.dialogs import Dialogs
from app.ui.record_dialog import RecordDialog

PASSWORD = "correct-horse-9"


def credit_code(body: str) -> str:
    from stdnum.cn import uscc

    return body + uscc.calc_check_digit(body)

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(autouse=True)
def close_without_asking(monkeypatch):
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda cls, *args: True))


def run(ctx, fn, as_system: str | None = None):
    """A service call as the window makes it (``ctx.write``), waited for."""
    return ctx.write(fn, as_system=as_system)(None)


@pytest.fixture
def factory(empty_ctx):
    """Day one: the administrator, the staff, the enterprise and a product,
    then a batch the operator starts — all through the services."""
    ctx = empty_ctx
    admin = run(ctx, lambda s: users.create_first_administrator(s, "admin", "管理员", PASSWORD).id,
                as_system="首次启动")
    ctx.log_in(admin)
    people = {}
    for username, name, roles in (("zhao", "赵操作", ["operator"]), ("qian", "钱经理", ["quality_manager"]),
                                  ("sun", "孙采购", ["purchaser"]), ("li", "李检验", ["inspector"])):
        people[username] = run(ctx, lambda s, u=username, n=name, r=roles: users.create_user(s, u, n, PASSWORD, r).id)

    def master(session):
        common.create(session, "enterprise", dict(
            name="上海示范豆制品有限公司", credit_code=credit_code("91310115MA1K4F8L3"), address="上海市浦东新区",
            licence_no="SC11131011500017", fonds_code="0001"))
        product = common.create(session, "product", dict(code="P01", name="豆浆基料", kind="semi_finished",
                                                         shelf_life_days=2, storage_condition="chilled"))
        supplier = suppliers.add_supplier(session, dict(name="黑龙江某粮油有限公司", address="黑龙江省哈尔滨市"))
        return product.id, supplier.id

    product_id, supplier_id = run(ctx, master)
    ctx.log_in(people["zhao"])
    batch_id = run(ctx, lambda s: production.start_batch(s, dict(product_id=product_id, production_date="2026-11-21")).id)
    return ctx, people, batch_id, supplier_id


def png_file(path: Path, text: str = "") -> Path:
    image = Image.new("RGB", (900, 640), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, 870, 610), outline="black", width=6)
    draw.rectangle((60, 60, 420, 200), fill="#1a73e8")
    image.save(path, "PNG")
    return path


def pdf_file(path: Path, *texts: str) -> Path:
    out = io.BytesIO()
    canv = Canvas(out, pagesize=(595, 842))
    for line in texts:
        canv.setFont("Helvetica", 24)
        canv.drawString(72, 700, line)
        canv.showPage()
    canv.save()
    path.write_bytes(out.getvalue())
    return path


def drop(panel, paths) -> None:
    """Drag files from the file manager and drop them on the panel."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    where = QPointF(panel.list.geometry().center())
    enter = QDragEnterEvent(where.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    event = QDropEvent(where, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, event)
    assert event.isAccepted()


def state(ctx) -> tuple[int, int, list]:
    with ctx.engine.connect() as connection:
        return (connection.scalar(select(func.count()).select_from(Attachment.__table__)),
                connection.scalar(select(func.count()).select_from(AuditEntry.__table__)),
                audit.verify(connection))


def test_attach_through_the_panel_then_print_the_volume(qtbot, factory, tmp_path, monkeypatch):
    ctx, people, batch_id, _supplier_id = factory
    record = RecordDialog.open(ctx, "product_batch", batch_id)
    qtbot.addWidget(record)
    ctx.runner.settle()
    panel = record.attachments
    assert panel.isVisible() and panel.add_button.isVisible() and panel.rows() == []
    assert panel.empty.isVisible() and not panel.list.isVisible()  # a drop target, not an empty box

    report = pdf_file(tmp_path / "投料单扫描.pdf", "FEEDING SHEET PAGE 1", "FEEDING SHEET PAGE 2")
    panel.description.setText("原始投料单")
    panel.add_files([report])
    ctx.runner.settle()
    assert panel.rows() == [f"投料单扫描.pdf\n2 页 · {size_text(report.stat().st_size)}"]
    assert panel.items[0].description == "原始投料单" and panel.description.text() == ""
    photo = png_file(tmp_path / "现场照片.png")
    drop(panel, [photo])
    ctx.runner.settle()
    assert [i.filename for i in panel.items] == ["投料单扫描.pdf", "现场照片.png"]
    assert panel.list.isVisible() and not panel.empty.isVisible()
    assert panel.title.text() == "附件（2）" and not panel.error.isVisible()
    # Each has a picture: the PDF's first page and the photo, scaled.
    icons = [panel.list.item(r).icon() for r in range(panel.list.count())]
    assert all(not icon.isNull() for icon in icons)

    # Bad files dropped together: each refused by name, nothing written.
    fake = tmp_path / "发票.png"
    fake.write_text("不是图片", encoding="utf-8")
    good = tmp_path / "good.jpg"
    Image.new("RGB", (400, 300), "red").save(good, "JPEG")
    cut = tmp_path / "残缺.jpg"
    cut.write_bytes(good.read_bytes()[:300])
    before = state(ctx)
    drop(panel, [fake, cut])
    ctx.runner.settle()
    message = panel.error.text()
    assert panel.error.isVisible() and "「发票.png」不是可识别的图片或 PDF" in message and "「残缺.jpg」" in message
    assert state(ctx) == before and before[2] == []
    assert len(panel.rows()) == 2

    # Open in the system's viewer: a copy named like the original.
    opened = []
    monkeypatch.setattr(attachments_panel, "open_externally", lambda path: opened.append(path) or True)
    panel.select(panel.items[1].id)
    panel.open_selected()
    ctx.runner.settle()
    assert opened[0].name == "现场照片.png" and opened[0].read_bytes() == photo.read_bytes()

    # The batch record is filed in its archive: the attachments stay with it.
    assert not panel.remove_button.isEnabled() and "期满前不能删除" in panel.remove_button.toolTip()

    # The quality manager prints the volume: the attachments follow the record.
    ctx.log_in(people["qian"])
    out = tmp_path / "volume.pdf"
    with ctx.sessions.begin() as session:
        archive_id = archives.product_archive(session, session.get(ProductBatch, batch_id)).id
        print_volume(session, archive_id, out)
    texts = [page.extract_text() for page in PdfReader(out).pages]
    record_page = next(i for i, t in enumerate(texts) if "产品批生产记录" in t and "批号" in t)
    first = next(i for i, t in enumerate(texts) if "投料单扫描.pdf（第 1/2 页）" in t)
    second = next(i for i, t in enumerate(texts) if "投料单扫描.pdf（第 2/2 页）" in t)
    picture = next(i for i, t in enumerate(texts) if "现场照片.png" in t)
    assert record_page < first < second < picture < len(texts) - 1
    assert "FEEDING SHEET PAGE 1" in texts[first] and "FEEDING SHEET PAGE 2" in texts[second]
    assert "原始投料单" in texts[first]
    page = PdfReader(out).pages[picture]
    assert any(x.get_object()["/Subtype"] == "/Image" for x in page["/Resources"]["/XObject"].values())


def test_roles_decide_who_adds(qtbot, factory, tmp_path):
    ctx, people, batch_id, _supplier_id = factory
    ctx.log_in(people["li"])  # an inspector enters inspections, not production records
    record = RecordDialog.open(ctx, "product_batch", batch_id)
    qtbot.addWidget(record)
    ctx.runner.settle()
    panel = record.attachments
    assert not panel.add_button.isVisible() and "不能添加" in panel.hint.text()
    before = state(ctx)
    panel.add_files([png_file(tmp_path / "a.png")])
    ctx.runner.settle()
    assert "不能添加" in panel.error.text() and state(ctx) == before


def test_a_licence_scan_fills_the_documents_scan_field(qtbot, factory, tmp_path, monkeypatch):
    ctx, people, _batch_id, supplier_id = factory
    ctx.log_in(people["sun"])
    document_id = run(ctx, lambda s: suppliers.add_document(
        s, s.get(Supplier, supplier_id), dict(kind="business_licence", number="BL-2026-1")).id)
    record = RecordDialog.open(ctx, "supplier_document", document_id)
    qtbot.addWidget(record)
    ctx.runner.settle()
    field = record.form.editor("scan_id")
    assert not field.isEnabled() or field.lineEdit().isReadOnly()  # kept by the system
    scan = png_file(tmp_path / "营业执照.png")
    monkeypatch.setattr(Dialogs, "open_files", classmethod(lambda cls, *args: [str(scan)]))
    record.attachments.choose_files()
    ctx.runner.settle()
    with ctx.read() as session:
        stored = session.get(SupplierDocument, document_id).scan_id
    assert stored == record.attachments.items[0].id
    assert field.currentText() == "营业执照.png"
    # Not filed in an archive and not submitted: the purchaser may remove it, giving a reason.
    monkeypatch.setattr(Dialogs, "ask_text", classmethod(lambda cls, *args: "扫描不清晰，重新扫描"))
    record.attachments.select(stored)
    assert record.attachments.remove_button.isEnabled()
    record.attachments.remove_selected()
    ctx.runner.settle()
    assert record.attachments.rows() == [] and state(ctx)[0] == 0
    with ctx.read() as session:
        assert session.get(SupplierDocument, document_id).scan_id is None


def test_a_new_record_says_to_save_first(qtbot, factory):
    ctx, _people, _batch_id, _supplier_id = factory
    record = RecordDialog.open(ctx, "supplier_document")
    qtbot.addWidget(record)
    panel = record.attachments
    assert "请先保存记录" in panel.hint.text() and not panel.list.isVisible() and not panel.empty.isVisible()
