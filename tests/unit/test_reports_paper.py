"""Issue 16: a printed volume an inspector reads without the computer — each
record readable by itself, signatures for ink, every character with a glyph."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import NextPageTemplate, Paragraph, Table
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.models import Archive
from app.reports import fonts
from app.reports.layout import LANDSCAPE_WIDTH, MATERIAL_FRAME, WIDTH, Styles
from app.reports.materials import fits, material_story
from app.reports.volume import print_volume
from app.reports.volume_data import find_archive, read_volume
from app.errors import ValidationError
from app.services import acting, archives, common, settings

from .builders import lot
from .test_reports_volume import build, factory, pages_of  # noqa: F401 — the fixture is shared

pytestmark = pytest.mark.usefixtures("print_font")


def test_every_catalogue_row_names_the_records_own_number_not_the_volumes(session, factory):  # noqa: F811
    _p, commodity, batch, _base = factory
    product = archives.product_archive(session, batch).id
    for archive_id in (product, find_archive(session, commodity.lot_code)):
        volume = read_volume(session, archive_id)
        assert volume.materials
        for material in volume.materials:
            assert material.doc_no != volume.archive_no
        # The first item is a document with a number of its own: the batch record, the commodity batch.
        assert volume.materials[0].doc_no in (batch.batch_no, commodity.lot_code)
        texts = pages_of(build(session, archive_id)[0])
        catalogue = texts[1]
        # The 档号 stands once above the table, never again in a row.
        assert catalogue.count(volume.archive_no) == 1


# ------------------------------------------------------------------ glyphs


def glyphless(data: bytes) -> set[tuple[str, str]]:
    """(character, font) of every character the PDF draws in an embedded font
    that has no glyph for it (it would print blank; white space needs none), read from the text
    operations of every page."""
    by_name = {pdfmetrics.getFont(name).face.name.decode(): name for name in (fonts.FONT, fonts.FALLBACK)}
    bad: set[tuple[str, str]] = set()

    def visit(text, _cm, _tm, font, _size):
        if not text or font is None:
            return
        base = re.sub(r"-\d+$", "", str(font["/BaseFont"]).lstrip("/").split("+", 1)[-1])
        name = by_name.get(base)
        for char in text:
            if not char.isspace() and (name is None or not fonts.has_glyph(name, char)):
                bad.add((char, base))

    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return bad


def fonts_used(data: bytes) -> set[str]:
    used = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=lambda text, _c, _t, font, _s: font is not None and text.strip() and used.add(
            re.sub(r"-\d+$", "", str(font["/BaseFont"]).split("+", 1)[-1])))
    return used


def test_signs_the_cjk_font_lacks_print_in_the_fallback_font(session, factory):  # noqa: F811
    _p, _commodity, batch, _base = factory
    sign = next(ch for ch in "‱℃①±μ" if not fonts.has_glyph(fonts.FONT, ch))  # WenQuanYi's ℃ is an empty glyph
    common.amend(session, batch, {"by_products": f"豆渣 3{sign}，℃ ± μ ①"}, "补记副产品")
    data, _plan = build(session, archives.product_archive(session, batch).id)
    assert any(sign in text for text in pages_of(data))
    assert not glyphless(data)
    assert pdfmetrics.getFont(fonts.FALLBACK).face.name.decode() in fonts_used(data)


def demo_volumes(session) -> list[int]:
    """One volume of each kind from the demo factory: product, commodity, warning, safety."""
    chosen = []
    for kind in ("product", "commodity", "warning", "safety"):
        found = session.scalar(select(Archive.id).where(Archive.kind == kind).order_by(Archive.id.desc()).limit(1))
        assert found is not None, kind
        chosen.append(found)
    return chosen


def test_every_character_of_the_demo_volumes_has_a_glyph(demo_db_file, print_font):
    engine = create_engine(f"sqlite:///{demo_db_file[0]}")
    with Session(engine) as session:
        acting.bind(session, acting.system("test"))
        for archive_id in demo_volumes(session):
            volume = read_volume(session, archive_id)
            strings = [volume.title, volume.fonds, *volume.remarks]
            for material in volume.materials:
                strings += [material.title, material.doc_no, material.responsible]
                for record in material.records:
                    strings += [text for _name, label, value in record.values for text in (label, value)]
                    strings += [cell for item in record.items for cell in item]
            assert not {ch for text in strings for ch in fonts.missing(text)}, volume.archive_no
            data = io.BytesIO()
            print_volume(session, archive_id, data)
            assert not glyphless(data.getvalue()), volume.archive_no
    engine.dispose()


# ------------------------------------------------------------------ signatures


def test_signature_mode_is_a_setting_with_two_values(session):
    assert settings.get(session, "signature_mode") == "电子签名"
    assert settings.LABELS["signature_mode"] == "签名方式"
    for wrong in ("", "手签", None, 1):
        with pytest.raises(ValidationError, match="签名方式"):
            settings.put(session, "signature_mode", wrong)
    assert settings.get(session, "signature_mode") == "电子签名"
    settings.put(session, "signature_mode", " 纸质签名 ")
    assert settings.paper_signatures(session)


def test_paper_signatures_print_lines_for_ink_and_list_nothing_missing(session, factory):  # noqa: F811
    _p, _commodity, batch, _base = factory
    settings.put(session, "signature_mode", "纸质签名")
    data, _plan = build(session, archives.product_archive(session, batch).id)
    texts = pages_of(data)
    materials, remarks = texts[2:-1], texts[-1]
    batch_page = next(t for t in materials if "批生产记录" in t)
    # Each required meaning of the batch record (操作, 复核, 批准) has its line to sign and date.
    for meaning in ("操作", "复核", "批准"):
        assert f"{meaning}（签名）" in batch_page
    assert batch_page.count("签名：") == 3 and batch_page.count("日期：") == 3
    assert not any("未签名" in t for t in texts)
    assert "缺少或已失效的签名" not in remarks and "纸质签名" in remarks
    assert "应有的签名齐全" not in remarks  # it does not claim what the program cannot know


def test_a_missing_electronic_signature_is_listed_once_not_on_every_line(session, factory):  # noqa: F811
    p, _commodity, _batch, _base = factory
    from app.services import production

    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-17"))
    production.feed_lot(session, batch, lot(session, p, p.soy, supplier_lot="HLJ-2612"), "100", operator_id=p.person.id)
    for i in range(8):
        production.record_ccp(session, batch, p.boil_ccp, str(96 + i % 3), operator_id=p.person.id)
    production.complete_batch(session, batch, "100")
    texts = pages_of(build(session, archives.product_archive(session, batch).id)[0])
    register = next(t for t in texts[2:-1] if "监测值" in t)
    assert "未签名" not in register
    remarks = texts[-1]
    assert remarks.count("缺少或已失效的签名") == 1
    ccp_line = next(line for line in remarks.splitlines() if "关键控制点" in line or "CCP" in line)
    assert "操作未签名 8" in ccp_line and "复核未签名 8" in ccp_line


# ------------------------------------------------------------------ readable records


def page_of(texts: list[str], title: str) -> str:
    return next(t for t in texts[2:-1] if title in t)


def test_a_material_issue_names_the_material_its_unit_and_direction(session, factory):  # noqa: F811
    _p, _commodity, batch, base = factory
    texts = pages_of(build(session, base.id)[0])
    issue = page_of(texts, "原辅料发放报表")
    assert "非转基因大豆" in issue  # the material next to its lot number
    assert re.search(r"领用\s*100\s*kg", issue)  # direction and unit, not "-100"
    assert not re.search(r"(?<![\d-])-100\b", issue)


def test_a_ccp_reading_prints_its_unit_limits_and_corrective_action(session, factory):  # noqa: F811
    p, _commodity, _batch, base = factory
    common.amend(session, p.boil_ccp, {"corrective_action": "低于 95 ℃ 延长加热"}, "补记纠偏措施")
    texts = pages_of(build(session, base.id)[0])
    ccp = page_of(texts, "关键控制点")
    assert re.search(r"98\s*℃", ccp)  # the reading with its unit
    assert re.search(r"95～105\s*℃", ccp)  # the critical limits
    assert "低于 95 ℃ 延长加热" in ccp


def test_sales_and_recall_progress_name_the_buyer_with_address_and_contact(session, factory):  # noqa: F811
    p, commodity, batch, _base = factory
    from app.services import distribution

    customer = session.get(type(p.customer), p.customer.id)
    customer.contact_person = "赵采购"
    session.flush()
    distribution.deliver(session, commodity, p.customer, 10, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    distribution.recall(session, batch, dict(started_on="2026-11-21", reason="复检不合格", manager_id=p.person.id))
    texts = pages_of(build(session, find_archive(session, commodity.lot_code))[0])
    sales = page_of(texts, "出厂销售记录")
    for shown in ("联华超市浦东店", "上海市浦东新区", "赵采购", "021-50000000"):
        assert shown in sales.replace("\n", "")
    warning = session.scalar(select(Archive.id).where(Archive.kind == "warning"))
    progress = page_of(pages_of(build(session, warning)[0]), "召回进度")
    for shown in ("联华超市浦东店", "上海市浦东新区", "021-50000000"):
        assert shown in progress.replace("\n", "")


def cells_overflowing(story: list) -> list[str]:
    """Texts wider than their table column: a plain string longer than the
    cell, or a paragraph line that does not fit after wrapping."""
    out = []
    for table in (f for f in story if isinstance(f, Table)):
        for row in table._cellvalues:
            for value, width in zip(row, table._colWidths):
                room = width - 4  # the grid's left and right padding
                if isinstance(value, str):
                    if stringWidth(value, fonts.FONT, 7.5) > room + 0.01:
                        out.append(value)
                elif isinstance(value, Paragraph):
                    value.wrap(room, 10_000)
                    lines = value.blPara.lines
                    spare = [line[0] if isinstance(line, tuple) else line.extraSpace for line in lines]
                    # Punctuation may hang into the room kept for it at the right (layout.para).
                    if min(spare, default=0) < -value.style.rightIndent - 0.01:
                        out.append(value.getPlainText())
    return out


def test_long_text_wraps_inside_its_cell_and_a_wide_register_turns_landscape(session, factory):  # noqa: F811
    p, _commodity, _batch, _base = factory
    from app.services import production

    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-17"))
    for n in range(3):
        production.feed_lot(session, batch, lot(session, p, p.soy, supplier_lot=f"HLJ-26{n}"), "10",
                            operator_id=p.person.id, method=f"按工艺卡分三次缓慢加入，SOP-QA-0{n}-{'X' * 70}")
    production.complete_batch(session, batch, "30")
    archive = archives.product_archive(session, batch)
    volume = read_volume(session, archive.id)
    feeding = next(m for m in volume.materials if m.ledger == "feeding")
    story = material_story(feeding, Styles(), [], volume.archive_no, MATERIAL_FRAME)
    assert not cells_overflowing(story)
    # A word of 80 characters should not break in a portrait column: the register turns.
    assert not fits(feeding, Styles(), WIDTH) and fits(feeding, Styles(), LANDSCAPE_WIDTH)
    assert any(isinstance(f, NextPageTemplate) for f in story)
    reader = PdfReader(io.BytesIO(build(session, archive.id)[0]))
    sizes = {(round(float(page.mediabox.width)), round(float(page.mediabox.height))) for page in reader.pages}
    assert (842, 595) in sizes and (595, 842) in sizes  # the wide register turned, the rest upright
    # Every register and form of the demo-like volume keeps its text inside its cells.
    for material in volume.materials:
        assert not cells_overflowing(material_story(material, Styles(), [], volume.archive_no, MATERIAL_FRAME))
