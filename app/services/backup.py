"""Verified backups and restore (R5.3).

A backup is written under a temporary name, verified — opened read-only,
``PRAGMA integrity_check``, the audit chain and every row recomputed
(``audit.verify``) — and only then given its real name. A copy that fails is
moved into the folder ``未通过校验`` beside the good ones and reported; the
rotation only ever counts and removes verified copies, so a failing copy can
never push out a good one.

SQLite is copied with its online backup API: one read transaction, so the
copy is consistent while the window and other processes go on writing
(WAL: the writers do not wait). PostgreSQL is copied by the server's own tool,
``pg_dump``, and verified by restoring it into a scratch database.

Qt-free: the command line and the window's scheduled job both call ``run``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session

from app import clock
from app.errors import UserError
from app.models import BackupRun

from . import acting, alerts, settings, users

log = logging.getLogger("backup")

PREFIX = "foodarchive-"
FAILED_FOLDER = "未通过校验"
NAME = re.compile(r"^foodarchive-(\d{8}-\d{6})(?:-\d+)?\.(db|dump)$")
PG_TOOLS_HINT = ("请安装与数据库服务器同一主版本的 PostgreSQL 客户端工具（Windows：PostgreSQL 安装程序中的"
                 "“Command Line Tools”；Debian/Ubuntu：sudo apt install postgresql-client），"
                 "并把它的 bin 文件夹加入 PATH 环境变量")


@dataclass
class Outcome:
    """What one backup did; ``ok`` only when every copy was verified."""

    ok: bool
    path: Path | None = None
    second_path: Path | None = None
    problems: list[str] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "；".join(self.problems)


# ---------------------------------------------------------------- where


def sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise UserError("内存中的数据库不能备份")
    return Path(url.database)


def folder_of(session: Session, to: str | Path | None = None) -> Path:
    """``to``, else the setting, else the folder ``backups`` in the data folder."""
    from app.paths import data_dir

    chosen = to or settings.get(session, "backup_folder")
    return Path(chosen).expanduser() if chosen else data_dir() / "backups"


def _target(folder: Path, suffix: str) -> Path:
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    target, counter = folder / f"{PREFIX}{stamp}{suffix}", 1
    while target.exists() or (folder / FAILED_FOLDER / target.name).exists():
        counter += 1
        target = folder / f"{PREFIX}{stamp}-{counter}{suffix}"
    return target


def _ready(folder: Path, label: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".foodarchive-probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"{label}「{folder}」不能写入（{exc.strerror or exc}）：请检查它是否存在、"
                        "U 盘或网络共享是否已连接、是否有写入权限") from None


# ---------------------------------------------------------------- copy


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file in one read transaction."""
    with contextlib.closing(sqlite3.connect(source, timeout=30)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)  # all pages in one step: writers in WAL mode go on meanwhile
        # The copy stands alone: no -wal/-shm files it would need to be read.
        dst.execute("PRAGMA journal_mode=DELETE")


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The address pg_dump understands, and the password in its environment
    (never on the command line, where other users of the PC could read it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None, query={})
    return plain.render_as_string(hide_password=False), env


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise UserError(f"在 PATH 中找不到 PostgreSQL 的 {name} 程序，无法备份或恢复 PostgreSQL 数据库。{PG_TOOLS_HINT}")
    return found


def _run_tool(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, errors="replace", check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise UserError(f"{what}失败：{detail[-1] if detail else f'退出码 {done.returncode}'}")


def dump_postgresql(url: URL, target: Path) -> None:
    address, env = _libpq(url)
    _run_tool([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
               f"--file={target}", f"--dbname={address}"], env, "pg_dump 导出数据库")


# ---------------------------------------------------------------- verify


def verify_file(path: Path, url: URL | None = None) -> list[str]:
    """Why ``path`` is not a good copy (empty: it is). ``url`` (PostgreSQL)
    names the server a dump is restored on to be checked."""
    if not path.is_file():
        return [f"文件「{path}」不存在"]
    if path.suffix == ".dump" or (url is not None and url.get_backend_name() == "postgresql"):
        return _verify_dump(path, url)
    return _verify_sqlite(path)


def _revision_problem(revision: str | None) -> str | None:
    return "其中没有本软件的结构版本：不是本软件的数据库" if revision is None else None


def _verify_sqlite(path: Path) -> list[str]:
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            results = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if results != ["ok"]:
                return [f"完整性检查（integrity_check）未通过：{'；'.join(results[:3])}"]
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            revision = (connection.execute("SELECT version_num FROM alembic_version").fetchone() or [None])[0] \
                if "alembic_version" in tables else None
    except sqlite3.DatabaseError as exc:
        return [f"不能作为 SQLite 数据库打开（{exc}）"]
    problem = _revision_problem(revision)
    if problem:
        return [problem]
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    try:
        return _verify_audit(engine, revision)
    finally:
        engine.dispose()


def _verify_audit(engine: Engine, revision: str) -> list[str]:
    """The audit chain recomputed and every row compared with it. A copy made
    by an older version of the program is checked after the upgrade it will
    get when restored; here only its integrity counts."""
    from app.db import head_revision

    from . import audit

    if revision != head_revision():
        log.info("copy at revision %s (head %s): the audit check follows its upgrade", revision, head_revision())
        return []
    with engine.connect() as connection:
        findings = audit.verify(connection)
    if not findings:
        return []
    shown = "；".join(f.message for f in findings[:3])
    return [f"审计校验发现 {len(findings)} 处问题：{shown}"]


def _verify_dump(path: Path, url: URL | None) -> list[str]:
    """A dump is checked by restoring it into a scratch database on the same
    server and verifying that; the scratch database is dropped after."""
    if url is None or url.get_backend_name() != "postgresql":
        return [f"「{path.name}」是 PostgreSQL 的备份，只能在 PostgreSQL 数据库上校验和恢复"]
    try:
        address, env = _libpq(url)
        _run_tool([pg_tool("pg_restore"), "--list", str(path)], env, "读取备份目录（pg_restore --list）")
    except UserError as exc:
        return [exc.message]
    scratch = f"foodarchive_verify_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    except Exception as exc:  # noqa: BLE001 — any refusal is the reason the copy is unchecked
        admin.dispose()
        return [f"不能在服务器上新建临时数据库来校验备份（{exc.__class__.__name__}）：数据库用户需要 CREATEDB 权限"]
    try:
        scratch_url = url.set(database=scratch)
        address, env = _libpq(scratch_url)
        try:
            _run_tool([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                       f"--dbname={address}", str(path)], env, "把备份恢复到临时数据库")
        except UserError as exc:
            return [exc.message]
        engine = create_engine(scratch_url)
        try:
            with engine.connect() as connection:
                revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            problem = _revision_problem(revision)
            return [problem] if problem else _verify_audit(engine, revision)
        finally:
            engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------- rotation


def taken_at(path: Path) -> dt.datetime | None:
    match = NAME.match(path.name)
    return dt.datetime.strptime(match.group(1), "%Y%m%d-%H%M%S") if match else None


def to_keep(times: list[dt.datetime], daily: int, weekly: int, monthly: int) -> set[dt.datetime]:
    """Grandfather-father-son: the newest copy of each of the last ``daily``
    days that have one, of the last ``weekly`` ISO weeks and of the last
    ``monthly`` months. The newest copy is always kept."""
    keep: set[dt.datetime] = set()
    newest_first = sorted(times, reverse=True)
    rules = ((daily, lambda t: t.date()), (weekly, lambda t: t.isocalendar()[:2]), (monthly, lambda t: (t.year, t.month)))
    for count, period in rules:
        seen: list[object] = []
        for moment in newest_first:
            key = period(moment)
            if len(seen) >= count:
                break
            if key not in seen:
                seen.append(key)
                keep.add(moment)
    if newest_first:
        keep.add(newest_first[0])
    return keep


def rotate(folder: Path, daily: int, weekly: int, monthly: int) -> list[Path]:
    """Remove the verified copies in ``folder`` the rule does not keep; the
    folder of failed copies and any other file are never touched."""
    copies = {path: taken_at(path) for path in folder.iterdir() if path.is_file() and taken_at(path)}
    keep = to_keep(list(copies.values()), daily, weekly, monthly)
    removed = []
    for path, moment in sorted(copies.items()):
        if moment not in keep:
            path.unlink()
            removed.append(path)
    return removed


# ---------------------------------------------------------------- run


def _put_aside(partial: Path, final_name: str) -> Path:
    aside = partial.parent / FAILED_FOLDER
    aside.mkdir(exist_ok=True)
    target = aside / final_name
    partial.replace(target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _second_copy(copy: Path, folder: Path) -> Path:
    """The verified copy, copied again and compared byte for byte by hash."""
    _ready(folder, "第二备份文件夹")
    target = folder / copy.name
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(copy, partial)
    with partial.open("rb+") as stream:
        os.fsync(stream.fileno())
    if _sha256(partial) != _sha256(copy):
        _put_aside(partial, copy.name)
        raise UserError(f"复制到第二备份文件夹「{folder}」的副本与原备份不一致，已放在「{folder / FAILED_FOLDER}」")
    partial.replace(target)
    return target


def run(engine: Engine, sessions, to: str | Path | None = None) -> Outcome:
    """Back up the database of ``engine`` into ``to`` (default: the settings'
    folder) and the second folder, verify, rotate, and record the run. Never
    raises for a failed copy: the outcome says what failed."""
    with sessions() as session:
        acting.required(session)
        folder = folder_of(session, to)
        second = settings.get(session, "backup_second_folder") if to is None else ""
        keep = [settings.get(session, f"backup_keep_{period}") for period in ("daily", "weekly", "monthly")]
    started, outcome = clock.now(), Outcome(ok=False)
    try:
        outcome = _make(engine.url, folder)
        if outcome.ok:
            outcome.removed += rotate(folder, *keep)
            if second:
                outcome.second_path = _second_copy(outcome.path, Path(second).expanduser())
                outcome.removed += rotate(Path(second).expanduser(), *keep)
    except UserError as exc:
        outcome.ok = False
        outcome.problems.append(exc.message)
    except OSError as exc:
        outcome.ok = False
        outcome.problems.append(f"写入备份时出错：{exc.strerror or exc}（{exc.filename or folder}）")
    _record(sessions, started, outcome)
    if outcome.ok:
        log.info("backup %s verified%s", outcome.path, f", copied to {outcome.second_path}" if outcome.second_path else "")
    else:
        log.warning("backup failed: %s", outcome.message)
    return outcome


def _make(url: URL, folder: Path) -> Outcome:
    _ready(folder, "备份文件夹")
    source = sqlite_file(url)
    target = _target(folder, ".db" if source else ".dump")
    partial = target.with_name(target.name + ".partial")
    if source is not None:
        copy_sqlite(source, partial)
    else:
        dump_postgresql(url, partial)
    problems = _verify_sqlite(partial) if source else _verify_dump(partial, url)
    if problems:
        aside = _put_aside(partial, target.name)
        return Outcome(ok=False, path=aside, problems=[f"备份「{aside}」未通过校验，已单独存放：{problems[0]}"])
    partial.replace(target)
    return Outcome(ok=True, path=target)


def _record(sessions, started: dt.datetime, outcome: Outcome) -> None:
    try:
        with sessions.begin() as session:
            session.add(BackupRun(started_at=started, finished_at=clock.now(), ok=outcome.ok,
                                  path=str(outcome.path or ""), message=outcome.message or None,
                                  second_path=str(outcome.second_path) if outcome.second_path else None,
                                  actor=acting.required(session).name))
    except Exception:  # noqa: BLE001 — the copy stands; only its record is missing
        log.exception("could not record the backup run")


def last_good(session: Session) -> dt.datetime | None:
    return session.scalar(select(func.max(BackupRun.finished_at)).where(BackupRun.ok.is_(True)))


def last_attempt(session: Session) -> dt.datetime | None:
    return session.scalar(select(func.max(BackupRun.started_at)))


RETRY_AFTER = dt.timedelta(hours=1)  # a failing backup is tried again, not on every tick


def is_due(session: Session, now: dt.datetime) -> bool:
    interval = dt.timedelta(hours=int(settings.get(session, "backup_interval_hours")))
    good, tried = last_good(session), last_attempt(session)
    if good is not None and now - good < interval:
        return False
    return tried is None or now - tried >= RETRY_AFTER


def run_if_due(engine: Engine, sessions) -> Outcome | None:
    """The window's scheduled backup: the last good time is in the database,
    so a restart, a sleeping PC or several PCs on one server do not repeat it."""
    with sessions() as session:
        if not is_due(session, clock.now()):
            return None
    return run(engine, sessions)


# ---------------------------------------------------------------- restore


@dataclass
class Restored:
    source: Path
    kept_aside: Path | None


def restore(url: str | URL, file: str | Path, sessions=None, release: Callable[[], None] | None = None) -> Restored:
    """Replace the database at ``url`` with the verified copy ``file``. The
    current database is copied aside first (its path is returned); a copy
    that fails verification is refused and nothing is changed. Every
    connection to the database must be closed: ``release`` (the window
    disposing its engine) is called once the copy has passed, before anything
    is replaced."""
    url = make_url(url) if isinstance(url, str) else url
    file = Path(file)
    if sessions is not None:
        with sessions() as session:
            users.require(session, "configure")
    problems = verify_file(file, url)
    if problems:
        raise UserError(f"备份「{file}」未通过校验，没有恢复，当前数据库没有任何改动：{problems[0]}")
    _refuse_newer(file, url)
    if release is not None:
        release()
    current = sqlite_file(url)
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    if current is not None:
        aside = None
        if current.exists() and current.stat().st_size:
            aside = current.with_name(f"{current.stem}-恢复前-{stamp}{current.suffix or '.db'}")
            copy_sqlite(current, aside)
            if _verify_sqlite_integrity(aside):
                raise UserError(f"当前数据库的留存副本「{aside}」校验不通过，没有恢复，当前数据库没有改动")
        with contextlib.closing(sqlite3.connect(file.resolve().as_uri() + "?mode=ro", uri=True)) as src, \
                contextlib.closing(sqlite3.connect(current, timeout=30)) as dst:
            src.backup(dst)
        log.info("restored %s from %s; the previous database is at %s", current, file, aside)
        _restart_anchor(url)
        return Restored(file, aside)
    aside = Path(file).parent / f"{PREFIX}恢复前-{stamp}.dump"
    dump_postgresql(url, aside)
    address, env = _libpq(url)
    _run_tool([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
               "--single-transaction", "--exit-on-error", f"--dbname={address}", str(file)], env, "恢复数据库（pg_restore）")
    log.info("restored %s from %s; the previous database is at %s", url.render_as_string(hide_password=True), file, aside)
    _restart_anchor(url)
    return Restored(file, aside)


def _restart_anchor(url: URL) -> None:
    from . import anchors

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            anchors.restart(connection)
    finally:
        engine.dispose()


def _verify_sqlite_integrity(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as connection:
        results = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    return [] if results == ["ok"] else results


def _refuse_newer(file: Path, url: URL) -> None:
    """A copy made by a newer version of the program cannot be opened by this one."""
    if sqlite_file(url) is None:
        return
    from alembic.script import ScriptDirectory

    from app.migrations import alembic_config

    with contextlib.closing(sqlite3.connect(file.resolve().as_uri() + "?mode=ro", uri=True)) as connection:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config(None)).walk_revisions()}
    if revision not in known:
        raise UserError(f"备份「{file}」是更新版本的程序（结构版本 {revision}）做的，本程序不能打开它；"
                        "请先安装最新版本的程序。当前数据库没有任何改动")


# ---------------------------------------------------------------- alert


def alerts_due(session: Session, today: dt.date) -> list[alerts.Alert]:
    """The home page's warning when the last good backup is too old (or none yet)."""
    days = int(settings.get(session, "backup_alert_days"))
    good = last_good(session)
    if good is not None and (today - good.date()).days <= days:
        return []
    if good is None:
        title = "还没有经过校验的数据库备份：请在“设置 → 备份与恢复”中立即备份，或检查自动备份"
    else:
        title = f"最近一次经过校验的备份是 {good:%Y-%m-%d %H:%M}，已超过 {days} 天：请检查备份文件夹和自动备份"
    return [alerts.Alert(kind="backup_stale", title=title, severity=alerts.OVERDUE, role="admin",
                         due=good.date() + dt.timedelta(days=days) if good else None)]
