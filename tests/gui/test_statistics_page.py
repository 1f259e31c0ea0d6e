"""R7.2: the statistics page charts a period of the demo factory; each chart saves as a PNG."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate

from app.ui.dialogs import Dialogs
from app.ui.statistics_page import StatisticsPage


def loaded(qtbot, ctx) -> StatisticsPage:
    page = StatisticsPage(ctx)
    qtbot.addWidget(page)
    ctx.runner.settle()
    return page


def test_the_period_is_charted_and_a_chart_saves_as_png(qtbot, ctx, tmp_path, monkeypatch):
    page = loaded(qtbot, ctx)
    page.choose_months(12)
    ctx.runner.settle()
    assert set(page.boxes) == {"pass_rates", "ccp_deviations", "suppliers", "recalls", "archives", "upload"}
    drawn = [key for key, box in page.boxes.items() if box.view is not None]
    assert {"pass_rates", "ccp_deviations", "suppliers", "recalls", "upload"} <= set(drawn)
    chart = page.boxes["ccp_deviations"].view.chart()
    assert chart.title().startswith("关键控制点偏离次数") and chart.series()[0].barSets()[0].label() == "CCP2 巴氏杀菌"
    target = tmp_path / "偏离.png"
    monkeypatch.setattr(Dialogs, "save_file", classmethod(lambda *a: str(target)))
    page.boxes["ccp_deviations"].save_button.click()
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_empty_period_says_so(qtbot, ctx):
    page = loaded(qtbot, ctx)
    page.first.setDate(QDate(2001, 1, 1))
    page.last.setDate(QDate(2001, 1, 31))
    page.refresh()
    ctx.runner.settle()
    assert page.period() == (dt.date(2001, 1, 1), dt.date(2001, 1, 31))
    assert all(box.view is None for box in page.boxes.values())
