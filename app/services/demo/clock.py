"""The story's clock: the services read ``session.info["now"]`` / ``["today"]``
(see ``common.now`` / ``common.today``), so the demo moves them as its story
goes, and puts back whatever the caller had when it is done."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

KEYS = ("now", "today")


class Clock:
    def __init__(self, session: Session, anchor: dt.date, days: int, lead: int = 3):
        self.session = session
        self.anchor = anchor  # "today" of the run: the story ends a few days before it
        self.end = anchor - dt.timedelta(days=lead)  # last production day
        self.start = self.end - dt.timedelta(days=days)  # first production day
        self._saved = {key: session.info.get(key) for key in KEYS}

    def set(self, at: dt.datetime) -> dt.datetime:
        at = at.replace(microsecond=0)
        self.session.info["now"] = at
        self.session.info["today"] = at.date()
        return at

    def on(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """Move the clock to a time of a day and return it."""
        return self.set(dt.datetime.combine(day, dt.time(hour, minute)))

    def days(self, first: dt.date, last: dt.date):
        day = first
        while day <= last:
            yield day
            day += dt.timedelta(days=1)

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                self.session.info.pop(key, None)
            else:
                self.session.info[key] = value
