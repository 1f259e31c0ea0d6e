"""Who is acting: the one way a session names its actor (R5.4).

Every session that writes, prints or exports names who does it — a user who
logged in, or, said explicitly, the system account (the command line, the
demo load, scheduled tasks). A session that names nobody may read, but every
service that writes, prints or exports refuses it (``users.require``), and
the flush guard refuses any audited change it would make. So a new code path
that forgets to say who is acting fails closed instead of acting as the
system.

    sessions = acting.Sessions(make_sessionmaker(engine), acting.system("命令行"))
    with sessions.begin() as session:
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from app.errors import PermissionDenied

SYSTEM_NAME = "系统"
_KEY = "acting"


@dataclass(frozen=True)
class Actor:
    """``name`` is what records say made them (``created_by``, the audit log);
    ``user_id`` is None for the system account."""

    name: str
    user_id: int | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id is None


def system(name: str = SYSTEM_NAME) -> Actor:
    """The system account, under the name its records will carry (命令行, 演示数据, 计划任务…)."""
    if not isinstance(name, str):
        raise TypeError(f"the system account's name must be text, not {name!r}")
    return Actor(name or SYSTEM_NAME)


def user(user_id: int, display_name: str) -> Actor:
    return Actor(display_name, user_id)


def user_of(session: Session, user_id: int) -> Actor:
    """The actor for the user with this id (the name printed on records)."""
    from app.models import User

    found = session.get(User, user_id)
    if found is None:
        raise PermissionDenied("当前用户不存在，请重新登录")
    return user(found.id, found.display_name)


def bind(session: Session, actor: Actor | None) -> Session:
    """Let ``session`` act as ``actor`` (None: nobody, read only)."""
    for key in (_KEY, "actor", "user_id"):
        session.info.pop(key, None)
    if actor is not None:
        session.info[_KEY] = actor
        session.info["actor"] = actor.name
        if actor.user_id is not None:
            session.info["user_id"] = actor.user_id
    return session


def of(session: Session) -> Actor | None:
    return session.info.get(_KEY)


def required(session: Session) -> Actor:
    """The actor of a session that is about to write; PermissionDenied if nobody."""
    actor = of(session)
    if actor is None:
        raise PermissionDenied("没有指明由谁操作：请先登录（命令行、演示数据和计划任务以系统账户运行）")
    return actor


class Sessions:
    """A session factory whose every session names the same actor.

    It stands where a ``sessionmaker`` stands (``sessions()``,
    ``sessions.begin()``), so report builders, the sender and background jobs
    that are handed one act as whoever handed it over.
    """

    def __init__(self, maker: sessionmaker[Session], actor: Actor | None):
        self.maker = maker
        self.actor = actor

    def __call__(self) -> Session:
        return bind(self.maker(), self.actor)

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A writing session: it holds the write lock from its start
        (services.writing), so what it reads no other writer changes."""
        from .writing import begin_writing

        with self() as session, session.begin():
            begin_writing(session)
            yield session

    def as_actor(self, actor: Actor | None) -> Sessions:
        return Sessions(self.maker, actor)

    @property
    def kw(self) -> dict:
        return self.maker.kw
