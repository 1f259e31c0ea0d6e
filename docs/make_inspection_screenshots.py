"""Render the inspection screens on the demo factory into docs/screenshots/12-*.png.

Run under a real (virtual) display, with the clock the demo is anchored to:
  FOODARCHIVE_CLOCK=2026-11-22T10:00:00 xvfb-run -a -s "-screen 0 1600x1000x24" \
      python3 docs/make_inspection_screenshots.py [--db DEMO_COPY.db]
The database is changed (reports are saved): give it a copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

HERE = Path(__file__).resolve().parent
PASSWORD = "demo-password-1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="a copy of a demo database (default: load the demo into a temporary one)")
    parser.add_argument("--out", default=str(HERE / "screenshots"))
    args = parser.parse_args()

    from app import clock
    from app.db import open_database
    from app.models import (
        IncomingInspection, Material, Person, Product, ProductBatch,
    )
    from app.services import acting, distribution, production, users
    from app.ui.app import make_application
    from app.ui.batch_screen import BatchWorkbench
    from app.ui.context import AppContext
    from app.ui.inspection_screen import InspectionDialog
    from app.ui.main_window import MainWindow
    from app.ui.release_screen import ReleaseDesk
    from app.ui.tasks import TaskRunner

    app = make_application(sys.argv)
    path = args.db or str(Path(tempfile.mkdtemp()) / "demo.db")
    engine, maker = open_database(f"sqlite:///{path}")
    if not args.db:
        from app.services import demo

        with acting.Sessions(maker, acting.system(demo.ACTOR)).begin() as session:
            demo.load(session)
    ctx = AppContext(engine, maker, TaskRunner(app))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def settle(seconds: float = 0.4) -> None:
        ctx.runner.settle()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def shoot(widget, name: str) -> None:
        settle()
        widget.grab().save(str(out / f"{name}.png"))
        print(out / f"{name}.png")

    def person(session, number):
        return session.scalar(select(Person.id).where(Person.employee_no == number))

    def setup(session):
        inspector = users.create_user(session, "zhou", "周晓燕", PASSWORD, ["inspector"], person_id=person(session, "E004"))
        users.create_user(session, "chen", "陈美琴", PASSWORD, ["quality_manager"], person_id=person(session, "E001"))
        return inspector.id

    ctx.act_as_system("截图")
    inspector = ctx.write(setup)(None)
    ctx.log_in(inspector)

    with ctx.read() as session:
        dj = session.scalar(select(ProductBatch).join(Product).where(Product.code == "DJ", ProductBatch.status == "completed")
                            .order_by(ProductBatch.id.desc()).limit(1))
        milk_batch, milk_no = dj.id, dj.batch_no
        receipt = session.scalar(select(IncomingInspection.id).join(Material)
                                 .where(Material.code == "M101").order_by(IncomingInspection.id.desc()).limit(1))

    # --- a finished-product inspection with a failing item, before and after saving ------
    final = InspectionDialog.open(ctx, "finished", batch_id=milk_batch)
    final.resize(1000, 1000)
    settle()
    results = {"蛋白质": "2.6 g/100 g", "脲酶试验": "阴性", "菌落总数": "2.4×10⁵ CFU/mL", "大肠菌群": "<10 CFU/mL"}
    for row in range(final.items.table.rowCount()):
        item = final.items.text(row, 0)
        if item in results:
            final.items.set_result(row, results[item])
        else:
            final.items.judge(row, "pass")
    final.spec.setCurrentText("250 mL/瓶")
    final.fields["sample_base"].setText("1880 瓶")
    final.fields["sampling_method"].setText("GB/T 2828.1 随机抽样")
    final.fields["sample_quantity"].setText("5 瓶")
    shoot(final, "12-1-finished-failing-item")
    final.save()
    settle()
    shoot(final, "12-2-held-batch")
    browser = final.open_warning_archive()
    settle(1.0)
    shoot(browser, "12-3-warning-archive")
    browser.close()
    final.close()

    # --- an in-process control check with its evidence (G§36) ----------------------------
    def open_batch(s):
        return production.start_batch(s, {"product_id": s.scalar(select(Product.id).where(Product.code == "DG")),
                                          "production_date": clock.today(), "team": "豆干班"}).id

    ctx.act_as_system("截图")
    batch = ctx.write(open_batch)(None)
    ctx.log_in(inspector)
    control = InspectionDialog.open(ctx, "in_process", batch_id=batch)
    control.resize(1000, 900)
    settle()
    control.fields["process_step"].setText("卤煮")
    control.fields["sampling_method"].setText("卤煮锅随机取样")
    control.fields["sample_quantity"].setText("3 块")
    control.items.set_result(0, "2.7%")
    control.evidence.measures.setText("盐分超出范围时调整卤汁浓度或卤煮时间，复测合格后方可出锅")
    for kind in ("方法比对", "设备比对"):
        control.evidence.boxes[kind].setChecked(True)
    control.evidence.detail.setText("快速盐度计每月与 GB 5009.44 化学法比对，2026-11-02 偏差 0.06%")
    shoot(control, "12-4-in-process-control")
    control.close()

    # --- production water (G§37) ---------------------------------------------------------
    water = InspectionDialog.open(ctx, "water")
    water.resize(1000, 760)
    settle()
    water.fields["sampling_place"].setText("豆浆车间调配罐进水口")
    water.fields["sampling_method"].setText("GB/T 5750.2-2023")
    water.fields["sample_quantity"].setText("500 mL × 2")
    for item, result in {"菌落总数": "12 CFU/mL", "总大肠菌群": "未检出", "浑浊度": "0.3 NTU", "pH": "7.3",
                         "游离氯（末梢水）": "0.21 mg/L"}.items():
        water.items.set_result(water.items.row_of(item), result)
    shoot(water, "12-5-water")
    water.close()

    # --- incoming, from the receipt (G§35) -----------------------------------------------
    incoming = InspectionDialog.open(ctx, "incoming", receipt_id=receipt)
    incoming.resize(1000, 760)
    settle()
    for item, result in {"水分": "13.4%", "杂质": "0.6%", "损伤粒率": "1.9%", "色泽、气味": "正常"}.items():
        incoming.items.set_result(incoming.items.row_of(item), result)
    shoot(incoming, "12-6-incoming")
    incoming.close()

    # --- the release desk's panel, the workbench's tab, the standards page ---------------
    def pack(s):  # the 五香豆腐干 batch made today, packed and waiting for its release inspection
        from app.models import MaterialLot, ProductSpec

        made = s.get(ProductBatch, batch)
        operator = s.scalar(select(Person.id).where(Person.employee_no == "E012"))
        soy = s.scalar(select(MaterialLot).join(Material).where(Material.code == "M101", MaterialLot.status == "available",
                                                                 MaterialLot.quantity_on_hand >= 50).limit(1))
        now = clock.now().replace(second=0, microsecond=0)
        production.feed_lot(s, made, soy, "50", operator_id=operator, fed_at=now - dt.timedelta(hours=3))
        production.complete_batch(s, made, "10", "40", finished_at=now - dt.timedelta(hours=1))
        spec = s.scalar(select(ProductSpec).where(ProductSpec.product_id == made.product_id).order_by(ProductSpec.id))
        return distribution.pack(s, made, spec, 40, {
            "packed_from": now - dt.timedelta(minutes=50), "packed_to": now, "label_checked": True,
            "operator_id": s.scalar(select(Person.id).where(Person.employee_no == "E013"))}).lot_code

    ctx.act_as_system("截图")
    lot_code = ctx.write(pack)(None)
    ctx.log_in(inspector)
    desk = ReleaseDesk(ctx)
    desk.resize(1440, 900)
    desk.show()
    settle()
    desk.select(lot_code)
    settle()
    for row in range(desk.inspection.items.table.rowCount()):
        desk.inspection.items.judge(row, "pass")
    desk.inspection.label.set_all(True)
    desk.inspection.label.notes.setText("喷码生产日期、批号与本批一致")
    desk.inspection.sample_quantity.setText("3 盒")
    shoot(desk, "12-7-release-desk")
    desk.close()

    bench = BatchWorkbench(ctx)
    bench.resize(1440, 800)
    bench.show()
    settle()
    bench.select_batch(milk_no)
    settle()
    bench.tabs.setCurrentWidget(bench.quality)
    shoot(bench, "12-8-batch-workbench-inspections")
    bench.close()

    window = MainWindow(ctx)
    window.resize(1440, 800)
    window.show()
    window.navigate("inspection_standard")
    shoot(window, "12-9-inspection-standards")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
