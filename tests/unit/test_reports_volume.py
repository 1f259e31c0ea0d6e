"""R3.7: the printed volume. Its text is read back with pypdf: the four parts
in order, the catalogue's 页号/页数 against the pages the materials really
fall on, the numbering, the signatures, the remarks, the embedded font."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from app import __version__
from app.errors import PermissionDenied, UserError
from app.models import Archive, Attachment
from app.reports import fonts
from app.reports.volume import print_volume
from app.reports.volume_data import find_archive
from app.services import acting, archives, common, signature_ink, signatures, users

from .builders import lot, plant, released_commodity

# Printing needs a Chinese TrueType font: without one, say which (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("print_font")

PASSWORD = "correct-horse-9"
# The date stands on its own: a wrapped title or 文号 may end a line with digits too.
ROW = re.compile(r"^\s*(\d+)\s+.*?\s(\d{8})\s+(\d+(?:-\d+)?)\s+(\d+)\b")


def png(width=120, height=40) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).line((5, 30, 40, 8, 80, 32, 115, 10), fill="black", width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def handwriting(width=110) -> str:
    return signature_ink.to_json([[(5.0, 30.0, 0.6), (40.0, 8.0, 0.9), (80.0, 32.0, 1.0), (float(width), 10.0, 0.7)]])


def one_page_pdf(text: str) -> bytes:
    out = io.BytesIO()
    canv = Canvas(out, pagesize=(400, 300))
    canv.drawString(50, 150, text)
    canv.showPage()
    canv.save()
    return out.getvalue()


def attach(session, ledger: str, record_id: int, name: str, media_type: str, content: bytes) -> None:
    session.add(Attachment(filename=name, media_type=media_type, content=content, ledger=ledger, record_id=record_id,
                           sha256=hashlib.sha256(content).hexdigest(), description="原始凭证扫描件"))
    session.flush()


@pytest.fixture
def factory(session):
    p = plant(session)
    users.create_user(session, "wang", "王质检", PASSWORD, ["inspector"], person_id=p.person.id)
    users.create_user(session, "qian", "钱经理", PASSWORD, ["quality_manager"])
    soy = lot(session, p, p.soy)
    commodity = released_commodity(session, p, soy)
    batch = commodity.product_batch
    base = [b for b in session.scalars(select(Archive)) if b.kind == "product" and b.product_batch_id != batch.id][0]
    return p, commodity, batch, base


def pages_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def build(session, archive_id: int) -> tuple[bytes, object]:
    out = io.BytesIO()
    plan = print_volume(session, archive_id, out)
    return out.getvalue(), plan


def catalogue_rows(data: bytes, catalogue_pages: range) -> dict[int, tuple[str, int]]:
    reader = PdfReader(io.BytesIO(data))
    rows = {}
    for index in catalogue_pages:
        for line in reader.pages[index].extract_text(extraction_mode="layout").splitlines():
            match = ROW.match(line)
            if match:
                rows[int(match.group(1))] = (match.group(3), int(match.group(4)))
    return rows


def test_parts_in_order_and_catalogue_matches_the_pages(session, factory):
    _p, _commodity, batch, base_archive = factory
    # A scanned voucher (an image) and a two-page PDF make the volume longer.
    attach(session, "product_batch", base_archive.product_batch_id, "batch-scan.png", "image/png", png(800, 1000))
    data, plan = build(session, base_archive.id)
    texts = pages_of(data)
    archive = session.get(Archive, base_archive.id)
    entries = archive.entries
    assert "全宗名称" in texts[0] and "上海测试豆制品有限公司" in texts[0] and archive.archive_no in texts[0]
    assert "卷内目录" in texts[1]
    assert "卷内备考表" in texts[-1]
    front = 2  # the catalogue of a few rows fits one page
    material_pages = texts[front:-1]
    assert plan.offset == front and plan.pages == len(material_pages)
    # Page numbers top right on material pages only, consecutive from 1.
    for number, text in enumerate(material_pages, 1):
        assert text.split()[0] == str(number)
    for text in (texts[0], texts[1], texts[-1]):
        assert not re.match(r"^\d+\s", text)
    rows = catalogue_rows(data, range(1, 2))
    assert sorted(rows) == [e.seq for e in entries]
    for n, entry in enumerate(entries):
        first = next(i for i, text in enumerate(material_pages, 1) if entry.title in text)
        shown, count = rows[entry.seq]
        start = int(shown.split("-")[0])
        assert start == first, entry.title
        following = [rows[e.seq][0] for e in entries[n + 1:]]
        end = int(following[0].split("-")[0]) - 1 if following else len(material_pages)
        assert count == end - start + 1
        if not following:
            assert shown == (str(start) if start == end else f"{start}-{end}")
    # The cover states the total, and the number of items.
    assert f"{len(material_pages)} 页" in texts[0] and f"{len(entries)} 件" in texts[0]
    # The parts of the volume follow the catalogue order.
    positions = [next(i for i, t in enumerate(material_pages) if e.title in t) for e in entries]
    assert positions == sorted(positions)


def test_a_long_register_runs_over_pages_and_the_catalogue_says_so(session, factory):
    p, _commodity, _batch, _base = factory
    from app.services import production

    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-17"))
    production.feed_lot(session, batch, lot(session, p, p.soy, supplier_lot="HLJ-2612"), "100", operator_id=p.person.id)
    for i in range(70):
        production.record_ccp(session, batch, p.boil_ccp, str(96 + i % 5), operator_id=p.person.id)
    production.complete_batch(session, batch, "100")
    archive = archives.product_archive(session, batch)
    data, plan = build(session, archive.id)
    texts = pages_of(data)
    entries = archive.entries
    entry = next(e for e in entries if e.ledger == "ccp_reading")
    rows = catalogue_rows(data, range(1, 2))
    start, count = int(rows[entry.seq][0].split("-")[0]), rows[entry.seq][1]
    assert count >= 2 and plan.page_count(entry.seq) == count
    material_pages = texts[2:-1]
    assert entry.title in material_pages[start - 1]
    assert entry.seq == len(entries)  # the CCP register is the last item: its row shows the range
    assert rows[entry.seq][0] == f"{start}-{start + count - 1}"
    assert len(material_pages) == start - 1 + count
    assert all("监测值" in page for page in material_pages[start - 1:])  # the header repeats


def test_chinese_text_extracts_from_an_embedded_subset_with_tounicode(session, factory):
    _p, commodity, _batch, _base = factory
    archive_id = find_archive(session, commodity.lot_code)
    data, _plan = build(session, archive_id)
    reader = PdfReader(io.BytesIO(data))
    assert "商品质量技术档案" in reader.pages[0].extract_text()
    embedded = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if font["/Subtype"] == "/Type1":  # reportlab's page-start default, never used for text here
                continue
            assert font["/Subtype"] == "/TrueType"
            assert "/FontFile2" in font["/FontDescriptor"].get_object()
            assert "/ToUnicode" in font
            assert re.match(r"/[A-Z]{6}\+", font["/BaseFont"])  # a subset
            embedded += 1
    assert embedded
    meta = reader.metadata
    assert meta.title == session.get(Archive, archive_id).title
    assert meta.author == "上海测试豆制品有限公司"
    assert meta.creator == f"FoodArchive {__version__}"


def test_signatures_amendments_and_scans_are_printed(session, factory):
    _p, _commodity, _batch, base_archive = factory
    batch = session.get(type(_batch), base_archive.product_batch_id)
    signatures.sign(session, batch, "wang", PASSWORD, "操作", strokes=handwriting())
    common.amend(session, batch, {"team": "二班"}, "班组填错")
    signatures.sign(session, batch, "qian", PASSWORD, "复核", strokes=handwriting(140))
    attach(session, "product_batch", batch.id, "scan.pdf", "application/pdf", one_page_pdf("ORIGINAL VOUCHER 42"))
    data, plan = build(session, base_archive.id)
    texts = pages_of(data)
    batch_page = next(t for t in texts[2:-1] if "批生产记录" in t)
    assert "王质检" in batch_page and "钱经理" in batch_page
    assert "失效" in batch_page  # signed before the amendment
    assert "未签名" in batch_page  # 批准 is missing
    assert "※班组" in batch_page and "班组填错" in batch_page
    # The attached PDF page sits on its own numbered page after the record.
    voucher = next(i for i, t in enumerate(texts) if "ORIGINAL VOUCHER 42" in t)
    assert texts[voucher].split()[0] == str(voucher - plan.offset + 1)
    assert "scan.pdf" in texts[voucher]
    remarks = texts[-1]
    assert "班组" in remarks and "班组填错" in remarks
    assert "批准未签名" in remarks and "操作失效" in remarks
    # Signature images are drawn (one image XObject per signature at least).
    page = PdfReader(io.BytesIO(data)).pages[texts.index(batch_page)]
    images = [x for x in page["/Resources"].get("/XObject", {}).values() if x.get_object()["/Subtype"] == "/Image"]
    assert len(images) >= 2


def test_commodity_volume_cites_its_product_volume(session, factory):
    _p, commodity, batch, _base = factory
    archive_id = find_archive(session, commodity.lot_code)
    cited = archives.product_archive(session, batch)
    texts = pages_of(build(session, archive_id)[0])
    assert "互见号" in texts[-1] and cited.archive_no in texts[-1]


def test_find_archive_by_number_batch_or_lot(session, factory):
    _p, commodity, batch, _base = factory
    product = archives.product_archive(session, batch)
    assert find_archive(session, product.archive_no) == product.id
    assert find_archive(session, batch.batch_no) == product.id
    with pytest.raises(UserError, match="没有档号"):
        find_archive(session, "NO-SUCH-NUMBER")


def test_without_a_cjk_font_a_clear_message_and_no_file(session, factory, monkeypatch, tmp_path):
    _p, _commodity, batch, _base = factory
    archive = archives.product_archive(session, batch)
    monkeypatch.setattr(fonts, "_registered", {})
    monkeypatch.setattr(fonts, "candidates", lambda setting="": [])
    target = tmp_path / "volume.pdf"
    with pytest.raises(UserError, match="没有找到含中文字符的字体"):
        print_volume(session, archive.id, str(target))
    assert not target.exists()
    monkeypatch.undo()
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font")
    with pytest.raises(UserError, match="打印字体"):
        print_volume(session, archive.id, str(target), font=str(not_a_font))
    assert not target.exists()


def test_printing_needs_the_print_permission(session, factory):
    _p, _commodity, batch, _base = factory
    admin = users.create_user(session, "admin", "管理员", PASSWORD, ["admin"])
    acting.bind(session, acting.user_of(session, admin.id))
    with pytest.raises(PermissionDenied):
        print_volume(session, archives.product_archive(session, batch).id, io.BytesIO())


def test_the_font_is_found_on_windows_first_in_the_windows_fonts_folder(monkeypatch, tmp_path):
    folder = tmp_path / "Fonts"
    folder.mkdir()
    (folder / "simfang.ttf").write_bytes(b"")
    monkeypatch.setattr(fonts.sys, "platform", "win32")
    monkeypatch.setenv("WINDIR", str(tmp_path))
    assert fonts.candidates() == [str(folder / "simfang.ttf")]
    (folder / "simsun.ttc").write_bytes(b"")
    assert fonts.candidates()[0] == str(folder / "simsun.ttc")  # 宋体 before 仿宋
    assert fonts.candidates("D:/fonts/other.ttc#1") == ["D:/fonts/other.ttc#1"]  # the setting wins


def test_a_ttc_face_is_chosen_by_index(monkeypatch):
    path = fonts.candidates()[0]
    assert path.endswith(".ttc")  # CI installs fonts-wqy-microhei: a TrueType collection
    monkeypatch.setattr(fonts, "_registered", {})
    assert fonts.register(f"{path}#1") == f"{path}#1"
    monkeypatch.setattr(fonts, "_registered", {})
    fonts.register()
