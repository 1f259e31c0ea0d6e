"""The trace view's EPCIS action: one lot's trace saved as a GS1 EPCIS 2.0
document, on the demo factory and on a factory's first day."""

from __future__ import annotations

import json

from sqlalchemy import text

from app.services import users
from app.ui.dialogs import Dialogs
from app.ui.trace_view import TraceView
from tests.unit.builders import lot, plant, released_commodity

PASSWORD = "correct-horse-1"


def view_of(qtbot, ctx) -> TraceView:
    view = TraceView(ctx)
    qtbot.addWidget(view)
    return view


def trace_and_save(qtbot, monkeypatch, ctx, view, number: str, target) -> list[tuple]:
    offered = []

    def save_file(cls, parent, title, name, filters):
        offered.append((name, filters))
        return str(target)

    with qtbot.waitSignal(view.finished):
        view.run_trace(number, "forward")
    assert view.epcis_button.isEnabled()
    monkeypatch.setattr(Dialogs, "save_file", classmethod(save_file))
    view.epcis_button.click()
    ctx.runner.settle()
    return offered


def shipped(document) -> set[str]:
    return {t["bizTransaction"].rsplit("/", 1)[1] for e in document["epcisBody"]["eventList"]
            if e.get("bizStep") == "shipping" for t in e["bizTransactionList"] if t.get("type") == "desadv"}


def test_demo_trace_saves_the_deliveries_it_shows(qtbot, ctx, tmp_path, monkeypatch):
    number = ctx.engine.connect().execute(text(
        "SELECT l.lot_no FROM material_lot l JOIN feeding f ON f.material_lot_id = l.id ORDER BY l.lot_no LIMIT 1"
    )).scalar()
    view = view_of(qtbot, ctx)
    target = tmp_path / "trace"
    (name, filters), = trace_and_save(qtbot, monkeypatch, ctx, view, number, target)
    assert name == f"EPCIS_{number}.jsonld" and "*.jsonld" in filters
    saved = tmp_path / "trace.jsonld"  # the ending is added when the name has none
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert shipped(document) == {d["delivery_no"] for d in view.data["deliveries"]}
    assert str(saved) in view.note.text() and str(len(document["epcisBody"]["eventList"])) in view.note.text()


def test_first_day_quality_manager_exports_and_a_keeper_is_not_offered_it(qtbot, empty_ctx, tmp_path, monkeypatch):
    def setup(session):
        p = plant(session)
        soy = lot(session, p, p.soy)
        from app.services import distribution

        commodity = released_commodity(session, p, soy)
        distribution.deliver(session, commodity, p.customer, 12, dict(sale_date="2026-11-20", clerk_id=p.person.id))
        manager = users.create_user(session, "chen", "陈质量", PASSWORD, ["quality_manager"])
        keeper = users.create_user(session, "li", "李仓管", PASSWORD, ["warehouse_keeper"])
        return soy.lot_no, manager.id, keeper.id

    number, manager, keeper = empty_ctx.write(setup, as_system="测试")(None)
    empty_ctx.log_in(manager)
    view = view_of(qtbot, empty_ctx)
    target = tmp_path / "first.jsonld"
    trace_and_save(qtbot, monkeypatch, empty_ctx, view, number, target)
    document = json.loads(target.read_text(encoding="utf-8"))
    kinds = {e.get("bizStep") for e in document["epcisBody"]["eventList"]}
    assert {"receiving", "creating_class_instance", "packing", "inspecting", "shipping"} <= kinds
    assert len(shipped(document)) == 1

    empty_ctx.log_in(keeper)
    assert view_of(qtbot, empty_ctx).epcis_button.isHidden()


def test_an_administrator_sets_the_qr_address_and_a_bad_one_is_refused_inline(qtbot, empty_ctx):
    from app.services import settings
    from app.ui.codes_settings import CodesSettingsDialog

    admin = empty_ctx.write(lambda s: users.create_user(s, "admin", "管理员", PASSWORD, ["admin"]).id, as_system="测试")(None)
    empty_ctx.log_in(admin)
    dialog = CodesSettingsDialog(empty_ctx)
    qtbot.addWidget(dialog)
    assert dialog.resolver.text() == "https://id.gs1.org" and dialog.epcis_base.text() == ""
    assert dialog.epcis_base.placeholderText() == "https://id.foodarchive.invalid/unknown"
    dialog.resolver.setText("trace.songhe.cn")
    dialog.buttons.accepted.emit()
    empty_ctx.runner.settle()
    assert dialog.error.isVisibleTo(dialog) and "GS1 数字链接解析地址" in dialog.error.text()
    dialog.resolver.setText("https://trace.songhe.cn/q/")
    dialog.epcis_base.setText("https://trace.songhe.cn/id")
    with qtbot.waitSignal(dialog.accepted):
        dialog.buttons.accepted.emit()
        empty_ctx.runner.settle()
    with empty_ctx.read() as session:
        assert settings.get(session, "digital_link_resolver") == "https://trace.songhe.cn/q"
        assert settings.get(session, "epcis_id_base") == "https://trace.songhe.cn/id"
