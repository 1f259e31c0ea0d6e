"""What every screen needs: the database, the task runner, the session factory."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .tasks import TaskRunner


@dataclass
class AppContext:
    engine: Engine
    sessions: sessionmaker[Session]
    runner: TaskRunner
    actor: str = "质量负责人"

    @contextmanager
    def read(self):
        """A short read-only session (GUI thread reads of a page of rows)."""
        with self.sessions() as session:
            session.info["actor"] = self.actor
            yield session

    def write(self, fn: Callable[[Session], object]) -> Callable:
        """Wrap a service call as a task: one transaction, committed or rolled back.

        The result must be plain data (ids, strings), never ORM objects.
        """

        def task(_progress):
            with self.sessions.begin() as session:
                session.info["actor"] = self.actor
                return fn(session)

        return task
