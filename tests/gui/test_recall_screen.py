"""Issue 13, "Done means": trace → start recall → notify three customers, one
silent past the deadline, returns and a destruction → regulator's opinion →
close → the warning archive's volume prints with every part and the
customers named on the progress pages. Through the real screens, on a copy
of the demo factory."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from pypdf import PdfReader

from app import clock
from app.ui.dialogs import Dialogs
from app.ui.recall_screen import RecallDesk
from app.ui.trace_view import TraceView
from app.ui.workflow_kit import RED_BG, select_key

from .test_workflow import TIMEOUT, act, done, show

PASSWORD = "recall-manager-9"


@pytest.fixture(autouse=True)
def quick_passwords(monkeypatch):
    from argon2 import PasswordHasher

    from app.services import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def a_batch_with_three_customers(path) -> tuple[str, int]:
    """The newest completed batch sold to at least three customers, and how many."""
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "select b.batch_no, count(distinct d.customer_id) from product_batch b"
            " join commodity_batch c on c.product_batch_id = b.id join delivery d on d.commodity_batch_id = c.id"
            " where b.status = 'completed' group by b.id having count(distinct d.customer_id) >= 3"
            " order by b.production_date desc, b.id desc limit 1").fetchone()


def quality_manager(ctx) -> None:
    from app.services import users

    ctx.runner.run(ctx.write(lambda s: users.create_user(s, "qm", "钱经理", PASSWORD, ["quality_manager"]).id,
                             as_system=True), lambda _id: None, lambda error: (_ for _ in ()).throw(error))
    ctx.runner.wait()


def customer_row(desk, name: str) -> int:
    for r in range(desk.table.rowCount()):
        if desk.table.item(r, 0).text() == name:
            return r
    raise AssertionError(name)


def test_recall_from_trace_to_printed_warning_archive(qtbot, ctx, demo_db, tmp_path, monkeypatch):
    number, customers = a_batch_with_three_customers(demo_db)
    quality_manager(ctx)
    trace = TraceView(ctx)
    desk = RecallDesk(ctx)
    qtbot.addWidget(trace)
    qtbot.addWidget(desk)
    qtbot.waitUntil(lambda: desk.level.count() > 0, timeout=TIMEOUT)
    trace.recall_requested.connect(desk.start_from)
    with qtbot.waitSignal(trace.finished, timeout=TIMEOUT):
        trace.run_trace(number, "forward")
    assert trace.recall_button.isEnabled()
    trace.recall_button.click()
    assert desk.number.text() == number

    # Start: level 一级 (notify within 24 h), the scope frozen.
    desk.level.setCurrentText("一级")
    desk.reason.setText("客户反映包装胀袋，留样检查发现封口不严")
    desk.source.setText("客户投诉")
    done(qtbot, desk, desk.start_recall)
    assert desk.table.rowCount() == customers
    names = [desk.table.item(r, 0).text() for r in range(desk.table.rowCount())]
    shipped = {n: int(desk.table.item(customer_row(desk, n), 3).text()) for n in names}

    # Notify three customers; two confirm, the third stays silent.
    for index, name in enumerate(names[:3]):
        desk.table.selectRow(customer_row(desk, name))
        desk.notified_at.setDateTime(dt.datetime(2026, 11, 22, 9, 0) + dt.timedelta(minutes=10 * index))
        desk.how.setCurrentText("电话")
        desk.notified_by.setText("钱经理")
        done(qtbot, desk, desk.notify)
        if index < 2:
            desk.confirmed_on.setDate(dt.date(2026, 11, 22))
            done(qtbot, desk, desk.confirm)
    # Bad input is refused with the field named, and nothing changes.
    desk.table.selectRow(customer_row(desk, names[0]))
    desk.returned.setText("-1")
    assert act(qtbot, desk, desk.account) == "「退回数量」不能为负数"
    desk.returned.setText(str(shipped[names[0]] + 1))
    assert "超过发给它的" in act(qtbot, desk, desk.account)
    assert desk.table.item(customer_row(desk, names[0]), 8).text() == "0"
    # Returns: the first two customers send everything back, the third half.
    for name, units in ((names[0], shipped[names[0]]), (names[1], shipped[names[1]]), (names[2], shipped[names[2]] // 2)):
        desk.table.selectRow(customer_row(desk, name))
        desk.returned.setText(str(units))
        desk.held.setText("0")
        done(qtbot, desk, desk.account)
    assert desk.table.item(customer_row(desk, names[0]), 11).text() == "100.0%"

    # Two days later the third customer is still silent: highlighted.
    clock.freeze(dt.datetime(2026, 11, 24, 9, 0))
    show(qtbot, desk, desk.reload)
    silent = desk.table.item(customer_row(desk, names[2]), 0)
    assert silent.background().color() == RED_BG and "超过通知期限" in silent.toolTip()
    assert desk.table.item(customer_row(desk, names[0]), 0).background().color() != RED_BG
    assert "逾期未回复的客户" in desk.effect.text()

    # Destruction: not more than there is, and once.
    desk.lot.setCurrentIndex(0)
    desk.destroyed_at.setDateTime(dt.datetime(2026, 11, 24, 8, 30))
    desk.place.setText("厂区无害化处理间")
    desk.method.setText("破袋粉碎后无害化处理")
    desk.people.setText("钱经理、仓库保管员")
    desk.supervisors.setText("区市场监管所 执法人员 2 名")
    desk.units.setText("100000")
    assert "超过商品批次" in act(qtbot, desk, desk.destroy)
    desk.units.setText("1")
    done(qtbot, desk, desk.destroy)
    assert "厂区无害化处理间" in desk.destruction_list.text()
    assert desk.photos.record_id is not None  # its photos are attached right here
    assert "不能重复销毁" in act(qtbot, desk, desk.destroy)

    # Close: what is unaccounted needs a reason; the quality manager signs.
    desk.opinion.setText("区市场监督管理局：同意结束召回，企业应于 30 日内提交整改报告")
    desk.measures.setText("更换封口机加热条；封口工序每小时抽检密封性")
    desk.username.setText("qm")
    desk.password.setText(PASSWORD)
    assert "未能追回部分的说明" in act(qtbot, desk, desk.close_recall)
    desk.unaccounted.setText("其余客户的产品已售出食用，未收到不良反应报告")
    done(qtbot, desk, desk.close_recall)
    assert "已结束" in desk.header.text() and desk.print_button.isEnabled()

    # The warning archive's volume prints with every part.
    target = tmp_path / "warning.pdf"
    monkeypatch.setattr(Dialogs, "save_file", classmethod(lambda cls, *args: str(target)))
    desk.print_archive()
    qtbot.waitUntil(lambda: "warning.pdf" in desk.note.text(), timeout=60000)
    pages = [page.extract_text() for page in PdfReader(target).pages]
    text = "\n".join(pages)
    for part in ("案卷题名", "卷内目录", "召回记录", "召回客户进度", "销毁记录", "卷内备考表"):
        assert part in text, part
    progress_pages = "\n".join(p for p in pages if "召回客户进度" in p or "召回进度" in p)
    assert all(name[:6] in progress_pages for name in names)
    select_key(desk.table, None)


def test_drill_mode_times_reports_and_logs(qtbot, ctx, demo_db, tmp_path, monkeypatch):
    number, customers = a_batch_with_three_customers(demo_db)
    desk = RecallDesk(ctx)
    qtbot.addWidget(desk)
    desk.number.setText("NOPE-404")
    desk.run_drill()
    qtbot.waitUntil(lambda: bool(desk.start_error.text()), timeout=TIMEOUT)
    assert desk.start_error.text() == "找不到批号或单号「NOPE-404」" and not desk.drill_save.isEnabled()
    desk.number.setText(number)
    desk.run_drill()
    qtbot.waitUntil(lambda: desk.drill_save.isEnabled(), timeout=TIMEOUT)
    assert f"客户 {customers}" in desk.drill_result.text() and "4 小时内：达到" in desk.drill_result.text()
    monkeypatch.setattr(Dialogs, "save_file", classmethod(lambda cls, *args: str(tmp_path / "drill.pdf")))
    desk.save_drill()
    qtbot.waitUntil(lambda: "drill.xlsx" in desk.drill_result.text(), timeout=TIMEOUT)
    assert (tmp_path / "drill.pdf").stat().st_size > 0
    with sqlite3.connect(demo_db) as conn:
        assert conn.execute("select drill_query from internal_audit where kind = 'drill'").fetchall() == [(number,)]
