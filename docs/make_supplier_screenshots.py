"""Render the supplier screens (docs/suppliers.md) into docs/screenshots/11-*.png.

Starts from an empty database, as a factory does on its first day: users,
a material, suppliers in each standing (qualified, pending, suspended,
re-evaluation overdue), then the supplier page, the evaluation window, the
approval signature and a receipt refused for a suspended supplier.

    xvfb-run -a -s "-screen 0 1600x1000x24" python3 docs/make_supplier_screenshots.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSWORD = "correct-horse-9"
# Two strokes of a signature, as the pad keeps them (x, y, pressure).
HANDWRITING = ('[[[30,100,1],[45,70,1],[60,40,1],[75,75,1],[90,110,1],[105,80,1],[120,50,1],[135,75,1],[150,100,1]],'
               '[[180,60,1],[200,75,1],[220,90,1],[240,75,1],[260,60,1],[280,85,1],[300,110,1]]]')


def settle(app, ctx, seconds: float = 0.4) -> None:
    """Let background tasks finish and the window repaint."""
    ctx.runner.settle()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def build_factory(ctx) -> dict[str, int]:
    """Users, a material and four suppliers, through the services."""
    from stdnum.cn import uscc

    from app.services import common, suppliers, users
    from app.services.suppliers import Signer

    def code(body: str) -> str:
        return body + uscc.calc_check_digit(body)

    from app import clock

    today = clock.today()
    ids: dict[str, int] = {}

    def setup(session):
        common.create(session, "enterprise", dict(
            name="上海示例豆制品有限公司", credit_code=code("91310115MA1K4F8L3"), address="上海市浦东新区",
            licence_no="SC11131011500017", fonds_code="0001"))
        ids["keeper_person"] = common.create(session, "person", dict(employee_no="C01", name="陈库管", post="storage")).id
        ids["qm"] = users.create_user(session, "qm", "李质量", PASSWORD, ["quality_manager"]).id
        ids["buyer"] = users.create_user(session, "buyer", "周采购", PASSWORD, ["purchaser"]).id
        ids["keeper"] = users.create_user(session, "keeper", "陈库管", PASSWORD, ["warehouse_keeper"]).id
        sugar = common.create(session, "material", dict(code="M002", name="白砂糖", category="raw", unit="kg"))
        ids["sugar"] = sugar.id
        rows = [
            ("qualified", "江苏某糖业有限公司", "91320600MA1X2Y3W4", "江苏省南通市", 30),
            ("suspended", "浙江某食品配料有限公司", "91330400MA2B3C4D5", "浙江省嘉兴市", 60),
            ("overdue", "安徽某粮油有限公司", "91340100MA3C4D5E6", "安徽省合肥市", 420),
            ("pending", "上海某包装材料有限公司", "91310000MA4D5E6F7", "上海市闵行区", None),
        ]
        for key, name, body, address, days_ago in rows:
            supplier = suppliers.add_supplier(session, dict(name=name, credit_code=code(body), address=address,
                                                            contact_person="王经理", phone="021-60000000"))
            ids[key] = supplier.id
            if key == "pending":
                suppliers.add_document(session, supplier, dict(kind="business_licence", number=code(body), valid_from="2018-03-01"))
                continue
            suppliers.add_document(session, supplier, dict(kind="business_licence", number=code(body), valid_from="2015-01-01",
                                                           issuer="市场监督管理局"))
            suppliers.add_document(session, supplier, dict(
                kind="food_production_licence", number=f"SC1013206000{len(ids):04d}", issuer="省市场监督管理局",
                valid_from="2023-01-01", valid_to="2028-12-31"), [sugar.id])
            evaluated = today - dt.timedelta(days=days_ago)
            suppliers.record_platform_check(session, supplier, dict(
                platform="国家企业信用信息公示系统", column_name="经营异常名录、严重违法失信名单",
                checked_on=evaluated - dt.timedelta(days=2), result="未列入", checked_by="周采购"))
            common.create(session, "supplier_material", dict(supplier_id=supplier.id, material_id=sugar.id, spec="50kg/袋",
                                                            quality_requirements="符合 GB/T 317；每批附检验报告"))
        return ids

    ctx.write(setup, as_system="演示")(None)

    def admit(session):
        from app.models import Supplier

        for key, days_ago in (("qualified", 30), ("suspended", 60), ("overdue", 420)):
            evaluated = today - dt.timedelta(days=days_ago)
            suppliers.evaluate(session, session.get(Supplier, ids[key]), dict(
                evaluated_on=evaluated, score="93" if key != "overdue" else "86", verdict="pass",
                conclusion="资质齐全、在有效期内；公示平台无异常；样品检验合格"), Signer("qm", PASSWORD))
        suppliers.suspend(session, session.get(Supplier, ids["suspended"]), "第三方抽检二氧化硫残留超标，待供应商整改")
        return True

    ctx.log_in(ids["qm"])
    ctx.write(admit)(None)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(HERE / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)

    from app.db import open_database
    from app.ui.app import make_application
    from app.ui.context import AppContext
    from app.ui.dialogs import Dialogs
    from app.ui.main_window import MainWindow
    from app.ui.record_dialog import RecordDialog
    from app.ui.tasks import TaskRunner

    app = make_application(sys.argv)
    path = Path(tempfile.mkdtemp()) / "suppliers.db"
    engine, sessions = open_database(f"sqlite:///{path}")
    ctx = AppContext(engine, sessions, TaskRunner(app))
    ids = build_factory(ctx)

    # The quality manager's supplier page: the list in colour, one supplier below.
    window = MainWindow(ctx)
    window.resize(1500, 940)
    window.show()
    page = window.navigate("supplier")
    page.select(ids["suspended"])
    settle(app, ctx)
    page.detail.tabs.setCurrentIndex(4)  # status history
    settle(app, ctx)
    window.grab().save(str(out / "11-supplier-page.png"))
    page.select(ids["qualified"])
    settle(app, ctx)
    page.detail.tabs.setCurrentIndex(3)  # evaluations
    settle(app, ctx)
    window.grab().save(str(out / "11-supplier-evaluations.png"))
    page.select(ids["overdue"])
    settle(app, ctx)
    page.detail.tabs.setCurrentIndex(0)  # documents
    settle(app, ctx)
    window.grab().save(str(out / "11-supplier-documents.png"))

    # Admitting the pending supplier: the evaluation window says what is missing.
    page.select(ids["pending"])
    settle(app, ctx)
    page.detail.evaluate()
    dialog = page.detail.evaluation_dialog
    dialog.form.set_value("score", "88")
    dialog.form.set_value("verdict", "pass")
    dialog.form.set_value("conclusion", "营业执照有效；样品检验合格")
    dialog.submit()
    settle(app, ctx)
    dialog.grab().save(str(out / "11-supplier-evaluation-refused.png"))
    dialog.reject()

    # The approval signature of a passing evaluation.
    page.select(ids["overdue"])
    settle(app, ctx)
    page.detail.evaluate()
    dialog = page.detail.evaluation_dialog
    dialog.form.set_value("score", "90")
    dialog.form.set_value("verdict", "pass")
    dialog.form.set_value("conclusion", "年度复评：资质有效，全年进货查验 24 批全部合格")
    dialog.submit()
    settle(app, ctx)
    sign = dialog.sign_dialog
    sign.username.setText("qm")
    sign.password.setText(PASSWORD)
    sign.pad.load_json(HANDWRITING)
    settle(app, ctx)
    sign.grab().save(str(out / "11-supplier-approval-sign.png"))
    sign.reject()
    dialog.reject()

    # The warehouse keeper's receipt: the suspended supplier is refused before anything else is typed.
    Dialogs.confirm = classmethod(lambda cls, *args: True)
    ctx.log_in(ids["keeper"])
    receipt = RecordDialog.open(ctx, "incoming_inspection")
    receipt.resize(760, 820)
    receipt.form.set_value("material_id", ids["sugar"])
    receipt.form.set_value("supplier_id", ids["suspended"])
    settle(app, ctx)
    combo = receipt.form.editor("supplier_id")
    combo.showPopup()
    settle(app, ctx)
    # The list drops down in a window of its own: paint it where it opened.
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter

    popup = combo.view().window()
    shot = receipt.grab()
    painter = QPainter(shot)
    painter.drawPixmap(popup.mapToGlobal(QPoint(0, 0)) - receipt.mapToGlobal(QPoint(0, 0)), popup.grab())
    painter.end()
    shot.save(str(out / "11-receipt-supplier-choice.png"))
    combo.hidePopup()
    receipt.form.set_value("supplier_id", ids["overdue"])
    settle(app, ctx)
    receipt.grab().save(str(out / "11-receipt-overdue-warning.png"))
    receipt.close()
    window.close()
    engine.dispose()
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
