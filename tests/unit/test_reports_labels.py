"""Labels (GS1-128, GS1 Digital Link), printing many volumes, the print commands."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from app.cli import main
from app.errors import UserError
from app.reports import codes, labels, volumes

from .builders import base_batch, lot, packed_commodity, plant

# Printing needs a Chinese TrueType font: without one, say which (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("print_font")


def test_gs1_128_has_fnc1_after_start_and_the_lot_last():
    elements = codes.gs1_elements("6901234567892", "A1", dt.date(2026, 11, 19), dt.date(2026, 11, 26))
    assert elements == [("01", "06901234567892"), ("11", "261119"), ("17", "261126"), ("10", "A1")]
    assert codes.gs1_hri(elements) == "(01)06901234567892(11)261119(17)261126(10)A1"
    bars = codes.gs1_128_modules(elements)
    start_c, fnc1 = "11010011100", "11110101110"  # Code 128 symbols 105 and 102
    assert bars.startswith(start_c + fnc1)
    assert bars.endswith("1100011101011")  # the stop pattern
    # A lot that is not last is closed by an FNC1 of its own.
    middle = codes.gs1_128_modules([("01", "06901234567892"), ("10", "A1"), ("17", "261126")])
    assert middle.count(fnc1) >= 2


def test_digital_link_uri():
    uri = codes.digital_link("https://id.gs1.org/", "6901234567892", "L 1/2", dt.date(2026, 11, 19), None)
    assert uri == "https://id.gs1.org/01/06901234567892/10/L%201%2F2?11=261119"


def test_batch_label_prints_the_lot_and_its_codes(session, tmp_path):
    p = plant(session)
    commodity = packed_commodity(session, p, base_batch(session, p, lot(session, p, p.soy)))
    out = io.BytesIO()
    uri = labels.batch_label(session, commodity.lot_code, out)
    assert uri.startswith("https://id.gs1.org/01/0" + p.bottle.gtin + "/10/" + commodity.lot_code)
    text = PdfReader(io.BytesIO(out.getvalue())).pages[0].extract_text()
    assert "原味豆浆" in text and "250mL" in text and commodity.lot_code in text
    assert f"(01)0{p.bottle.gtin}(11)261119" in text
    with pytest.raises(UserError, match="没有商品批号"):
        labels.batch_label(session, "NOPE", io.BytesIO())


def test_cover_label_fits_a4_and_names_the_archive(session):
    p = plant(session)
    batch = base_batch(session, p, lot(session, p, p.soy))
    out = io.BytesIO()
    labels.cover_label(session, batch.batch_no, out, spine_mm=40)
    page = PdfReader(io.BytesIO(out.getvalue())).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = page.extract_text()
    assert "0001-2026-D10-001" in text and "上海测试豆制品有限公司" in text and "产品质量技术档案" in text
    assert "220 × 310" in text
    with pytest.raises(UserError, match="脊背宽度"):
        labels.cover_label(session, batch.batch_no, io.BytesIO(), spine_mm=5)


def test_archives_of_a_period(session):
    p = plant(session)
    soy = lot(session, p, p.soy)
    base = base_batch(session, p, soy, day="2026-11-18")
    commodity = packed_commodity(session, p, base)
    found = [no for _id, no in volumes.archives_between(session, dt.date(2026, 11, 18), dt.date(2026, 11, 18))]
    assert found == ["0001-2026-D10-001"]
    both = volumes.archives_between(session, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert len(both) == 3  # base, milk, and the milk's commodity archive
    assert commodity.lot_code and volumes.file_name("0001/2026 D10") == "0001_2026_D10.pdf"
    with pytest.raises(UserError, match="早于"):
        volumes.archives_between(session, dt.date(2026, 11, 2), dt.date(2026, 11, 1))


@pytest.mark.slow
def test_print_commands_on_the_demo_factory(demo_db_file, tmp_path, capsys):
    db = str(demo_db_file[0])
    out = tmp_path / "volume.pdf"
    assert main(["--db", db, "print-volume", "DJ2026083101", "--out", str(out)]) == 0
    texts = [page.extract_text() for page in PdfReader(out).pages]
    assert "原味豆浆" in texts[0] and "卷内目录" in texts[1] and "卷内备考表" in texts[-1]
    assert not (tmp_path / "volume.pdf.part").exists()
    folder = tmp_path / "month"
    assert main(["--db", db, "print-volumes", "--from", "2026-09-01", "--to", "2026-09-01", "--out", str(folder)]) == 0
    written = sorted(p.name for p in folder.iterdir())
    assert written and all(name.endswith(".pdf") for name in written)
    assert "已在" in capsys.readouterr().out
    assert main(["--db", db, "print-volume", "NO-SUCH", "--out", str(out)]) == 1
    assert "没有档号" in capsys.readouterr().err
    assert not (tmp_path / "volume.pdf.part").exists()
    assert main(["--db", db, "print-volumes", "--from", "2026-13-01", "--to", "2026-09-01", "--out", str(folder)]) == 1
    assert "--from" in capsys.readouterr().err


@pytest.mark.slow
def test_printing_many_volumes_can_be_cancelled(demo_db_file, tmp_path):
    from app.db import make_engine, make_sessionmaker
    from app.services import acting

    engine = make_engine(f"sqlite:///{demo_db_file[0]}")
    sessions = make_sessionmaker(engine, acting.system("tester"))
    seen = []

    class Stop(Exception):
        pass

    def report(done, total, text):
        seen.append((done, total, text))
        if done == 2:
            raise Stop()

    with pytest.raises(Stop):
        volumes.print_volumes(sessions, dt.date(2026, 9, 1), dt.date(2026, 9, 30), tmp_path, report)
    engine.dispose()
    assert len(list(tmp_path.glob("*.pdf"))) == 2 and not list(tmp_path.glob("*.part"))
    assert seen[0][1] > 2
