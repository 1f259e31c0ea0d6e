"""Benchmark of the printed volume (app.reports): a ~200-page volume against
raw reportlab drawing the same pages.

Builds a SQLite database with one product batch whose archive holds a long
CCP register and process records (≈200 material pages), then times

  volume — ``print_volume``: reading the archive from the database (records,
           references, signatures, amendments, content hash) and laying out
           cover, catalogue, materials and remarks with the deferred page numbers;
  raw    — plain reportlab: the same material tables (same cells, same font)
           in a SimpleDocTemplate, with no database and no volume machinery.

Target (issue 5): volume ≤ 1.5 × raw.

    python3 bench/bench_volume.py [--readings 7000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.lib.units import mm  # noqa: E402
from reportlab.lib import colors  # noqa: E402
from reportlab.platypus import LongTable, PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle  # noqa: E402
from stdnum import ean  # noqa: E402
from stdnum.cn import uscc  # noqa: E402

from app.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from app.models import CCPReading, ProcessRecord  # noqa: E402
from app.reports import fonts  # noqa: E402
from app.reports.layout import GRID, PAGE_H, WIDTH, Styles  # noqa: E402
from app.reports.materials import _height, paginate, register_columns  # noqa: E402
from reportlab.pdfbase.pdfmetrics import stringWidth  # noqa: E402
from app.reports.volume import print_volume  # noqa: E402
from app.reports.volume_data import read_volume  # noqa: E402
from app.services import archives, common, production, receiving, suppliers  # noqa: E402

AT = dt.datetime(2026, 11, 2, 6, 0)


def build_database(path: Path, readings: int) -> int:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with make_sessionmaker(engine).begin() as s:
        s.info.update(actor="bench", today=dt.date(2026, 11, 20), now=dt.datetime(2026, 11, 20, 16, 0))
        common.create(s, "enterprise", dict(name="上海基准豆制品有限公司", credit_code=_uscc("91310115MA1K4F8L3"),
                                            address="上海市浦东新区", licence_no="SC11131011500017", fonds_code="0001"))
        person = common.create(s, "person", dict(employee_no="E001", name="王质检", post="inspection"))
        soy = common.create(s, "material", dict(code="M001", name="非转基因大豆", category="raw", unit="kg"))
        supplier = suppliers.add_supplier(s, dict(name="黑龙江某粮油有限公司", address="黑龙江省哈尔滨市",
                                                  credit_code=_uscc("91230100MA1B2C3D4")))
        suppliers.add_document(s, supplier, dict(kind="business_licence", number="BL-1", valid_from="2020-01-01"))
        suppliers.add_document(s, supplier, dict(kind="food_production_licence", number="SC10123010000011",
                                                 valid_from="2022-01-01", valid_to="2027-06-30"), [soy.id])
        suppliers.record_platform_check(s, supplier, dict(platform="国家企业信用信息公示系统", checked_on="2026-01-05",
                                                          result="正常"))
        suppliers.qualify(s, supplier, by="王质检")
        product = common.create(s, "product", dict(code="P01", name="豆浆基料", kind="semi_finished", shelf_life_days=2,
                                                   storage_condition="chilled"))
        common.create(s, "product_spec", dict(product_id=product.id, spec="1kg", net_content="1",
                                              gtin=ean.calc_check_digit("690123456789") and "6901234567892"))
        ccp = common.create(s, "ccp", dict(product_id=product.id, name="煮浆", controlled_item="煮浆温度",
                                           parameter="温度", lower_limit="95", upper_limit="105", unit="℃"))
        receipt = receiving.receive(s, dict(
            material_id=soy.id, supplier_id=supplier.id, quantity="100000", unit="kg", production_date="2026-11-01",
            supplier_lot="HLJ-2611", shelf_life_days=180, receipt_date="2026-11-01",
            certificate_kind="第三方检验报告", certificate_no="R-001", decision="accepted", inspector_id=person.id))
        from sqlalchemy import select

        from app.models import MaterialLot

        lot = s.scalar(select(MaterialLot).where(MaterialLot.receipt_id == receipt.id))
        batch = production.start_batch(s, dict(product_id=product.id, production_date="2026-11-02"))
        production.feed_lot(s, batch, lot, "1000", operator_id=person.id)
        s.add_all(CCPReading(batch_id=batch.id, ccp_id=ccp.id, measured_at=AT + dt.timedelta(minutes=2 * i),
                             value=96 + i % 7, deviation=False, operator_id=person.id) for i in range(readings))
        s.add_all(ProcessRecord(batch_id=batch.id, kind="inspection", recorded_at=AT + dt.timedelta(minutes=30 * i),
                                step="煮浆", description=f"第 {i + 1} 次巡检：煮浆温度、时间符合工艺规程，设备运转正常，无异物。",
                                parameters="温度 98℃，时间 5 min", operator_id=person.id)
                  for i in range(readings // 20))
        s.flush()
        production.complete_batch(s, batch, "900")
        archive_id = archives.product_archive(s, batch).id
    engine.dispose()
    return archive_id


def _uscc(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def raw_reportlab(volume, same_pages: bool = True) -> int:
    """The same material tables (same columns, widths and cell texts), drawn
    by plain reportlab: a SimpleDocTemplate, Tables of strings and
    Paragraphs; no database, signatures, cover, catalogue or deferred page
    numbers. ``same_pages``: one Table per page, cut where the volume cuts
    them; otherwise one LongTable per material, split by reportlab."""
    st = Styles()
    story = []
    page = PAGE_H - 35 * mm
    for material in volume.materials:
        title = Paragraph(material.title, st.title)
        story += [PageBreak(), title]
        shown, shared, widths = register_columns(material)
        first = material.records[0]
        room = page - title.wrap(WIDTH, page)[1] - st.title.spaceAfter - 3 * mm
        if shared:
            line = Paragraph("　".join(f"{label}：{value}" for label, value in shared), st.cell)
            story.append(line)
            room -= line.wrap(WIDTH, page)[1] + 1.5 * mm
        head = [Paragraph(text, st.head)
                for text in ("顺序号", *(first.values[i][1] for i in shown), *(s.meaning for s in first.signatures))]
        rows = []
        for n, record in enumerate(material.records, 1):
            cells = [str(n)]
            for i, width in zip(shown, widths[1:]):
                text = record.values[i][2]
                fits = stringWidth(text, fonts.FONT, 7.5) <= width - 4.5
                cells.append(text if fits else Paragraph(text, st.cell))
            rows.append(cells + ["未签名"] * len(record.signatures))
        signs = len(first.signatures)
        red = [("TEXTCOLOR", (len(widths) - signs, 1), (-1, -1), colors.HexColor("#b00000"))] if signs else []
        if not same_pages:
            table = LongTable([head, *rows], colWidths=widths, repeatRows=1)
            table.setStyle(GRID)
            story.append(table)
            continue
        runs = paginate([_height(r, widths) for r in rows], _height(head, widths), room, page)
        for index, (start, end) in enumerate(runs):
            if index:
                story.append(PageBreak())
            table = Table([head, *rows[start:end]], colWidths=widths, repeatRows=1)
            table.setStyle(GRID)
            table.setStyle(TableStyle(red))
            story.append(table)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, leftMargin=25 * mm, rightMargin=15 * mm, topMargin=20 * mm, bottomMargin=15 * mm)
    doc.build(story)
    return doc.page


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--readings", type=int, default=7000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    fonts.register()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        archive_id = build_database(path, args.readings)
        print(f"database: {args.readings} CCP readings, {args.readings // 20} process records "
              f"({time.perf_counter() - started:.1f} s to build)")
        engine = make_engine(f"sqlite:///{path}")
        sessions = make_sessionmaker(engine)
        ours, raw, naive, read = [], [], [], []  # seconds
        for _ in range(args.repeat):
            with sessions() as session:
                t = time.perf_counter()
                volume = read_volume(session, archive_id)
                read.append(time.perf_counter() - t)
            t = time.perf_counter()
            raw_pages = raw_reportlab(volume)
            raw.append(time.perf_counter() - t)
            with sessions() as session:
                t = time.perf_counter()
                plan = print_volume(session, archive_id, io.BytesIO())
                ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        naive_pages = raw_reportlab(volume, same_pages=False)
        naive.append(time.perf_counter() - t)
        engine.dispose()
    best_ours, best_raw = min(ours), min(raw)
    print(f"volume: {plan.pages} material pages + cover, catalogue, remarks; raw reportlab: {raw_pages - 1} pages")
    print(f"reading the archive alone:                      best {min(read):.2f} s")
    print(f"print_volume (read + lay out + save):           best {best_ours:.2f} s, median {statistics.median(ours):.2f} s")
    print(f"raw reportlab, the same page tables:            best {best_raw:.2f} s, median {statistics.median(raw):.2f} s")
    print(f"raw reportlab, one LongTable per material:      {naive[0]:.2f} s ({naive_pages - 1} pages; reportlab "
          f"re-measures the rest of a table on every page)")
    print(f"ratio volume / raw (same pages): {best_ours / best_raw:.2f} × (target ≤ 1.5 ×)")


if __name__ == "__main__":
    main()
