"""Render the sealing screens (封卷) on the demo factory into docs/screenshots/14-*.png,
and the remarks sheet of a sealed volume into docs/printing/.

The demo signs nothing, so this script adds users, signs every record of a
few semi-finished batches (making their product archives ready), seals one
from the archive browser, amends one of its records and prints the volume.

    xvfb-run -a -s "-screen 0 1600x1000x24" python3 docs/make_screenshots_sealing.py [--db demo.db]
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select

HERE = Path(__file__).resolve().parent
PASSWORD = "demo-password-1"
PEOPLE = (("qian", "钱淑芬", ["quality_manager"]), ("sun", "孙立平", ["technician"]),
          ("wang", "王建国", ["inspector"]), ("zhao", "赵立新", ["operator", "warehouse_keeper"]))
SIGNERS = {"操作": "zhao", "编制": "wang", "复核": "wang", "审核": "sun", "批准": "qian"}


def settle(app, ctx, seconds: float = 0.4) -> None:
    import time

    ctx.runner.settle()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def sign_everything(session, archive) -> None:
    from app.ledgers import registry
    from app.services import signatures

    for entry in archive.entries:
        model = registry()[entry.ledger].model
        for record_id in entry.record_ids.split(","):
            record = session.get(model, int(record_id))
            for meaning in signatures.missing(session, record):
                signatures.sign(session, record, SIGNERS[meaning], PASSWORD, meaning)


def prepare(sessions) -> tuple[list[int], int, dt.date]:
    """Users; the semi-finished batches of the newest production day signed.
    Returns their archive ids, an archive still blocked, and that day."""
    from app.models import Archive, Product, ProductBatch
    from app.services import users

    with sessions.begin() as session:
        for name, shown, roles in PEOPLE:
            users.create_user(session, name, shown, PASSWORD, roles)
        day = session.scalar(select(ProductBatch.production_date).join(Product)
                             .where(Product.kind == "semi_finished").order_by(ProductBatch.production_date.desc()))
        ready = list(session.scalars(
            select(Archive).join(ProductBatch, ProductBatch.id == Archive.product_batch_id).join(Product)
            .where(Archive.kind == "product", Product.kind == "semi_finished", ProductBatch.production_date == day)
            .order_by(Archive.archive_no)))
        for archive in ready:
            sign_everything(session, archive)
        blocked = session.scalar(
            select(Archive.id).join(ProductBatch, ProductBatch.id == Archive.product_batch_id).join(Product)
            .where(Archive.kind == "product", Product.kind == "finished", ProductBatch.production_date == day))
        return [a.id for a in ready], blocked, day


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="a demo database to use (it is changed; default: load the demo into a temporary one)")
    parser.add_argument("--out", default=str(HERE / "screenshots"))
    args = parser.parse_args()

    from app.db import open_database
    from app.models import Archive, Feeding, ProductBatch, User
    from app.reports.volume import print_volume
    from app.services import acting
    from app.ui.app import make_application
    from app.ui.context import AppContext
    from app.ui.dialogs import Dialogs
    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    app = make_application(sys.argv)
    folder = Path(tempfile.mkdtemp())
    path = args.db or str(folder / "demo.db")
    engine, maker = open_database(f"sqlite:///{path}")
    system = acting.Sessions(maker, acting.system("截图"))
    if not args.db:
        from app.services import demo

        with system.begin() as session:
            demo.load(session)
    ready, blocked, day = prepare(system)
    ctx = AppContext(engine, maker, TaskRunner(app))
    with ctx.maker() as session:
        ctx.log_in(session.scalar(select(User.id).where(User.username == "qian")))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    window = MainWindow(ctx)
    window.resize(1440, 900)
    window.show()
    browser = window.navigate("archive_browser")
    settle(app, ctx)

    def shoot(widget, name: str) -> None:
        settle(app, ctx)
        widget.grab().save(str(out / f"{name}.png"))
        print(out / f"{name}.png")

    browser.select_archive(blocked)
    shoot(window, "14-1-checklist-open")
    browser.select_archive(ready[0])
    shoot(window, "14-2-checklist-ready")
    dialog = browser.seal_archive()
    dialog.people.username.setText("sun")
    dialog.people.password.setText(PASSWORD)
    role = dialog.people.role
    role.setCurrentIndex(1)  # the quality manager checked; the technician filed
    shoot(dialog, "14-3-seal-dialog")
    dialog.seal()
    settle(app, ctx)
    with ctx.read() as session:
        product = session.scalar(select(ProductBatch.product_id).join(Archive, Archive.product_batch_id == ProductBatch.id)
                                 .where(Archive.id == ready[0]))
    browser.tree.expandItem(browser.item_for("product", product))
    settle(app, ctx)
    browser.tree.scrollToItem(browser.item_for("archive", ready[0]))
    shoot(window, "14-4-sealed")

    # An amendment after sealing, then the printed remarks sheet.
    with ctx.sessions.begin() as session:
        from app.services import entry

        archive = session.get(Archive, ready[0])
        feeding = session.scalar(select(Feeding).where(Feeding.batch_id == archive.product_batch_id))
        entry.amend(session, "feeding", feeding.id, {"method": "人工投料，分三次加入"}, "投放方式漏记，据投料单补正")
    pdf = folder / "sealed.pdf"
    with ctx.sessions() as session:
        print_volume(session, ready[0], pdf)
    pages = int(subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
                .split("Pages:")[1].split()[0])
    target = HERE / "printing" / "volume-sealed-remarks"
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(pages), "-l", str(pages), "-singlefile", str(pdf),
                    str(target)], check=True)
    print(f"{target}.png")

    period = browser.seal_period()
    period.set_range(day, day)
    period.check()
    settle(app, ctx)
    period.people.username.setText("sun")
    period.people.password.setText(PASSWORD)
    shoot(period, "14-5-period-checked")
    Dialogs.warn = classmethod(lambda *a: None)  # noqa: E731 (none expected)
    progress = []
    period.bar.valueChanged.connect(lambda v: progress.append(v))
    period.seal()
    while not progress:
        app.processEvents()
    period.grab().save(str(out / "14-6-period-sealing.png"))
    print(out / "14-6-period-sealing.png")
    settle(app, ctx)
    shoot(period, "14-7-period-sealed")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
