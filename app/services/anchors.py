"""The head of the audit chain, anchored outside the database.

The chain shows an entry changed or removed in the middle, but not the
newest entries removed together with their records, nor a chain rewritten
from the first entry on by someone who holds the file. So the head — entry
number, hash, time, and how many entries lead to it — is kept in two places
the database cannot change:

- **on this PC**, in ``chain-anchors.json`` in the user data folder (one
  anchor per database: entry, hash, time, count), checked on every start and
  by ``verify`` and moved forward after every commit of the application. A file rather than the
  system keyring: the anchor is no secret, a keyring is not there on every
  machine (a server without a desktop session) and a start must not depend on
  it; the user data folder is per Windows user and outside a shared database
  folder. It does not stop someone who edits both the database and this file;
- **on paper**, printed on every sealed volume's remarks sheet and on the
  monthly safety volume: ``verify --anchor HASH`` (or the field of the verify
  dialog) proves the chain up to that entry is the one that was printed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from app.errors import UserError

from .audit import AUDIT_TABLE, Finding

log = logging.getLogger("audit")
FILE_NAME = "chain-anchors.json"
MIN_DIGITS = 16  # 64 bits: no one finds another chain with the same prefix


@dataclass(frozen=True)
class Head:
    entry: int  # the audit entry's id
    hash: str
    at: str  # ISO time of the entry
    count: int  # entries up to and including it

    @property
    def printed(self) -> str:
        """The hash in groups of eight, as printed and as it is easy to type back."""
        return " ".join(self.hash[i:i + 8] for i in range(0, len(self.hash), 8))


def _at(connection: Connection, entry: int) -> str:
    # Read as text: a tampered time must not stop the anchor from being shown.
    from sqlalchemy import String, type_coerce

    value = connection.execute(select(type_coerce(AUDIT_TABLE.c.at, String)).where(AUDIT_TABLE.c.id == entry)).scalar()
    return str(value or "")[:19].replace("T", " ")


def head(connection: Connection, up_to: int | None = None, known: Head | None = None) -> Head | None:
    """The newest entry (or the newest with id <= ``up_to``), None for an empty log.
    With ``known`` (an earlier head that still holds) only the entries after it
    are counted: after every commit, not the whole log again."""
    query = select(AUDIT_TABLE.c.id, AUDIT_TABLE.c.hash).order_by(AUDIT_TABLE.c.id.desc()).limit(1)
    if up_to is not None:
        query = query.where(AUDIT_TABLE.c.id <= up_to)
    row = connection.execute(query).first()
    if row is None:
        return None
    since = known.entry if known is not None and known.entry <= row.id else 0
    count = connection.execute(select(func.count()).where(AUDIT_TABLE.c.id > since, AUDIT_TABLE.c.id <= row.id)).scalar()
    return Head(row.id, row.hash, _at(connection, row.id), count + (known.count if since else 0))


# ------------------------------------------------------------ on this PC

def _file() -> Path:
    from app.paths import data_dir

    return data_dir() / FILE_NAME


def database_key(connection: Connection) -> str:
    url = connection.engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return "sqlite:" + str(Path(url.database).resolve())
    return url.set(password=None).render_as_string(hide_password=False)


def _load() -> dict:
    try:
        return json.loads(_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        log.warning("cannot read %s: the local anchor is started again", _file())
        return {}


def stored(connection: Connection) -> Head | None:
    data = _load().get(database_key(connection))
    try:
        return Head(**data) if data else None
    except TypeError:
        return None


def check_local(connection: Connection) -> list[Finding]:
    """The newest head this PC saw must still be in the chain, with the same hash
    and the same number of entries before it."""
    anchored = stored(connection)
    return [] if anchored is None else _compare(connection, anchored, "本机上次记下的链头")


def _compare(connection: Connection, anchored: Head, source: str) -> list[Finding]:
    where = f"{source}（第 {anchored.entry} 条，{anchored.at}）"
    found = connection.execute(select(AUDIT_TABLE.c.hash).where(AUDIT_TABLE.c.id == anchored.entry)).scalar()
    newest = connection.execute(select(func.max(AUDIT_TABLE.c.id))).scalar() or 0
    if found is None and newest < anchored.entry:
        return [Finding("audit_log", anchored.entry, f"审计日志末尾的条目被删除了：{where}已不在日志中，"
                                                     f"日志现在只到第 {newest} 条")]
    if found is None:
        return [Finding("audit_log", anchored.entry, f"{where}已不在审计日志中：日志被删改过")]
    if found != anchored.hash:
        return [Finding("audit_log", anchored.entry, f"审计日志第 {anchored.entry} 条与{where}的哈希不同："
                                                     "日志被改写过，或删除后编号被重新使用")]
    # Entries removed before the anchor break the chain's links, which verify
    # recomputes; counting them here would read the whole log at every start.
    return []


def advance(connection: Connection) -> Head | None:
    """Remember the current head on this PC, unless the remembered one no
    longer holds (that evidence is kept until someone looks into it)."""
    if check_local(connection):
        return None
    return _remember(connection, head(connection, known=stored(connection)))


def restart(connection: Connection) -> Head | None:
    """A database this PC starts remembering afresh: one restored on purpose
    (the copy passed verify before it replaced the database), or a new file
    made where an earlier one was deleted. Otherwise the older copy, or the
    new chain, would be reported as tampered with at every start."""
    current = head(connection)
    data = _load()
    data.pop(database_key(connection), None)
    if current is not None:
        data[database_key(connection)] = asdict(current)
    _store(data)
    return current


def _remember(connection: Connection, current: Head | None) -> Head | None:
    if current is None:
        return None
    data = _load()
    data[database_key(connection)] = asdict(current)
    _store(data)
    return current


def _store(data: dict) -> None:
    target = _file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")  # writers never share one
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, target)  # whole or not at all
    except OSError:
        log.warning("cannot write the local anchor %s", target, exc_info=True)


# ------------------------------------------------------------ on paper

def parse(text: str) -> str:
    """The hex digits of an anchor as typed from paper (spaces and dashes allowed)."""
    digits = re.sub(r"[\s\-:]", "", text or "").lower()
    if not re.fullmatch(r"[0-9a-f]{%d,64}" % MIN_DIGITS, digits):
        raise UserError(f"「链头哈希」应为纸质案卷卷内备考表上印的哈希值：至少 {MIN_DIGITS} 位、"
                        "至多 64 位十六进制数字（0–9、a–f，可带空格）")
    return digits


def check_paper(connection: Connection, text: str) -> tuple[list[Finding], Head | None]:
    """The entry whose hash begins with the typed digits, and whether the chain up to it is intact."""
    digits = parse(text)
    matches = connection.execute(select(AUDIT_TABLE.c.id).where(AUDIT_TABLE.c.hash.like(digits + "%"))
                                 .order_by(AUDIT_TABLE.c.id).limit(2)).scalars().all()
    if len(matches) != 1:
        what = "没有" if not matches else "不止一条"
        return [Finding("audit_log", None, f"审计日志中{what}哈希以 {digits[:16]}… 开头的条目：纸质案卷记下这个链头之后，"
                                           "它之前的日志被改写或删除过（或哈希抄错了，请核对）")], None
    anchored = head(connection, up_to=matches[0])
    return [], anchored


def head_as_of(connection: Connection, table_name: str, row_id: int) -> Head | None:
    """The head as it was right after the newest write of one row (a sealed
    volume's archive row: sealing is its last write, so a reprint shows the
    same anchor as the first print)."""
    entry = connection.execute(select(func.max(AUDIT_TABLE.c.id)).where(
        AUDIT_TABLE.c.table_name == table_name, AUDIT_TABLE.c.row_id == row_id)).scalar()
    return head(connection, up_to=entry) if entry is not None else None

