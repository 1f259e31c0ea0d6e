"""What every screen needs: the database, the task runner, the session factory."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .tasks import TaskRunner


@dataclass
class AppContext:
    engine: Engine
    sessions: sessionmaker[Session]
    runner: TaskRunner
    actor: str = "质量负责人"
    # The logged-in user; None runs every service call as the system account.
    user_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    def log_in(self, user_id: int) -> None:
        """Every service call from now on runs as this user."""
        from app.models import User
        from app.services import users

        with self.sessions() as session:
            user = session.get(User, user_id)
            self.actor = user.display_name
            self.roles = frozenset(users.roles_of(session, user))
        self.user_id = user_id

    def may(self, action: str, ledger_key: str | None = None) -> bool:
        """Whether the screens should offer ``action``; the services decide
        again, so this only spares the user a button that would be refused."""
        from app.services import users

        return self.user_id is None or users.may(self.roles, action, ledger_key)

    def offer(self, widget, action: str, ledger_key: str | None = None) -> None:
        """Hide ``widget`` from a user whose role may not do ``action``."""
        if not self.may(action, ledger_key):
            widget.hide()

    def _enter(self, session: Session) -> None:
        session.info["actor"] = self.actor
        if self.user_id is not None:
            session.info["user_id"] = self.user_id

    @contextmanager
    def read(self):
        """A short read-only session (GUI thread reads of a page of rows)."""
        with self.sessions() as session:
            self._enter(session)
            yield session

    def write(self, fn: Callable[[Session], object], as_system: bool = False) -> Callable:
        """Wrap a service call as a task: one transaction, committed or rolled back.

        The result must be plain data (ids, strings), never ORM objects.
        ``as_system`` runs it as the system account (the demo load).
        """

        def task(_progress):
            with self.sessions.begin() as session:
                self._enter(session)
                if as_system:
                    session.info.pop("user_id", None)
                return fn(session)

        return task
