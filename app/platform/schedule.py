"""When to upload: every N minutes and, optionally, daily at an hour.

``next_due`` and ``last_success`` live in the database (``UploadSchedule``),
not in a timer, so a restart or a PC waking from sleep catches up at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import UploadSchedule


def next_due_after(now: dt.datetime, interval_minutes: int, daily_hour: int | None) -> dt.datetime:
    candidates = [now + dt.timedelta(minutes=interval_minutes)]
    if daily_hour is not None:
        today_at = now.replace(hour=daily_hour, minute=0, second=0, microsecond=0)
        candidates.append(today_at if today_at > now else today_at + dt.timedelta(days=1))
    return min(candidates)


def state(session: Session) -> UploadSchedule:
    """The one schedule row (made on first use)."""
    row = session.scalar(select(UploadSchedule).order_by(UploadSchedule.id).limit(1))
    if row is None:
        row = UploadSchedule()
        session.add(row)
        session.flush()
    return row


def is_due(row: UploadSchedule, now: dt.datetime) -> bool:
    return row.next_due is None or row.next_due <= now
