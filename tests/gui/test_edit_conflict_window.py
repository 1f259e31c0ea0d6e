"""Issue 19 §4 in the record window: a save over a change another PC made
after the window was opened shows who, when and both values, and writes nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.models import Customer
from app.services import acting, entry
from app.ui.dialogs import Dialogs
from app.ui.record_dialog import RecordDialog


def test_the_window_shows_the_conflict_and_keeps_the_other_change(qtbot, ctx, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(Dialogs, "warn", classmethod(lambda cls, parent, title, text: shown.append(text)))
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda cls, *args: True))
    with ctx.read() as session:
        record_id = session.query(Customer.id).order_by(Customer.id).first()[0]
    dialog = RecordDialog.open(ctx, "customer", record_id)
    qtbot.addWidget(dialog)
    ctx.runner.settle()
    # Another PC saves the customer's phone while this window is open.
    other = ctx.sessions.as_actor(acting.system("乙电脑"))
    with other.begin() as session:
        entry.amend(session, "customer", record_id, {"phone": "021-6666 0000"})
    phone = dialog.form.editor("phone")
    phone.clear()
    qtbot.keyClicks(phone, "021-5555 0000")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    ctx.runner.settle()
    assert shown and "乙电脑于 2026-11-22 10:00:00 修改了这条记录" in shown[-1]
    assert "乙电脑保存的是 021-6666 0000；您填写的是 021-5555 0000" in shown[-1]
    with ctx.read() as session:
        assert session.get(Customer, record_id).phone == "021-6666 0000"
