"""Render the EPCIS and batch-page screens on the demo factory into
docs/screenshots/20-*.png: a batch page in headless Chromium at a phone's
width (390 px, the whole page), the trace view after an EPCIS export, and the
trace-code settings.

    xvfb-run -a -s "-screen 0 1600x1000x24" python3 docs/make_screenshots_codes.py [--db demo.db]

Needs Debian's chromium. A --db is copied first (the script changes settings).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_screenshots import settle, soybean_lot  # noqa: E402

HERE = Path(__file__).resolve().parent
RESOLVER = "https://trace.songhe.example.cn/q"


def page_screenshot(page: Path, target: Path, width: int = 390) -> None:
    """The whole page: a tall window, then cut at the end of the content."""
    from PIL import Image

    profile = tempfile.mkdtemp()
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                    f"--user-data-dir={profile}", f"--window-size={width},4000", f"--screenshot={target}",
                    page.as_uri()], check=True, capture_output=True, timeout=120)
    shutil.rmtree(profile, ignore_errors=True)
    with Image.open(target) as image:
        picture = image.convert("RGB")
    background = picture.getpixel((1, picture.height - 1))
    bottom = next(y for y in range(picture.height - 1, 0, -1)
                  if any(picture.getpixel((x, y)) != background for x in range(0, width, 3)))
    picture.crop((0, 0, width, min(picture.height, bottom + 24))).save(target)
    print(target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="a demo database to copy (default: load the demo into a temporary one)")
    parser.add_argument("--out", default=str(HERE / "screenshots"))
    args = parser.parse_args()

    from app.db import open_database
    from app.services import settings
    from app.ui.app import make_application
    from app.ui.codes_settings import CodesSettingsDialog
    from app.ui.context import AppContext
    from app.ui.dialogs import Dialogs
    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    app = make_application(sys.argv)
    folder = Path(tempfile.mkdtemp())
    path = folder / "demo.db"
    if args.db:
        with sqlite3.connect(args.db) as source, sqlite3.connect(path) as copy:
            source.backup(copy)
    from app.services import acting

    engine, maker = open_database(f"sqlite:///{path}")
    sessions = acting.Sessions(maker, acting.system("截图"))
    if not args.db:
        from app.services import demo

        with sessions.begin() as session:
            demo.load(session)
    with sessions.begin() as session:
        settings.put(session, "digital_link_resolver", RESOLVER)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from app.reports import batch_pages

    with sessions() as session:
        site = batch_pages.export_pages(session, folder / "site")
    released = next(p for p in site.pages if p.product == "原味豆浆" and not p.recalled)
    page_screenshot(folder / "site" / released.path / "index.html", out / "20-batch-page.png")
    recalled = next(p for p in site.pages if p.recalled)
    page_screenshot(folder / "site" / recalled.path / "index.html", out / "20-batch-page-recalled.png")

    ctx = AppContext(engine, maker, TaskRunner(app))
    ctx.act_as_system("截图")
    window = MainWindow(ctx)
    window.resize(1440, 900)
    window.show()
    view = window.navigate("trace")
    view.run_trace(soybean_lot(ctx), "forward")
    settle(app, ctx)
    Dialogs.save_file = classmethod(lambda cls, *a: str(folder / "trace.jsonld"))
    view.epcis_button.click()
    settle(app, ctx)
    window.grab().save(str(out / "20-trace-epcis.png"))
    print(out / "20-trace-epcis.png")

    dialog = CodesSettingsDialog(ctx, window)
    dialog.show()
    settle(app, ctx)
    dialog.grab().save(str(out / "20-codes-settings.png"))
    print(out / "20-codes-settings.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
