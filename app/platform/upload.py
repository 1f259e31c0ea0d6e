"""Upload as the desktop app and ``foodarchive upload`` run it: settings from
the database, credentials from the keyring, the sender, the schedule."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.errors import UserError
from app.models import OutboxEntry

from . import credentials, profile, schedule
from .client import Client
from .profile import Profile
from .sender import Report, Sender, utcnow

log = logging.getLogger("upload")


@dataclass(frozen=True)
class Config:
    url: str
    profile: Profile
    interval_minutes: int
    daily_hour: int | None
    on_finalise: bool
    alert_hours: int


def config(session: Session, url: str | None = None) -> Config:
    from app.services import settings

    return Config(
        url=(url or settings.get(session, "platform_url") or "").strip(),
        profile=profile.load(settings.get(session, "platform_profile")),
        interval_minutes=int(settings.get(session, "upload_interval_minutes")),
        daily_hour=settings.get(session, "upload_daily_hour"),
        on_finalise=bool(settings.get(session, "upload_on_finalise")),
        alert_hours=int(settings.get(session, "upload_alert_hours")),
    )


def client_for(cfg: Config) -> Client:
    if not cfg.url:
        raise UserError("没有设置平台地址：请在「设置 → 平台上传」中填写，或用 --url 指定")
    creds = None if cfg.profile.auth["scheme"] == "none" else credentials.load(cfg.profile.name)
    if creds is None and cfg.profile.auth["scheme"] != "none":
        # Before anything is claimed: no attempt is counted for a missing login.
        raise UserError("没有保存平台账号和密钥：请在「设置 → 平台上传」中输入，或运行 foodarchive platform-login")
    return Client(cfg.url, cfg.profile, creds)


def upload_now(sessions: sessionmaker[Session], *, url: str | None = None, clock=utcnow) -> Report:
    """Send everything due now; record the run in the schedule."""
    with sessions.begin() as session:
        cfg = config(session, url)
    with client_for(cfg) as client:
        report = Sender(sessions, client, cfg.profile, clock=clock).drain()
    now = clock()
    with sessions.begin() as session:
        row = schedule.state(session)
        row.last_run = now
        row.next_due = schedule.next_due_after(now, cfg.interval_minutes, cfg.daily_hour)
        if report.ok:
            row.last_success = now
            row.last_error = None
        else:
            row.last_error = report.error
    log.info("upload run: %s", report.summary())
    return report


def _fresh(session: Session, now: dt.datetime) -> bool:
    """A finalised record that was never tried yet."""
    table = OutboxEntry.__table__
    return bool(session.scalar(select(func.count()).select_from(table).where(
        table.c.status == "pending", table.c.attempts == 0, table.c.next_attempt_at <= now)))


def run_if_due(sessions: sessionmaker[Session], *, clock=utcnow) -> Report | None:
    """The desktop app's tick: upload when the schedule is due, or at once
    when a record was finalised (if so set); None when there was nothing to do
    or no platform address is set."""
    now = clock()
    with sessions.begin() as session:
        cfg = config(session)
        if not cfg.url:
            return None
        due = schedule.is_due(schedule.state(session), now) or (cfg.on_finalise and _fresh(session, now))
    return upload_now(sessions, clock=clock) if due else None


def serve(sessions: sessionmaker[Session], *, url: str | None = None, stop: threading.Event | None = None,
          poll_seconds: float = 30, clock=utcnow, say: Callable[[str], None] | None = None) -> None:
    """``foodarchive upload`` without --once: run until stopped, sending when due.
    ``say`` hears each run's outcome and why a run could not start, so the
    person watching knows why nothing arrives."""
    from app.clock import now as local_now  # the schedule runs in UTC; people read local time

    stop = stop or threading.Event()
    said = None
    while not stop.is_set():
        now = clock()
        with sessions.begin() as session:
            on_finalise = config(session, url).on_finalise
            due = schedule.is_due(schedule.state(session), now) or (on_finalise and _fresh(session, now))
        if due:
            try:
                report = upload_now(sessions, url=url, clock=clock)
                text = f"{local_now():%Y-%m-%d %H:%M} 上传：{report.summary()}"
            except UserError as exc:
                log.warning("upload: %s", exc.message)
                text = f"{local_now():%Y-%m-%d %H:%M} 未能上传：{exc.message}"
            if say and text != said:
                say(text)
                said = text
        stop.wait(poll_seconds)


def check(sessions: sessionmaker[Session], *, url: str | None = None) -> list[str]:
    """Test the connection: what is wrong, in plain words; empty when all is well."""
    with sessions.begin() as session:
        cfg = config(session, url)
    try:
        client = client_for(cfg)
    except UserError as exc:
        return [exc.message]
    with client:
        return client.check()


def overdue(session: Session, now: dt.datetime | None = None) -> dt.datetime | None:
    """The queue time of the oldest waiting record when it is older than the alert threshold."""
    from app.services import settings

    from .outbox import oldest_waiting

    hours = int(settings.get(session, "upload_alert_hours"))
    oldest = oldest_waiting(session)
    now = now or utcnow()
    if oldest is not None and now - oldest > dt.timedelta(hours=hours):
        return oldest
    return None


def backlog_alerts(session: Session, today: dt.date):
    """Home-page provider (services.alerts): records waiting longer than the
    platform's deadline (setting upload_alert_hours)."""
    from app.services.alerts import ALERT, OVERDUE, Alert

    from .outbox import counts

    since = overdue(session)
    if since is None:
        return []
    waiting = sum(n for state, n in counts(session).items() if state in ("pending", "sent"))
    return [Alert("upload_backlog", f"{waiting} 条记录未上传到追溯平台，最早一条自 {since:%Y-%m-%d %H:%M} 起等待，已超过上传期限",
                  OVERDUE, ALERT, since.date(), "OutboxEntry", None, "quality_manager")]


def status(session: Session, now: dt.datetime | None = None) -> dict:
    """What the status panel shows (plain data, gathered on the task runner)."""
    from app.services import settings

    from . import outbox

    row = session.scalar(select(schedule.UploadSchedule).limit(1))
    return {
        "configured": bool(settings.get(session, "platform_url")),
        "url": settings.get(session, "platform_url"),
        "profile": settings.get(session, "platform_profile"),
        "counts": outbox.counts(session),
        "rows": outbox.rows(session),
        "overdue_since": overdue(session, now),
        "alert_hours": int(settings.get(session, "upload_alert_hours")),
        "last_success": row.last_success if row else None,
        "next_due": row.next_due if row else None,
        "last_error": row.last_error if row else None,
    }
