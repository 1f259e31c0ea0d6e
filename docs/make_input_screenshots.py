"""Render what a user sees when input is out of bounds (issue 15) into
docs/screenshots/40-*.png: a material form with an absurd shelf life and a
code too long; and the Excel import's problem list for a sheet with a
formula, an error value, 1e400 and 10^25.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_input_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "screenshots"
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("FOODARCHIVE_CLOCK", "2026-11-22T10:00:00")


def settle(app, rounds: int = 20) -> None:
    for _ in range(rounds):
        app.processEvents()


def main() -> None:
    import openpyxl
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.db import make_engine, make_sessionmaker, upgrade
    from app.reports.ledger_export import export_template
    from app.reports.sheet import HEADER_ROW
    from app.services import acting
    from app.ui import excel_actions
    from app.ui.context import AppContext
    from app.ui.dialogs import Dialogs
    from app.ui.ledger_page import LedgerPage
    from app.ui.record_dialog import RecordDialog
    from app.ui.tasks import TaskRunner
    from app.ledgers import ledger
    from tests.unit import builders as b

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{folder / 'shots.db'}")
    upgrade(engine)
    with make_sessionmaker(engine, acting.system("tester")).begin() as session:
        b.plant(session)
        export_template(session, "material", folder / "materials.xlsx")
    ctx = AppContext(engine, make_sessionmaker(engine), TaskRunner(app))
    ctx.act_as_system("tester")

    dialog = RecordDialog.open(ctx, "material", None)
    ctx.runner.settle()
    form = dialog.form
    form.set_value("code", "M-" + "0" * 45)
    form.set_value("name", "进口牛肉")
    form.set_value("unit", "kg")
    form.set_value("category", "raw")
    form.set_value("shelf_life_days", "1e25")
    dialog.save()
    for _ in range(200):
        settle(app)
        if form.error_text("shelf_life_days"):
            break
    dialog.resize(720, 640)
    settle(app)
    dialog.grab().save(str(OUT / "40-form-bounds.png"))
    Dialogs.confirm = classmethod(lambda cls, *args: True)  # "discard the changes?" when closing
    dialog.close()

    path = folder / "materials.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    rows = [["M101", "玉米淀粉", "原料", None, "kg", None, None, None, None, None, None, "=30*12"],
            ["M102", "食用盐", "原料", None, "kg", None, None, None, None, None, None, "1e400"],
            ["M103", "白砂糖", "原料", None, "kg", None, None, None, None, None, None, 10**25],
            ["M104", "纯净水", "生产用水", None, "kg", None, None, None, None, None, None, 30]]
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            ws.cell(HEADER_ROW + 1 + offset, column, value)
    ws.cell(HEADER_ROW + 4, 2).value = "#REF!"
    ws.cell(HEADER_ROW + 4, 2).data_type = "e"
    wb.save(path)

    def warn(cls, parent, title, text):
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
        box.show()
        settle(app)
        box.grab().save(str(OUT / "40-excel-import-problems.png"))
        box.close()

    def unexpected(cls, parent, *texts):
        print("unexpected dialog:", *texts)

    Dialogs.warn = classmethod(warn)
    Dialogs.info = classmethod(unexpected)
    Dialogs.crash = classmethod(unexpected)
    excel_actions.open_xlsx = lambda parent, title: str(path)
    page = LedgerPage(ctx, ledger("material"))
    ctx.runner.settle()  # the page's first rows
    page.excel.import_action.trigger()
    ctx.runner.settle()
    settle(app)
    print("written:", *sorted(p.name for p in OUT.glob("40-*.png")))


if __name__ == "__main__":
    main()
