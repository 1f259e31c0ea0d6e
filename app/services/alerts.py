"""What needs doing: the home page's to-dos and alerts, gathered from providers.

Each provider is a function ``(session, today) -> Iterable[Alert]`` in the
module that owns the records it watches (recalls watch their deadlines,
backups their age); this module only knows where they are, by name, so the
core stays free of import cycles and a provider can be tested on its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from typing import Callable, Iterable, Iterator

from sqlalchemy.orm import Session

# Severity, highest first: the home page sorts and colours by it.
OVERDUE = "overdue"      # a deadline has passed (red)
DUE = "due"              # within its warning window (amber)
NOTICE = "notice"        # worth knowing (grey)
SEVERITIES = (OVERDUE, DUE, NOTICE)

TODO = "todo"            # something the signed-in user is to do
ALERT = "alert"          # something to watch


@dataclasses.dataclass(frozen=True)
class Alert:
    kind: str                    # stable key, e.g. "licence_expiring"; tests and settings use it
    title: str                   # the line the user reads (Chinese, names the record)
    severity: str = DUE
    category: str = ALERT
    due: dt.date | None = None
    # The record a click opens: the model's class name and the row's id.
    model: str | None = None
    record_id: int | None = None
    # Who is to act, as a post (users.ROLES key); None = whoever may see it.
    role: str | None = None


# "module:function" of every provider; a module adds itself here.
PROVIDERS: list[str] = [
    "app.services.recall:alerts",  # recall deadlines, overdue corrective actions
    "app.services.backup:alerts_due",
    "app.services.devices:alerts_due",
    "app.services.todos:awaiting_signature",
    "app.services.todos:held_batches",
    "app.services.todos:archives_ready",
    "app.services.reminders:supplier_documents",
    "app.services.reminders:health_certificates",
    "app.services.reminders:lots_near_expiry",
    "app.services.reminders:samples_for_disposal",
    "app.services.reminders:archives_retention_ending",
    "app.services.reminders:unanswered_deviations",
    "app.platform.upload:backlog_alerts",
]


def _providers() -> Iterator[Callable[[Session, dt.date], Iterable[Alert]]]:
    for spec in PROVIDERS:
        module, _, name = spec.partition(":")
        yield getattr(importlib.import_module(module), name)


def collect(session: Session, today: dt.date, role: str | None = None) -> list[Alert]:
    """Every alert of every provider, most urgent first; with a role, those
    meant for that post or for anyone."""
    found = [a for provider in _providers() for a in provider(session, today)
             if role is None or a.role in (None, role)]
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(found, key=lambda a: (rank.get(a.severity, len(rank)), a.due or dt.date.max, a.title))
