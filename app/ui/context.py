"""What every screen needs: the database, the task runner, and sessions that
act as whoever is logged in."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.services import acting as acting_
from app.services.acting import SYSTEM_NAME, Actor, Sessions

from .tasks import TaskRunner, writes


@dataclass
class AppContext:
    engine: Engine
    maker: sessionmaker[Session]
    runner: TaskRunner
    # Who the window acts as: nobody until the login (sessions may then only
    # read), the user after it; the system account only where said (demo load).
    acting: Actor | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def sessions(self) -> Sessions:
        """Sessions acting as the logged-in user: hand these to any job."""
        return Sessions(self.maker, self.acting)

    @property
    def actor(self) -> str:
        return self.acting.name if self.acting else ""

    @property
    def user_id(self) -> int | None:
        return self.acting.user_id if self.acting else None

    def log_in(self, user_id: int) -> None:
        """Every service call from now on runs as this user."""
        from app.models import User
        from app.services import users

        with self.maker() as session:
            user = session.get(User, user_id)
            self.acting = acting_.user(user.id, user.display_name)
            self.roles = frozenset(users.roles_of(session, user))

    def act_as_system(self, name: str = SYSTEM_NAME) -> None:
        """Run as the system account (tests and the hidden smoke check)."""
        self.acting, self.roles = acting_.system(name), frozenset()

    def may(self, action: str, ledger_key: str | None = None) -> bool:
        """Whether the screens should offer ``action``; the services decide
        again, so this only spares the user a button that would be refused."""
        from app.services import users

        if self.acting is None:
            return False
        return self.acting.is_system or users.may(self.roles, action, ledger_key)

    def offer(self, widget, action: str, ledger_key: str | None = None) -> None:
        """Hide ``widget`` from a user whose role may not do ``action``."""
        if not self.may(action, ledger_key):
            widget.hide()

    @contextmanager
    def read(self):
        """A short read-only session (GUI thread reads of a page of rows)."""
        with self.sessions() as session:
            yield session

    def write(self, fn: Callable[[Session], object], as_system: str | bool | None = None) -> Callable:
        """Wrap a service call as a task: one transaction, committed or rolled back.

        The result must be plain data (ids, strings), never ORM objects.
        ``as_system`` runs it as the system account under that name (the demo
        load, the first administrator; True: the plain system name).
        """
        name = SYSTEM_NAME if as_system is True else as_system
        sessions = self.sessions.as_actor(acting_.system(name)) if name else self.sessions

        def task(_progress):
            with sessions.begin() as session:
                return fn(session)

        return writes(task)
