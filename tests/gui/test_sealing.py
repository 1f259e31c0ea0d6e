"""Sealing from the archive browser, on a factory's first database: real
users, a batch built and signed through the services, the checklist shown,
the seal window, and the sealed volume naming the real 立卷人 and 检查人."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.ledgers import ledger
from app.models import Archive, ArchiveSeal, Feeding, ProductBatch, User
from app.reports.volume import print_volume
from app.services import archives
from app.ui.archive_browser import ArchiveBrowser
from app.ui.dialogs import Dialogs
from app.ui.record_dialog import RecordDialog

from tests.unit.builders import PASSWORD, base_batch, lot, plant, sign_archive, staff

# The seal window is a shown window; offscreen Qt says so (environment.md).
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(autouse=True)
def quick_passwords(monkeypatch):
    """Argon2 at its real cost takes ≈0.5 s a hash here; the batch below needs a dozen signatures."""
    from argon2 import PasswordHasher

    from app.services import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def factory(empty_ctx):
    """On the empty database: the plant, its staff, one batch fully signed
    (ready) and one not (still open); logged in as the quality manager."""

    def build(session):
        p = plant(session)
        staff(session, p)
        ready = archives.product_archive(session, base_batch(session, p, lot(session, p, p.soy), day="2026-11-18"))
        sign_archive(session, ready)
        other = lot(session, p, p.soy, supplier_lot="KS-0917")
        blocked = archives.product_archive(session, base_batch(session, p, other, day="2026-11-19"))
        users = {u.username: u.id for u in session.scalars(select(User))}
        return ready.id, blocked.id, users

    ready, blocked, users = empty_ctx.write(build, as_system="开箱")(None)
    empty_ctx.log_in(users["qian"])
    return empty_ctx, ready, blocked, users


def show(qtbot, ctx, archive_id) -> ArchiveBrowser:
    browser = ArchiveBrowser(ctx)
    qtbot.addWidget(browser)
    ctx.runner.settle()
    browser.select_archive(archive_id)
    ctx.runner.settle()
    return browser


def test_a_blocked_archive_lists_what_to_do_and_cannot_be_sealed(qtbot, factory, monkeypatch):
    ctx, _ready, blocked, _users = factory
    browser = show(qtbot, ctx, blocked)
    assert browser.fields["status"].text() == "整理中"
    items = [browser.checklist.topLevelItem(i) for i in range(browser.checklist.topLevelItemCount())]
    assert items and all(item.text(0) == "缺少签名" for item in items)
    assert "封卷前还有" in browser.checklist_state.text()
    assert not browser.seal_button.isEnabled() and not browser.seal_button.isHidden()
    opened = []
    monkeypatch.setattr(RecordDialog, "open", classmethod(lambda cls, *args, **kwargs: opened.append(args)))
    browser.open_blocker(items[0])
    assert opened == [(ctx, "product_batch", browser.archive["blockers"][0]["row_id"])]


def test_sealing_from_the_browser_names_the_real_filer_and_checker(qtbot, factory):
    ctx, ready, _blocked, _users = factory
    browser = show(qtbot, ctx, ready)
    assert browser.fields["status"].text() == "可封卷" and browser.fields["sealed"].text() == "—"
    assert browser.checklist.topLevelItemCount() == 0 and "可以封卷" in browser.checklist_state.text()
    assert browser.seal_button.isEnabled()

    with ctx.read() as session:
        product_id = session.scalar(
            select(ProductBatch.product_id).join(Archive, Archive.product_batch_id == ProductBatch.id)
            .where(Archive.id == ready))
    browser.tree.expandItem(browser.item_for("product", product_id))
    ctx.runner.settle()
    assert "已封卷" not in browser.item_for("archive", ready).text(0)

    dialog = browser.seal_archive()
    assert dialog.people.me.text() == "钱经理"
    sealed = []
    dialog.sealed.connect(sealed.append)
    for username, password, said in (("sun", "wrong-password", "用户名或密码不正确"),
                                     ("qian", PASSWORD, "两个不同的人"),
                                     ("wang", PASSWORD, "王质检（检验员）无权封卷")):
        dialog.people.username.setText(username)
        dialog.people.password.setText(password)
        dialog.seal()
        ctx.runner.settle()
        assert said in dialog.error.text() and dialog.people.password.text() == ""
    with ctx.read() as session:
        assert session.scalar(select(ArchiveSeal)) is None and session.get(Archive, ready).status == "open"

    dialog.people.role.setCurrentIndex(1)  # the quality manager checked; the technician filed
    assert dialog.people.other_label.text() == "立卷人（用户名）"
    dialog.people.username.setText("sun")
    dialog.people.password.setText(PASSWORD)
    dialog.seal()
    ctx.runner.settle()
    assert sealed == [ready]
    assert browser.fields["status"].text() == "已封卷"
    assert browser.fields["sealed"].text().startswith("立卷人 孙技术，检查人 钱经理")
    assert not browser.seal_button.isEnabled() and "已封卷" in browser.checklist_state.text()
    assert browser.item_for("archive", ready).text(0).endswith("· 已封卷")  # the tree says so too

    # A record of the sealed archive opens locked, to be amended only.
    with ctx.read() as session:
        feeding = session.scalar(select(Feeding.id).where(
            Feeding.batch_id == session.get(Archive, ready).product_batch_id))
    record = RecordDialog(ctx, ledger("feeding"), feeding)
    qtbot.addWidget(record)
    assert "已封卷的档案" in record.banner.text() and record.form.is_read_only()
    assert not record.amend_button.isHidden()

    with ctx.read() as session:
        out = io.BytesIO()
        print_volume(session, ready, out)
    last = PdfReader(io.BytesIO(out.getvalue())).pages[-1].extract_text()
    assert "卷内备考表" in last
    lines = last.splitlines()
    assert lines[lines.index("立卷人") + 1] == "孙技术" and lines[lines.index("检查人") + 1] == "钱经理"
    assert lines[lines.index("立卷时间") + 1] == "2026-11-22"


def test_a_role_without_seal_is_not_offered_sealing(qtbot, factory):
    ctx, ready, _blocked, users = factory
    ctx.log_in(users["wang"])
    browser = show(qtbot, ctx, ready)
    assert browser.seal_button.isHidden() and browser.seal_many_button.isHidden()


def test_sealing_a_period_seals_the_ready_archives_with_a_progress_bar(qtbot, factory, monkeypatch):
    import datetime as dt

    ctx, ready, blocked, _users = factory
    monkeypatch.setattr(Dialogs, "warn", classmethod(lambda cls, *args: pytest.fail(f"unexpected warning {args}")))
    browser = show(qtbot, ctx, blocked)
    period = browser.seal_period()
    qtbot.addWidget(period)
    period.set_range(dt.date(2026, 11, 18), dt.date(2026, 11, 19))
    period.check()
    ctx.runner.settle()
    states = {period.table.item(r, 0).text(): period.table.item(r, 2).text() for r in range(period.table.rowCount())}
    with ctx.read() as session:
        numbers = {i: session.get(Archive, i).archive_no for i in (ready, blocked)}
    assert states == {numbers[ready]: "可封卷", numbers[blocked]: "整理中"}
    assert period.seal_button.isEnabled() and period.seal_button.text() == "封卷 1 个可封卷的档案"

    period.seal()
    assert "请输入另一位人员的用户名和密码" in period.error.text()
    progress = []
    period.bar.valueChanged.connect(progress.append)
    period.people.username.setText("sun")
    period.people.password.setText(PASSWORD)
    period.seal()
    ctx.runner.settle()
    assert progress and period.bar.maximum() == 2
    assert period.status.text() == "已封卷 1 个档案；1 个尚不能封卷。"
    states = {period.table.item(r, 0).text(): period.table.item(r, 2).text() for r in range(period.table.rowCount())}
    assert states == {numbers[ready]: "已封卷", numbers[blocked]: "整理中"}
    with ctx.read() as session:
        seal = session.scalar(select(ArchiveSeal))
        assert (seal.archive_id, seal.filer_name, seal.checker_name) == (ready, "钱经理", "孙技术")
        assert session.get(Archive, blocked).status == "open"
