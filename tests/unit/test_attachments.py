"""R3.6: files attached to any record (services.attachments) — what is taken,
what is refused and why, who may attach, how long an attachment stays, and
that the audit chain covers its content. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import func, select, text

from app.errors import PermissionDenied, RecordLocked, RetentionError, UserError, ValidationError
from app.models import Attachment, AuditEntry, ProductBatch, Signature, SupplierDocument
from app.services import acting, archives, attachments, audit, common, production, settings, users

from .builders import lot, plant

PASSWORD = "correct-horse-9"


# ------------------------------------------------------------------ files


def png(width=400, height=300, colour="white") -> bytes:
    image = Image.new("RGB", (width, height), colour)
    ImageDraw.Draw(image).rectangle((20, 20, width - 20, height // 2), fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(width=600, height=400, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle((0, 0, width // 3, height), fill="black")  # black on the left
    out = io.BytesIO()
    if orientation is None:
        image.save(out, "JPEG", quality=85)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def tiff_pages(pages=2) -> bytes:
    frames = [Image.new("L", (300, 400), 255) for _ in range(pages)]
    for number, frame in enumerate(frames, 1):
        ImageDraw.Draw(frame).rectangle((20, 20, 280, 20 + 60 * number), fill=0)
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def pdf(*texts: str, size=(420, 300)) -> bytes:
    out = io.BytesIO()
    canv = Canvas(out, pagesize=size)
    for line in texts or ("VOUCHER",):
        canv.drawString(40, size[1] / 2, line)
        canv.showPage()
    canv.save()
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf("SECRET"))))
    writer.encrypt("user-pass", "owner-pass", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def factory(session):
    p = plant(session)
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    return p, batch


def counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(Attachment)),
            session.scalar(select(func.count()).select_from(AuditEntry)))


# ------------------------------------------------------------------ taking


def test_an_image_and_a_pdf_are_stored_with_their_hash(session, factory):
    _p, batch = factory
    picture, document = png(), pdf("PAGE ONE", "PAGE TWO")
    first = attachments.attach(session, "product_batch", batch.id, r"C:\扫描\批记录.png", picture, " 批记录原件 ")
    second = attachments.attach(session, "product_batch", batch.id, "检验报告.pdf", document)
    assert (first.filename, first.media_type, first.description) == ("批记录.png", "image/png", "批记录原件")
    assert first.sha256 == hashlib.sha256(picture).hexdigest() and first.created_by == "tester"
    assert second.media_type == "application/pdf"
    session.expire_all()
    stored = session.get(Attachment, second.id)
    assert bytes(stored.content) == document
    listed = attachments.list_for_record(session, "product_batch", batch.id)
    assert [(a.filename, a.size, a.is_pdf) for a in listed] == [
        ("批记录.png", len(picture), False), ("检验报告.pdf", len(document), True)]
    assert attachments.content(session, second.id) == ("检验报告.pdf", "application/pdf", document)
    assert audit.verify(session.connection()) == []


def test_the_audit_chain_covers_the_content_and_finds_a_swapped_file(session, factory):
    _p, batch = factory
    picture = png()
    scan = attachments.attach(session, "product_batch", batch.id, "scan.png", picture)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "attachment",
                                                     AuditEntry.row_id == scan.id)).one()
    # The log keeps the content's hash, not a second copy of the file.
    assert f'"content":"sha256:{hashlib.sha256(picture).hexdigest()}"' in entry.data
    assert len(entry.data) < 1000
    session.execute(text("UPDATE attachment SET content = :data WHERE id = :id"), {"data": png(colour="red"), "id": scan.id})
    messages = [f.message for f in audit.verify(session.connection())]
    assert any("附件" in m and "在本软件之外被修改过" in m for m in messages)


@pytest.mark.parametrize("kind", ["jpeg", "tiff", "bmp", "webp", "gif"])
def test_other_image_formats_are_recognised_by_their_content(session, factory, kind):
    _p, batch = factory
    out = io.BytesIO()
    Image.new("RGB", (50, 40), "blue").save(out, kind.upper())
    # The name says PNG; the content decides.
    scan = attachments.attach(session, "product_batch", batch.id, "photo.png", out.getvalue())
    assert scan.media_type == f"image/{kind}"


def test_the_same_file_twice_on_one_record_is_refused(session, factory):
    _p, batch = factory
    attachments.attach(session, "product_batch", batch.id, "a.png", png())
    with pytest.raises(UserError, match="「b.png」已经附在.*「a.png」"):
        attachments.attach(session, "product_batch", batch.id, "b.png", png())


# ------------------------------------------------------------------ refusing


def truncated_jpeg() -> bytes:
    data = jpeg(800, 600)
    return data[: len(data) // 2]


BAD_FILES = {
    "renamed.png": (lambda: "这不是图片，只是改了扩展名的文本文件\n".encode() * 20, "不是可识别的图片或 PDF"),
    "cut.jpg": (truncated_jpeg, "已损坏或不完整"),
    "locked.pdf": (encrypted_pdf, "设有密码"),
    "empty.png": (lambda: b"", "空文件"),
    "half.pdf": (lambda: pdf("X")[:60], "已损坏或不完整"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_refused_by_name_and_nothing_changes(session, factory, name):
    _p, batch = factory
    make, reason = BAD_FILES[name]
    before = counts(session)
    with pytest.raises(UserError) as err:
        attachments.attach(session, "product_batch", batch.id, name, make())
    assert f"「{name}」" in err.value.message and reason in err.value.message
    assert counts(session) == before
    assert audit.verify(session.connection()) == []


def test_the_size_limit_is_a_setting_and_names_file_and_limit(session, factory):
    _p, batch = factory
    assert attachments.limit_bytes(session) == 20 * 1024 * 1024
    settings.put(session, "attachment_max_mb", 1)
    big = pdf(*(f"PAGE {i} " + "x" * 80 for i in range(40)))
    big += b"%" + b"0" * (1024 * 1024)  # a comment after %%EOF: still a PDF, now too big
    before = counts(session)
    with pytest.raises(UserError, match=r"「big.pdf」有 1\.\d MB，超过附件大小上限 1 MB"):
        attachments.attach(session, "product_batch", batch.id, "big.pdf", big)
    assert counts(session) == before
    for wrong in (0, 500, "二十"):
        with pytest.raises(ValidationError, match="附件大小上限"):
            settings.put(session, "attachment_max_mb", wrong)


def test_files_from_disk_good_ones_attached_bad_ones_listed(session, factory, tmp_path):
    _p, batch = factory
    (tmp_path / "voucher.pdf").write_bytes(pdf("V"))
    (tmp_path / "notes.png").write_text("hello", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    settings.put(session, "attachment_max_mb", 1)
    (tmp_path / "huge.png").write_bytes(b"\0" * (1024 * 1024 + 1))
    paths = [tmp_path / n for n in ("voucher.pdf", "notes.png", "folder", "missing.jpg", "huge.png")]
    added, refused = attachments.attach_paths(session, "product_batch", batch.id, paths, "随货单据")
    assert len(added) == 1 and session.get(Attachment, added[0]).description == "随货单据"
    assert len(refused) == 4
    assert "「notes.png」不是可识别的图片" in refused[0]
    assert "「folder」是文件夹" in refused[1]
    assert "找不到文件「missing.jpg」" in refused[2]
    assert "「huge.png」有 1.0 MB，超过附件大小上限 1 MB" in refused[3]


def test_the_record_must_exist_and_take_attachments(session, factory):
    _p, batch = factory
    with pytest.raises(UserError, match="产品批生产记录记录（编号 999999）不存在"):
        attachments.attach(session, "product_batch", 999999, "a.png", png())
    with pytest.raises(UserError, match="不能添加附件"):
        attachments.attach(session, "attachment", 1, "a.png", png())
    with pytest.raises(UserError, match="不能添加附件"):
        attachments.attach(session, "no_such_ledger", 1, "a.png", png())


# ------------------------------------------------------------------ who


def test_attaching_needs_the_enter_permission_of_the_records_ledger(session, factory):
    p, batch = factory
    operator = users.create_user(session, "zhao", "赵操作", PASSWORD, ["operator"])
    buyer = users.create_user(session, "sun", "孙采购", PASSWORD, ["purchaser"])
    document = session.get(SupplierDocument, p.licence_id)
    acting.bind(session, acting.user(operator.id, operator.display_name))
    attachments.attach(session, "product_batch", batch.id, "batch.png", png())
    with pytest.raises(PermissionDenied, match="赵操作（生产操作员）无权录入记录"):
        attachments.attach(session, "supplier_document", document.id, "licence.png", png())
    acting.bind(session, acting.user(buyer.id, buyer.display_name))
    attachments.attach(session, "supplier_document", document.id, "licence.png", png())
    with pytest.raises(PermissionDenied):
        attachments.attach(session, "product_batch", batch.id, "other.png", png(colour="grey"))
    acting.bind(session, None)
    before = counts(session)
    with pytest.raises(PermissionDenied, match="没有指明由谁操作"):
        attachments.attach(session, "product_batch", batch.id, "nobody.png", png(colour="grey"))
    with pytest.raises(PermissionDenied, match="没有指明由谁操作"):
        attachments.attach_paths(session, "product_batch", batch.id, [])
    assert counts(session) == before


# ------------------------------------------------------------------ how long


def test_an_attachment_of_an_archived_record_stays_until_the_retention_ends(session, factory):
    _p, batch = factory
    archive = archives.product_archive(session, batch)
    scan = attachments.attach(session, "product_batch", batch.id, "scan.png", png())
    assert attachments.list_for_record(session, "product_batch", batch.id)[0].kept is not None
    with pytest.raises(RetentionError) as err:
        attachments.remove(session, scan.id, "附错了")
    message = err.value.message
    assert "附件「scan.png」" in message and batch.batch_no in message and archive.archive_no in message
    assert "期满前不能删除" in message
    # Whoever writes the code that deletes: the flush guard refuses it too.
    savepoint = session.begin_nested()
    session.delete(scan)
    with pytest.raises(RetentionError):
        session.flush()
    savepoint.rollback()
    session.info["today"] = archive.retention_until + dt.timedelta(days=1)
    assert attachments.list_for_record(session, "product_batch", batch.id)[0].kept is None
    attachments.remove(session, scan.id, "保存期满")
    assert session.get(Attachment, scan.id) is None
    entry = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "attachment",
                                                     AuditEntry.action == "delete")).one()
    assert entry.reason == "保存期满" and "scan.png" in entry.data


def test_a_scan_added_after_submission_is_allowed_audited_and_never_removed(session, factory):
    p, _batch = factory
    receipt = lot(session, p, p.soy).receipt
    assert receipt.locked
    session.info["now"] = dt.datetime(2026, 11, 21, 8, 0)  # the voucher is scanned the next morning
    scan = attachments.attach(session, "incoming_inspection", receipt.id, "随货单据.jpg", jpeg())
    entry = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "attachment",
                                                     AuditEntry.row_id == scan.id)).one()
    assert entry.reason == "记录提交后补充附件"
    listed = attachments.list_for_record(session, "incoming_inspection", receipt.id)
    assert listed[0].late and "已提交锁定" in listed[0].kept
    with pytest.raises(RecordLocked, match=f"附件「随货单据.jpg」属于已提交锁定的.*{receipt.receipt_no}"):
        attachments.remove(session, scan.id, "附错了")
    # Its description can still say what went wrong; the log keeps the old text.
    attachments.set_description(session, scan.id, "误附：属于另一张单据")
    assert session.get(Attachment, scan.id).description == "误附：属于另一张单据"
    assert audit.verify(session.connection()) == []


def test_removing_needs_a_reason_and_the_permission(session, factory):
    p, _batch = factory
    document = session.get(SupplierDocument, p.licence_id)
    scan = attachments.attach(session, "supplier_document", document.id, "licence.png", png())
    with pytest.raises(UserError, match="原因"):
        attachments.remove(session, scan.id, " ")
    operator = users.create_user(session, "zhao", "赵操作", PASSWORD, ["operator"])
    acting.bind(session, acting.user(operator.id, operator.display_name))
    with pytest.raises(PermissionDenied):
        attachments.remove(session, scan.id, "不需要")
    acting.bind(session, acting.system("tester"))
    attachments.remove(session, scan.id, "扫描不清晰，重新扫描")
    assert session.get(Attachment, scan.id) is None


# ------------------------------------------------------------------ own columns


def test_the_first_scan_fills_the_records_own_column(session, factory):
    p, _batch = factory
    document = session.get(SupplierDocument, p.licence_id)
    assert document.scan_id is None
    first = attachments.attach(session, "supplier_document", document.id, "licence-front.png", png())
    second = attachments.attach(session, "supplier_document", document.id, "licence-back.pdf", pdf())
    assert document.scan_id == first.id
    attachments.remove(session, first.id, "扫描不清晰")
    assert document.scan_id == second.id
    attachments.remove(session, second.id, "证件已换发")
    assert document.scan_id is None
    check = common.create(session, "platform_check", dict(
        supplier_id=p.supplier.id, platform="国家企业信用信息公示系统", checked_on="2026-11-20", result="正常"))
    shot = attachments.attach(session, "platform_check", check.id, "screenshot.png", png())
    label = attachments.attach(session, "product", p.milk.id, "label.png", png())
    assert (check.screenshot_id, p.milk.label_image_id) == (shot.id, label.id)
    assert audit.verify(session.connection()) == []


def test_a_signed_records_column_is_left_as_signed(session, factory):
    """Filling the column would break a signature bound to the record's content."""
    p, _batch = factory
    document = session.get(SupplierDocument, p.licence_id)
    quality_manager = users.create_user(session, "qian", "钱经理", PASSWORD, ["quality_manager"])
    session.add(Signature(table_name="supplier_document", row_id=document.id, user_id=quality_manager.id,
                          printed_name="钱经理", meaning="审核", signed_at=dt.datetime(2026, 11, 20, 9, 0),
                          content_hash="0" * 64, signature_hash="0" * 64))
    session.flush()
    scan = attachments.attach(session, "supplier_document", document.id, "licence.png", png())
    assert document.scan_id is None and scan.record_id == document.id


# ------------------------------------------------------------------ pictures


def test_thumbnails_of_images_pdfs_and_multi_page_tiffs():
    picture, pages = attachments.thumbnail(png(800, 200), "image/png", 100)
    assert Image.open(io.BytesIO(picture)).size == (100, 25) and pages == 1
    picture, pages = attachments.thumbnail(pdf("A", "B", "C"), "application/pdf", 100)
    assert max(Image.open(io.BytesIO(picture)).size) == 100 and pages == 3
    assert attachments.thumbnail(tiff_pages(3), "image/tiff", 100)[1] == 3
    # A photo taken sideways is shown upright: 600×400 stored, orientation 6 (turn 90°).
    picture, _pages = attachments.thumbnail(jpeg(orientation=6), "image/jpeg", 90)
    assert Image.open(io.BytesIO(picture)).size == (60, 90)
    assert attachments.thumbnail(b"not a picture", "image/png") == (None, 0)


def test_names_for_the_viewer():
    assert attachments.viewer_name("licence.png", "image/png") == "licence.png"
    assert attachments.viewer_name("licence", "application/pdf") == "licence.pdf"
    assert attachments.viewer_name("photo.png", "image/jpeg") == "photo.png.jpg"
    assert attachments.viewer_name('a*b?.pdf', "application/pdf") == "a_b_.pdf"
    assert attachments.clean_filename("/home/wang/扫描件.pdf") == "扫描件.pdf"
    assert attachments.clean_filename("  ") == "附件"
    assert len(attachments.clean_filename("长" * 300 + ".pdf")) == 200


# ------------------------------------------------------------------ printing


def rotated_pdf(text: str) -> bytes:
    """A landscape voucher as scanners often write it: drawn on a portrait
    page, sideways, with /Rotate 90 so that a viewer shows it upright."""
    out = io.BytesIO()
    canv = Canvas(out, pagesize=(300, 420))
    canv.rotate(90)
    canv.setFont("Helvetica", 28)
    canv.drawString(60, -150, text)
    canv.showPage()
    canv.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(out.getvalue())))
    writer.pages[0].rotate(90)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_attachments_print_after_their_record(session, factory, tmp_path):
    from app.reports.volume import print_volume

    _p, batch = factory
    archive = archives.product_archive(session, batch)
    attachments.attach(session, "product_batch", batch.id, "批记录扫描.png", png(800, 1000), "原始批记录")
    attachments.attach(session, "product_batch", batch.id, "两页.tif", tiff_pages(2))
    attachments.attach(session, "product_batch", batch.id, "侧拍.jpg", jpeg(orientation=6))
    attachments.attach(session, "product_batch", batch.id, "报告.pdf", pdf("REPORT PAGE 1", "REPORT PAGE 2"))
    attachments.attach(session, "product_batch", batch.id, "横放.pdf", rotated_pdf("ROTATED VOUCHER"))
    common.submit(session, session.get(ProductBatch, batch.id))
    session.info["now"] = dt.datetime(2026, 11, 21, 9, 30)
    attachments.attach(session, "product_batch", batch.id, "补充.pdf", pdf("LATE SCAN"))
    out = tmp_path / "volume.pdf"
    print_volume(session, archive.id, out)
    reader = PdfReader(out)
    texts = [page.extract_text() for page in reader.pages]
    record = next(i for i, t in enumerate(texts) if "产品批生产记录" in t and "批号" in t)
    order = ["批记录扫描.png", "两页.tif（第 1/2 页）", "两页.tif（第 2/2 页）", "侧拍.jpg", "报告.pdf（第 1/2 页）",
             "报告.pdf（第 2/2 页）", "横放.pdf", "补充.pdf（记录提交后补充：tester，2026-11-21 09:30）"]
    found = [next(i for i, t in enumerate(texts) if name in t) for name in order]
    assert record < found[0] and found == sorted(found)
    assert "REPORT PAGE 1" in texts[found[4]] and "REPORT PAGE 2" in texts[found[5]]
    assert "ROTATED VOUCHER" in texts[found[6]] and "LATE SCAN" in texts[found[7]]
    # Every picture is drawn: the images of the pages from the record to the last scan.
    images = sum(len([x for x in page["/Resources"].get("/XObject", {}).values()
                      if x.get_object()["/Subtype"] == "/Image"])
                 for page in reader.pages[record:found[-1] + 1] if "/Resources" in page)
    assert images >= 4
    # The sideways photo prints upright: taller than wide.
    page = reader.pages[found[3]]
    drawn = [x.get_object() for x in page["/Resources"]["/XObject"].values() if x.get_object()["/Subtype"] == "/Image"]
    assert any(int(x["/Height"]) > int(x["/Width"]) for x in drawn)
    # The sideways voucher prints as a viewer shows it: its line of text runs across the page.
    width, height = _ink_box(out, found[6])
    assert width > 3 * height
    remarks = texts[-1]
    assert "提交后补充的附件" in remarks and "补充.pdf" in remarks and "报告.pdf" not in remarks


def _ink_box(path, index: int) -> tuple[int, int]:
    """Width and height of what is printed below a page's caption."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        picture = document[index].render(scale=50 / 72).to_pil().convert("L")
    finally:
        document.close()
    below = picture.crop((0, picture.height // 8, picture.width, picture.height))
    left, top, right, bottom = below.point(lambda v: 255 if v < 128 else 0).getbbox()
    return right - left, bottom - top


@pytest.mark.parametrize("kind,mode", [("PNG", "RGBA"), ("GIF", "P"), ("BMP", "RGB"), ("WEBP", "RGB"),
                                       ("TIFF", "CMYK"), ("JPEG", "L")])
def test_every_image_type_taken_is_printable(kind, mode):
    from reportlab.lib.utils import ImageReader

    from app.reports.materials import PRINT_PIXELS, printable

    out = io.BytesIO()
    Image.new(mode, (3000, 200), 0).save(out, kind)
    pictures = printable(out.getvalue())
    assert len(pictures) == 1
    width, height = ImageReader(io.BytesIO(pictures[0])).getSize()
    assert (width, height) == (PRINT_PIXELS, 160)  # scaled for print, never beyond what 300 dpi needs
    assert Image.open(io.BytesIO(pictures[0])).format in ("JPEG", "PNG")
