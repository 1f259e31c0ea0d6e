"""The batch pages behind the label's QR code: what a page shows and what it
never shows, where it lies in the site, a real browser at a phone's width,
and the printed label's QR code decoding to the page's address."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from app.cli import main
from app.errors import UserError
from app.reports import batch_pages
from app.services import common, distribution, settings

from .builders import lot, plant, released_commodity

RESOLVER = "https://trace.example.cn/q"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def page_file(site: Path, page) -> Path:
    return site.joinpath(*page.path.split("/"), "index.html")


def test_region_of_an_address():
    assert batch_pages.region("黑龙江省黑河市嫩江市经济开发区粮贸路 8 号") == "黑龙江省黑河市"
    assert batch_pages.region("上海市闵行区浦江镇联航路 1188 号") == "上海市闵行区"
    assert batch_pages.region("内蒙古自治区呼伦贝尔市海拉尔区") == "内蒙古自治区呼伦贝尔市"
    assert batch_pages.region("某某路 8 号") == "" and batch_pages.region(None) == ""


def test_a_page_shows_the_four_groups_and_nothing_internal(session, tmp_path):
    p = plant(session)
    settings.put(session, "digital_link_resolver", RESOLVER + "/")
    p.milk.ingredients = '水、非转基因大豆 <script>alert("x")</script> & 糖'
    p.milk.standard = "Q/SH 0001S"
    p.milk.storage_range = "0～6 ℃"
    soy = lot(session, p, p.soy)
    commodity = released_commodity(session, p, soy)
    distribution.deliver(session, commodity, p.customer, 10, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    site = batch_pages.export_pages(session, tmp_path / "site")

    (page,) = site.pages
    assert site.warnings == [] and site.skipped == []
    assert page.path == f"01/0{p.bottle.gtin}/10/{commodity.lot_code}"
    assert page.url == f"{RESOLVER}/01/0{p.bottle.gtin}/10/{commodity.lot_code}?11=261119&17=261126"
    text = page_file(tmp_path / "site", page).read_text(encoding="utf-8")
    for shown in ("上海测试豆制品有限公司", "SC11131011500017", "上海市浦东新区", "原味豆浆", "250mL", "沪豆",
                  commodity.lot_code, "2026年11月19日", "2026年11月26日", "7 天", "冷藏（0～6 ℃）", "Q/SH 0001S",
                  "非转基因大豆", "黑龙江某粮油有限公司（黑龙江省哈尔滨市）", "菌落总数", "≤ 30000 CFU/mL", "1200",
                  "检验结论", "合格", "标签审核 符合"):
        assert shown in text, shown
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 糖" in text and "<script" not in text
    # (The product batch's number is the lot code's stem, by the factory's numbering, so it is not listed.)
    base_batch_no = commodity.product_batch.feedings[0].source_batch.batch_no
    internal = [p.person.name, p.customer.name, soy.lot_no, base_batch_no, "HLJ-2611", commodity.certificate_no, "R-001"]
    assert [word for word in internal if word in text] == []
    assert not re.search(r"\b(id|ID)\b", text)
    assert not re.search(r"(src|href)=\"(https?:)?//", text)  # nothing loaded from elsewhere
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert f'href="01/0{p.bottle.gtin}/10/{commodity.lot_code}/"' in index and "共 1 个批次" in index
    assert "已召回" not in text


def test_a_recalled_batch_says_so_and_lots_without_a_page_are_named(session, tmp_path):
    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy))
    distribution.recall(session, commodity.product_batch, dict(started_on="2026-11-21", reason="复检不合格", manager_id=p.person.id))
    odd = released_commodity(session, p, lot(session, p, p.soy, supplier_lot="HLJ-2612"))
    common.amend(session, odd, {"lot_code": "A/B"}, "按喷码更正批号")
    site = batch_pages.export_pages(session, tmp_path / "site")
    assert [page.lot_code for page in site.pages] == [commodity.lot_code]
    assert "本批次产品已召回" in page_file(tmp_path / "site", site.pages[0]).read_text(encoding="utf-8")
    assert len(site.skipped) == 1 and "A/B" in site.skipped[0]
    assert "GS1 全球解析服务" in site.warnings[0]  # the default resolver serves no page of ours
    with pytest.raises(UserError, match="不存在"):
        batch_pages.export_pages(session, tmp_path / "no" / "such")


# ------------------------------------------------------------------ the demo site

@pytest.fixture(scope="module")
def demo_site(demo_db_file, tmp_path_factory):
    """The demo factory with its own resolver, its site, and the database path."""
    folder = tmp_path_factory.mktemp("pages")
    db = folder / "demo.db"
    with sqlite3.connect(demo_db_file[0]) as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    from app.db import make_engine, make_sessionmaker
    from app.services import acting

    engine = make_engine(f"sqlite:///{db}")
    with acting.Sessions(make_sessionmaker(engine), acting.system("tester")).begin() as session:
        settings.put(session, "digital_link_resolver", RESOLVER)
    engine.dispose()
    assert main(["--db", str(db), "export-pages", "--out", str(folder / "site")]) == 0
    return db, folder / "site"


@pytest.mark.slow
def test_export_pages_command_writes_the_site(demo_site, tmp_path, capsys):
    db, _ = demo_site
    site = tmp_path / "site"
    assert main(["--db", str(db), "export-pages", "--out", str(site)]) == 0
    said = capsys.readouterr()
    pages = list(site.glob("01/*/10/*/index.html"))
    assert f"已生成 {len(pages)} 个批次页面" in said.out and len(pages) == 96
    assert "GS1 全球解析服务" not in said.err
    assert not list(site.rglob("*.part"))
    assert main(["--db", str(db), "export-pages", "--out", str(db)]) == 1
    assert "不是文件夹" in capsys.readouterr().err


def chromium(*args: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="foodarchive-chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def probe(page: Path, width: int = 390, height: int = 844) -> str:
    """A page that shows ``page`` in a frame of a phone's size and writes
    what the frame laid out into an attribute --dump-dom prints: headless
    Chromium's own window is never narrower than 500 px. The batch page
    itself has no script at all."""
    from html import escape

    return f"""<!DOCTYPE html><html><body style="margin:0">
<iframe id="phone" style="width:{width}px;height:{height}px;border:0" srcdoc="{escape(page.read_text(encoding='utf-8'))}"></iframe>
<script>
const frame = document.getElementById("phone");
function measure() {{
  const inner = frame.contentDocument;
  document.documentElement.dataset.measured = [inner.documentElement.scrollWidth, frame.contentWindow.innerWidth,
    inner.body.innerText.replace(/\\s+/g, " ")].join("|");
}}
frame.addEventListener("load", measure);
if (frame.contentDocument && frame.contentDocument.readyState === "complete") measure();
</script></body></html>"""


@pytest.mark.slow
@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (Debian package; .ci/run installs it)")
def test_a_phone_sized_browser_shows_the_page_without_sideways_scrolling(demo_site, tmp_path):
    _db, site = demo_site
    recalled = next(site.glob("01/*/10/DG2026101401-01/index.html"))
    phone = tmp_path / "phone.html"
    phone.write_text(probe(recalled), encoding="utf-8")
    result = chromium("--window-size=600,900", "--dump-dom", phone.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    measured = re.search(r'data-measured="([^"]*)"', result.stdout)
    assert measured, result.stdout[:2000]
    width, viewport, shown = measured.group(1).split("|", 2)
    assert int(viewport) == 390 and int(width) <= 390  # nothing wider than the phone
    for text in ("五香豆腐干", "本批次产品已召回", "批号 DG2026101401-01", "生产日期", "贮存条件", "原辅料来源",
                 "非转基因大豆", "检验结论：合格", "生产许可证", "SC12531011700368"):
        assert text in shown, text
    picture = tmp_path / "page.png"
    result = chromium("--window-size=390,844", f"--screenshot={picture}", recalled.as_uri())
    assert result.returncode == 0 and picture.stat().st_size > 10_000
    from PIL import Image

    with Image.open(picture) as image:
        assert image.size == (390, 844)


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                    reason="needs pdftoppm (poppler-utils) and zbarimg (zbar-tools); .ci/run installs them")
def test_the_label_qr_code_opens_the_batch_page(demo_site, tmp_path):
    db, site = demo_site
    label = tmp_path / "label.pdf"
    assert main(["--db", str(db), "print-label", "batch", "DJ2026090301-01", "--out", str(label)]) == 0
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(label), str(tmp_path / "label")], check=True, timeout=120)
    (png,) = tmp_path.glob("label*.png")
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
                             capture_output=True, text=True, timeout=120)
    assert decoded.returncode == 0, decoded.stderr
    (url,) = decoded.stdout.split()
    assert url.startswith(RESOLVER + "/01/06975312000113/10/DJ2026090301-01?")
    path = unquote(urlsplit(url).path)[len(urlsplit(RESOLVER).path):].strip("/")
    page = site.joinpath(*path.split("/"), "index.html")
    assert page.is_file() and "批号 DJ2026090301-01" in page.read_text(encoding="utf-8")
