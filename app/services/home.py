"""What the home page shows, as plain data: who is signed in, their to-dos,
the alerts, and how many lines concern each ledger (the navigation counts)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.ledgers import registry
from app.models import Person, User

from . import acting, alerts, users
from .common import today as today_of


@dataclass(frozen=True)
class Line:
    kind: str
    title: str
    severity: str
    due: dt.date | None
    ledger: str | None   # the ledger key of the record a click opens, if it has one
    model: str | None
    record_id: int | None


@dataclass(frozen=True)
class Home:
    user: str
    posts: str
    today: dt.date
    todos: list[Line]
    alerts: list[Line]
    counts: dict[str, int]  # ledger key (or page key) -> lines that open it


def _ledger_of(model: str | None) -> str | None:
    for declaration in registry().values():
        if declaration.model.__name__ == model:
            return declaration.key
    return None


def _line(alert: alerts.Alert) -> Line:
    return Line(alert.kind, alert.title, alert.severity, alert.due, _ledger_of(alert.model), alert.model,
                alert.record_id)


def who(session: Session) -> tuple[str, str]:
    """The signed-in user's name and posts (the role names, else the person's post)."""
    actor = acting.of(session)
    if actor is None or actor.user_id is None:
        return (actor.name if actor else ""), "系统账户"
    user = session.get(User, actor.user_id)
    posts = users.role_labels(users.roles_of(session, user))
    person = session.get(Person, user.person_id) if user.person_id else None
    return user.display_name, posts if person is None else f"{posts}（{person.name}）"


def home(session: Session, roles: frozenset[str] | None = None) -> Home:
    """``roles`` None: every to-do (the system account); else those for these posts.
    Alerts are for everyone: the quality manager oversees what others act on."""
    day = today_of(session)
    name, posts = who(session)
    todos: dict[tuple, Line] = {}
    found: list[Line] = []
    for alert in alerts.collect(session, day):
        if alert.category == alerts.TODO:
            if roles is None or alert.role is None or alert.role in roles:
                # A to-do told to several posts of one user is one line.
                todos.setdefault((alert.kind, alert.model, alert.record_id, alert.title), _line(alert))
        else:
            found.append(_line(alert))
    counts = Counter(line.ledger or line.model for line in [*todos.values(), *found] if line.ledger or line.model)
    return Home(name, posts, day, list(todos.values()), found, dict(counts))
