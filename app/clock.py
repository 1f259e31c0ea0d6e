"""The program's one clock.

Services, the demo, the upload outbox and its schedule, reports and the
window read the time here, never ``datetime.now()`` themselves, so a test can
fix the date for the whole program — in-process with :func:`freeze`, in a
command it starts through the environment variable ``FOODARCHIVE_CLOCK``
(an ISO date-time: the program's clock starts there and runs on, so leases
and backoffs still expire while the date stays the one the test chose). A session may carry a time of its own
(``session.info["now"]``): the demo moves it along its story; see
``services.common.now``.

What is not on this clock, on purpose: the timestamp that signs a request to
the platform (the server checks it against its own real clock) and timeouts
and waits (``time.monotonic``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time

ENV = "FOODARCHIVE_CLOCK"

_frozen: dt.datetime | None = None
# A start given by the environment, and the monotonic reading taken then.
_started: tuple[dt.datetime, float] | None = None


def _from_environment() -> tuple[dt.datetime, float] | None:
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        logging.getLogger("app").warning("%s=%r is not an ISO date-time; the real clock is used", ENV, text)
        return None
    logging.getLogger("app").info("the clock starts at %s (%s)", at.isoformat(), ENV)
    return at.replace(tzinfo=None, microsecond=0), time.monotonic()


def now() -> dt.datetime:
    """Local time to the second."""
    if _frozen is not None:
        return _frozen
    if _started is not None:
        start, reading = _started
        return (start + dt.timedelta(seconds=time.monotonic() - reading)).replace(microsecond=0)
    return dt.datetime.now().replace(microsecond=0)


def today() -> dt.date:
    return now().date()


def freeze(at: dt.datetime | dt.date | None) -> None:
    """Fix the clock at ``at`` (a date means its 08:00); None lets it run again."""
    global _frozen
    if isinstance(at, dt.date) and not isinstance(at, dt.datetime):
        at = dt.datetime.combine(at, dt.time(8, 0))
    _frozen = None if at is None else at.replace(tzinfo=None, microsecond=0)


_started = _from_environment()
