"""Engine, the one sessionmaker, SQLite pragmas and the upgrade at start-up
(after a copy of a database an older version made)."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Callable
import sqlite3

from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.errors import UserError

log = logging.getLogger("db")

# How long a writer waits for another one: on one SQLite file (busy timeout),
# on PostgreSQL for the audit chain's lock (lock_timeout); then a clear message.
SQLITE_WRITE_WAIT_SECONDS = 10
POSTGRES_WRITE_WAIT_SECONDS = 30
# The execution option that marks a transaction as one that will write
# (services.writing): BEGIN IMMEDIATE on SQLite.
WRITING = "foodarchive_writing"


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("postgresql"):
        connect_args = dict(kwargs.pop("connect_args", {}))
        if "connect_timeout" not in url:
            # An unreachable server is reported after 10 s, not after the OS's
            # TCP timeout of minutes with the window blank.
            connect_args.setdefault("connect_timeout", 10)
        # PostgreSQL's JIT compiles a plan whose cost it overestimates (a recursive CTE
        # it cannot size) for 0.6 s, to save milliseconds: this program's queries are short.
        connect_args["options"] = (connect_args.get("options", "") + " -c jit=off").strip()
        kwargs["connect_args"] = connect_args
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling defers BEGIN and breaks
        # SAVEPOINT; take control of it (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed record survives a power cut (R5.3).
        cursor.execute("PRAGMA synchronous=FULL")
        # A second writer waits this long for the first (then a clear message,
        # app/problems.py) instead of failing at once with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_WRITE_WAIT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writing session (services.writing) takes the write lock at its
        # start, waiting for another writer: a deferred transaction that has
        # read cannot become a writer once another one committed after its
        # read ("database is locked" at once, the busy timeout does not help).
        # Readers stay deferred and never wait.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITING) else "BEGIN")


def make_sessionmaker(engine: Engine, actor=None):
    """The one session factory of an engine; with ``actor`` (``services.acting``)
    its sessions act as that actor."""
    # Importing the services installs the audit and guard listeners on every
    # Session: no session this module hands out can write around them.
    import app.services  # noqa: F401
    from app.services import acting

    maker = sessionmaker(bind=engine, expire_on_commit=False)
    return maker if actor is None else acting.Sessions(maker, actor)


def upgrade(engine: Engine) -> Path | None:
    """Create or migrate the schema to the newest revision.

    A database at an older revision (made by an older version of the program)
    is copied first; the copy's path is returned. A fresh database and one
    already at the newest revision are not copied. At the newest revision —
    every start but the first after an update — Alembic is not even loaded:
    one query answers.
    """
    with engine.connect() as connection:
        current = current_revision(connection)
    if current is not None and current == head_revision():
        log.info("database at head revision %s: %s", current, engine.url.render_as_string(hide_password=True))
        return None

    from alembic import command

    from app.migrations import alembic_config

    backup = None
    if current is not None and current != head_revision():
        _refuse_unknown(current, engine)
        backup = backup_before_upgrade(engine, current)
    with engine.connect() as connection, _foreign_keys_off(connection):
        with connection.begin():
            config = alembic_config(connection)
            command.upgrade(config, "head")
            from app import search_index

            search_index.repair(connection)  # a migration in batch mode may have dropped a table's triggers
            _check_foreign_keys(connection)
    log.info("database at head revision: %s", engine.url.render_as_string(hide_password=True))
    return backup


@contextlib.contextmanager
def _foreign_keys_off(connection: Connection):
    """SQLite's procedure for rebuilding a table (how batch mode adds a CHECK):
    foreign keys off outside the transaction — dropping a table that other rows
    point at fails otherwise — and checked before the commit."""
    raw = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
    if raw is not None:
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise UserError(f"升级后有 {len(broken)} 处外键引用不成立（如表 {broken[0][0]}），数据库没有升级")


def restore_append_only(engine: Engine) -> list[str]:
    """Put back the audit log's append-only triggers if someone dropped them
    (every start; one catalogue query when they are there). Returns what was restored."""
    from app import append_only

    with engine.connect() as connection:
        if not append_only.missing(connection):
            return []
    try:
        with engine.begin() as connection:
            return append_only.restore(connection)
    except Exception:  # noqa: BLE001 — e.g. a PostgreSQL user who may not create triggers: reported, not fatal
        log.exception("cannot restore the audit log's append-only triggers")
        with engine.connect() as connection:
            return append_only.missing(connection)


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: no schema yet), as Alembic stores it."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revisions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(revisions) > 1:
        raise UserError(f"数据库的结构版本记录不唯一（{'、'.join(revisions)}）；请联系技术支持")
    return revisions[0] if revisions else None


def _refuse_unknown(revision: str, engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    from app.migrations import alembic_config
    from app.problems import database_place

    known = {script.revision for script in ScriptDirectory.from_config(alembic_config(None)).walk_revisions()}
    if revision not in known:
        place = database_place(engine.url.render_as_string(hide_password=True))
        raise UserError(
            f"{place}的结构版本 {revision} 是更新版本的程序写的，本程序（最新结构版本 {head_revision()}）"
            "不能打开它，也没有改动它。请安装最新版本的程序"
        )


def backup_before_upgrade(engine: Engine, revision: str) -> Path | None:
    """A consistent copy next to an SQLite file, named after its revision.

    PostgreSQL cannot be copied from here: the server's own tool (pg_dump)
    does it, so the log says so before the upgrade goes on.
    """
    url = engine.url
    if engine.dialect.name != "sqlite":
        log.warning(
            "upgrading %s from revision %s to %s without a copy: make one first with "
            "pg_dump --format=custom --file=foodarchive-before-%s.dump %s",
            url.render_as_string(hide_password=True), revision, head_revision(), head_revision(), url.database,
        )
        return None
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        log.warning("in-memory database at revision %s is upgraded without a copy", revision)
        return None
    source_path = Path(url.database)
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    target = source_path.with_name(f"{source_path.stem}-backup-rev{revision}-{stamp}{source_path.suffix or '.db'}")
    counter = 1
    while target.exists():
        counter += 1
        target = target.with_name(f"{source_path.stem}-backup-rev{revision}-{stamp}-{counter}{source_path.suffix or '.db'}")
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # the online backup API: a consistent copy, WAL included
        check = copy.execute("PRAGMA quick_check").fetchone()[0]
        copied = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        copy.close()
        source.close()
    if check != "ok" or copied != revision:
        raise UserError(f"升级前为数据库做的副本「{target}」校验不通过（{check}，结构版本 {copied}），"
                        "数据库没有升级，也没有改动。请检查磁盘空间和磁盘是否正常，然后重试。")
    log.info("copied %s (revision %s) to %s before the upgrade to %s", source_path, revision, target, head_revision())
    return target


REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+)$", re.MULTILINE)
QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


@functools.cache  # the migration scripts ship with the program: read them once
def head_revision() -> str:
    """The newest schema revision this version of the program knows: the one no
    script revises. Read from the scripts' ``revision`` and ``down_revision``
    lines, so a start at the newest revision never loads Alembic (a third of a
    second); tests/unit/test_upgrade.py checks it against Alembic's own answer."""
    from app.paths import migrations_dir

    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (migrations_dir() / "versions").glob("*.py"):
        for name, value in REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            (revisions if name == "revision" else revised).update(QUOTED.findall(value))
    heads = revisions - revised
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # several heads (or none): Alembic says what that means

    from app.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def open_database(url: str, on_backup: Callable[[Path], None] | None = None, actor=None, *, create: bool = True,
                  on_tamper: Callable[[list[str]], None] | None = None):
    """The engine and sessions of an upgraded database; ``on_backup`` hears
    where the copy made before an upgrade is, so the user is told. With
    ``actor`` the sessions act as that actor (see ``make_sessionmaker``).

    ``create=False`` (every command but ``init``, and the window, unless the
    database is the default one): an SQLite file that does not exist is an
    error naming the path, so a mistyped or moved ``--db`` never becomes a new
    empty database. A database that cannot be opened — corrupt, read-only,
    locked, unreachable, made by a newer version — raises ``DatabaseProblem``
    with a sentence saying what happened and what to do.
    """
    from app import problems

    problems.remember_database(url)
    path = problems.sqlite_path(url)
    # A file made now has a chain of its own: whatever this PC remembered for
    # the same path belonged to a database that was deleted.
    fresh = path is not None and not (path.exists() and path.stat().st_size)
    if path is not None:
        _check_file(path, create)
    try:
        if path is not None and path.exists() and path.stat().st_size:
            _refuse_foreign(path)
        engine = make_engine(url)
        backup = upgrade(engine)
    except UserError as exc:
        raise problems.DatabaseProblem(exc.message) from exc
    except Exception as exc:  # noqa: BLE001 — classified here, re-raised when it is a bug
        message = problems.explain(exc, url)
        if message is None:
            raise
        log.info("cannot open %s: %s", url if path else problems.database_place(url), exc)
        raise problems.DatabaseProblem(message) from exc
    if backup is not None and on_backup is not None:
        on_backup(backup)
    if fresh:
        from app.services import anchors

        with engine.connect() as connection:
            anchors.restart(connection)
    warnings = start_checks(engine)
    if warnings and on_tamper is not None:
        on_tamper(warnings)
    sessions = make_sessionmaker(engine, actor)
    _advance_anchor_after_commits(engine, sessions)
    return engine, sessions


def start_checks(engine: Engine) -> list[str]:
    """Every start: the append-only triggers put back if someone removed them,
    and the chain's head checked against the one this PC remembered
    (app/services/anchors.py). Returns what the user must be told."""
    from app.services import anchors

    said = []
    restored = restore_append_only(engine)
    if restored:
        said.append("审计日志的只追加保护（数据库触发器 " + "、".join(restored) + "）被删除或停用过，已恢复；"
                    "请运行“校验”查看日志和记录是否被改动")
    with engine.connect() as connection:
        said += [finding.message for finding in anchors.check_local(connection)]
        anchors.advance(connection)
    for line in said:
        log.warning("start-up check: %s", line)
    return said


def _advance_anchor_after_commits(engine: Engine, sessions) -> None:
    """After each commit that wrote to the audit log, this PC remembers the new head."""
    from app.services import anchors

    maker = getattr(sessions, "maker", sessions)

    @event.listens_for(maker, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.info.pop("_audit_wrote", False):
            with engine.connect() as connection:
                anchors.advance(connection)


def check_writable(engine: Engine) -> None:
    """Raise ``DatabaseProblem`` when nothing can be written: a read-only
    file or folder, a read-only server, a user without the right. An SQLite
    file that cannot be written still opens and reads; the window asks at
    the start instead of failing at the first save."""
    from app import problems

    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
            finally:
                transaction.rollback()
    except Exception as exc:  # noqa: BLE001 — classified; a bug goes on
        message = problems.explain(exc, engine.url.render_as_string(hide_password=False))
        if message is None:
            raise
        raise problems.DatabaseProblem(message) from exc


def _check_file(path: Path, create: bool) -> None:
    from app import problems

    if path.is_dir():
        raise problems.DatabaseProblem(f"「{path}」是一个文件夹，不是数据库文件：--db 应写数据库文件的路径。")
    if path.exists():
        return
    if not create:
        raise problems.DatabaseProblem(problems.missing_database(path))
    if not path.parent.is_dir():
        raise problems.DatabaseProblem(f"文件夹「{path.parent}」不存在，无法在那里新建数据库文件「{path.name}」。请检查路径。")


def _refuse_foreign(path: Path) -> None:
    """Tables but no schema revision: another program's database, which an
    upgrade would quietly fill with ours. Looked at read-only: even our
    connection's WAL pragma would change another program's file."""
    from app import problems

    try:
        with contextlib.closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as connection:
            names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return  # corrupt or locked: opening it says which
    if names and "alembic_version" not in names:
        raise problems.DatabaseProblem(
            f"「{path}」是一个 SQLite 数据库，但不是本软件的数据库（其中没有本软件的结构版本）。请检查 --db 的路径。")


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")
