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
    parser.add_argument("--home-only", action="store_true", help="only the home page and the statistics (issue 17)")
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
    if args.home_only:
        return shoot_home(app, ctx, Path(args.out))
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
    shoot_signatures(app, ctx, window, out, shoot)
    window.close()
    return 0


def shoot_home(app, ctx, out: Path) -> int:
    """The home page of a quality manager (钱经理) and the statistics of the last 12 months."""
    from app.models import User
    from app.services import users
    from app.ui.main_window import MainWindow

    with ctx.read() as session:
        user_id = session.scalar(select(User.id).where(User.username == "qian"))
    if user_id is None:
        user_id = ctx.write(lambda s: users.create_user(s, "qian", "钱经理", "correct-horse-9",
                                                        ["quality_manager"]).id, as_system=True)(None)
    ctx.log_in(user_id)
    window = MainWindow(ctx)
    window.resize(1440, 900)
    window.show()
    out.mkdir(parents=True, exist_ok=True)
    settle(app, ctx)
    window.grab().save(str(out / "15-home.png"))
    page = window.navigate("statistics")
    page.choose_months(12)
    settle(app, ctx)
    window.grab().save(str(out / "16-statistics.png"))
    print(out / "15-home.png", out / "16-statistics.png")
    window.close()
    return 0


def handwriting(x0: float, y0: float) -> str:
    """Strokes that look written: a loop, a long flourish, a tick."""
    import math

    from app.services import signature_ink

    loop = [(x0 + 40 * math.cos(t / 6) + t * 1.5, y0 + 28 * math.sin(t / 6), 0.4 + 0.5 * abs(math.sin(t / 9)))
            for t in range(0, 50)]
    flourish = [(x0 + 60 + t * 4.0, y0 + 20 * math.sin(t / 4) + t * 0.4, 0.3 + 0.6 * (t / 45)) for t in range(0, 45)]
    tick = [(x0 + 250 + t * 2, y0 - 10 + (t - 8) ** 2 / 3, 0.8) for t in range(0, 16)]
    return signature_ink.to_json([loop, flourish, tick])


def shoot_signatures(app, ctx, window, out: Path, shoot) -> None:
    """Users and roles, the signing window with a drawn signature, and a
    record with one valid and one missing signature."""
    from app.models import IncomingInspection
    from app.services import signatures, users
    from app.ui.record_dialog import RecordDialog
    from app.ui.sign_dialog import SignDialog

    password = "demo-password-1"
    as_system = ctx.write
    as_system(lambda s: [users.create_user(s, name, shown, password, roles) for name, shown, roles in (
        ("admin", "系统管理员", ["admin"]), ("wang", "王建国", ["inspector"]), ("qian", "钱淑芬", ["quality_manager"]),
        ("zhao", "赵立新", ["operator", "warehouse_keeper"]))], as_system=True)(None)
    shoot("08-users-and-roles", "users")

    with ctx.read() as session:
        receipt = session.scalar(select(IncomingInspection.id).where(IncomingInspection.submitted_at.is_not(None)).limit(1))
    record = RecordDialog.open(ctx, "incoming_inspection", receipt)
    settle(app, ctx)
    sign = SignDialog.open(ctx, "incoming_inspection", receipt, record)
    sign.username.setText("wang")
    sign.password.setText(password)
    sign.pad.load_json(handwriting(30, 70))
    settle(app, ctx)
    sign.grab().save(str(out / "09-signature-pad.png"))
    print(out / "09-signature-pad.png")
    sign.close()
    as_system(lambda s: signatures.sign(s, s.get(IncomingInspection, receipt), "wang", password, "操作",
                                        strokes=handwriting(30, 70)).id, as_system=True)(None)
    record.refresh_signatures()
    record.resize(760, 900)
    settle(app, ctx)
    record.grab().save(str(out / "10-signed-record.png"))
    print(out / "10-signed-record.png")
    record.close()


if __name__ == "__main__":
    sys.exit(main())
