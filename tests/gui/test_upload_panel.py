"""R6.3 on screen: the upload status panel and the platform settings dialog,
against the simulator over loopback."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from app import clock
from app.i18n import tr
from app.models import OutboxEntry
from app.platform import credentials, profile, simulator
from app.services import settings
from app.ui.dialogs import Dialogs

WAIT = 30_000
TABLE = OutboxEntry.__table__


def panel_for(qtbot, ctx):
    from app.ui.upload_panel import UploadPanel

    panel = UploadPanel(ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.state is not None, timeout=WAIT)
    return panel


def test_panel_shows_rejections_with_reason_alerts_on_old_records_and_retries(qtbot, ctx, monkeypatch):
    with ctx.sessions.begin() as session:
        ids = session.scalars(select(TABLE.c.id).order_by(TABLE.c.id).limit(2)).all()
        session.execute(update(TABLE).where(TABLE.c.id == ids[0]).values(status="rejected", reason="缺少必填字段：trace_code"))
        session.execute(update(TABLE).where(TABLE.c.id == ids[1]).values(created_at=clock.now() - dt.timedelta(days=3)))
        settings.put(session, "upload_alert_hours", 48)
        pending = session.scalar(select(func.count()).select_from(TABLE).where(TABLE.c.status == "pending"))
    panel = panel_for(qtbot, ctx)
    assert panel.counts["rejected"].text().endswith("<b>1</b>") and f"<b>{pending}</b>" in panel.counts["pending"].text()
    assert not panel.alert.isHidden() and "48" in panel.alert.text()
    reasons = [panel.table.item(r, 5).text() for r in range(panel.table.rowCount())]
    assert "缺少必填字段：trace_code" in reasons
    row = reasons.index("缺少必填字段：trace_code")
    assert panel.table.item(row, 2).text() == tr("Rejected")
    panel.table.selectRow(row)
    shown = []
    monkeypatch.setattr(Dialogs, "info", classmethod(lambda cls, parent, title, text: shown.append(text)))
    with qtbot.waitSignal(panel.loaded, timeout=WAIT):
        panel.retry_button.click()
    assert shown == [tr("{count} records queued again.", count=1)]
    with ctx.read() as session:
        assert session.scalar(select(TABLE.c.status).where(TABLE.c.id == ids[0])) == "pending"
    assert panel.counts["rejected"].text().endswith("<b>0</b>")


def test_settings_dialog_stores_credentials_tests_the_connection_and_send_now_uploads(qtbot, ctx, monkeypatch):
    from app.ui.platform_settings import PlatformSettingsDialog

    shown = []
    monkeypatch.setattr(Dialogs, "info", classmethod(lambda cls, parent, title, text: shown.append(text)))
    with simulator.Simulator(accounts={"gui-key": "gui-secret"}) as sim:
        dialog = PlatformSettingsDialog(ctx)
        qtbot.addWidget(dialog)
        assert "test keyring" in dialog.keyring_state.text()
        dialog.url.setText(sim.url)
        dialog.key.setText("gui-key")
        dialog.secret.setText("gui-secret")
        dialog.store_button.click()
        assert credentials.load(profile.load().name).secret == "gui-secret" and dialog.secret.text() == ""
        dialog.test_button.click()
        qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=WAIT)
        assert dialog.test_result.text() == tr("Connection works: address, credentials, clock and profile are all right.")
        with qtbot.waitSignal(dialog.finished, timeout=WAIT):
            dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        with ctx.read() as session:
            assert settings.get(session, "platform_url") == sim.url
        panel = panel_for(qtbot, ctx)
        assert panel.send_button.isEnabled() and sim.url in panel.summary.text()
        with qtbot.waitSignal(panel.loaded, timeout=60_000):
            panel.send_button.click()
        assert shown[-1].startswith("已确认")
        with ctx.read() as session:
            left = session.scalars(select(TABLE.c.status).where(TABLE.c.status != "acknowledged")).all()
        assert left == [] and panel.counts["acknowledged"].text().endswith(f"<b>{len(sim.report()['accepted'])}</b>")
