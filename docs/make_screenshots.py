"""Render the main screens on the demo factory into docs/screenshots/.

Run under a real (virtual) display so fonts and styles are the ones a user
sees:  xvfb-run -s "-screen 0 1600x1000x24" python3 docs/make_screenshots.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

HERE = Path(__file__).resolve().parent


def settle(app, ctx, seconds: float = 0.4) -> None:
    """Let background tasks finish and the window repaint."""
    deadline = time.monotonic() + 60
    while ctx.runner.busy and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def soybean_lot(ctx) -> str:
    from app.models import Feeding, Material, MaterialLot

    with ctx.read() as session:
        return session.scalar(
            select(MaterialLot.lot_no).join(Material).join(Feeding, Feeding.material_lot_id == MaterialLot.id)
            .where(Material.name.like("%大豆%")).order_by(MaterialLot.id).limit(1)
        )


def deviation_batch(ctx) -> str:
    from app.models import CCPReading, ProductBatch

    with ctx.read() as session:
        return session.scalar(
            select(ProductBatch.batch_no).join(CCPReading, CCPReading.batch_id == ProductBatch.id)
            .where(CCPReading.deviation.is_(True)).limit(1)
        )


def newest_commodity(ctx) -> str:
    from app.models import CommodityBatch

    with ctx.read() as session:
        return session.scalar(select(CommodityBatch.lot_code).order_by(CommodityBatch.id.desc()).limit(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="a demo database to use (default: load the demo into a temporary one)")
    parser.add_argument("--out", default=str(HERE / "screenshots"))
    args = parser.parse_args()

    from app.db import open_database
    from app.ui.app import make_application
    from app.ui.context import AppContext
    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    app = make_application(sys.argv)
    folder = tempfile.mkdtemp()
    path = args.db or str(Path(folder) / "demo.db")
    engine, sessions = open_database(f"sqlite:///{path}")
    if not args.db:
        from app.services import demo

        with sessions.begin() as session:
            demo.load(session)
    ctx = AppContext(engine, sessions, TaskRunner(app))
    window = MainWindow(ctx)
    window.resize(1440, 900)
    window.show()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def shoot(name: str, key: str, prepare=None) -> None:
        page = window.navigate(key)
        if prepare:
            prepare(page)
        settle(app, ctx)
        window.grab().save(str(out / f"{name}.png"))
        print(out / f"{name}.png")

    shoot("01-incoming-inspection", "incoming_inspection")
    shoot("02-product-batches", "product_batch")
    shoot("03-batch-workbench", "batch_workbench", lambda page: (settle(app, ctx), page.select_batch(deviation_batch(ctx)), page.tabs.setCurrentIndex(1)))
    shoot("04-release-desk", "release_desk", lambda page: (settle(app, ctx), page.select(newest_commodity(ctx))))
    shoot("05-archive-browser", "archive_browser")
    shoot("06-trace-forward", "trace", lambda page: page.run_trace(soybean_lot(ctx), "forward"))
    shoot("07-upload-and-statistics", "upload_status")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
