"""What went wrong outside the program, in words the user can act on.

Errors are classified before they are shown (architecture.md, habit 4): a
``UserError`` already speaks to the user; an environment problem — a file
that cannot be written, a database that is corrupt, read-only, locked or
unreachable — is turned into a Chinese sentence here, one that names the
user's own path and says what to do. Anything else is a bug: ``explain``
returns None and the caller logs the traceback. No message built here ever
carries SQL text or the row's data (a read-only database used to print the
whole INSERT with its values).

Qt-free: the command line (app/cli.py) and the window (app/ui/dialogs.py,
app/ui/app.py) say the same thing.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

from app.errors import UserError

log = logging.getLogger("problems")

# The database this process works on, for messages about errors that carry no
# URL of their own (a write refused in the middle of a command or a window
# task). ``app.db.open_database`` sets it; an explicit argument wins.
_current_database: str | None = None


class DatabaseProblem(UserError):
    """The database cannot be opened or used; the message says why and what to do."""


def remember_database(url: str) -> None:
    global _current_database
    _current_database = url


# --------------------------------------------------------------- files, OS

_OS_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.ENOSPC: "磁盘已满",
    errno.EROFS: "所在的磁盘或文件夹是只读的",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.EEXIST: "已经存在",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EBUSY: "正被其他程序占用",
    errno.EIO: "磁盘读写出错",
    errno.EPIPE: "输出的接收方已经关闭",
    errno.EMFILE: "同时打开的文件太多",
    errno.EINVAL: "名称无效（可能含有不允许的字符）",
    errno.EXDEV: "不能跨磁盘移动",
    errno.EADDRINUSE: "端口已被其他程序占用",
    errno.EADDRNOTAVAIL: "这台电脑上没有这个地址",
    errno.ECONNREFUSED: "对方拒绝连接",
    errno.ECONNRESET: "连接被对方中断",
    errno.ETIMEDOUT: "连接超时",
    errno.EHOSTUNREACH: "网络不通",
    errno.ENETUNREACH: "网络不通",
}
_EDQUOT = getattr(errno, "EDQUOT", None)
if _EDQUOT is not None:
    _OS_REASONS[_EDQUOT] = "磁盘配额已用完"
# Windows reports some problems only through winerror.
_WINDOWS_REASONS = {
    5: "没有权限（或文件是只读的）",
    32: "文件正被另一个程序打开（例如 Excel 或 PDF 阅读器），请先关闭它",
    33: "文件的一部分被另一个程序锁定",
    112: "磁盘已满",
    123: "文件名、文件夹名或卷标语法不正确",
    206: "文件名或路径太长",
    10048: "端口已被其他程序占用",
    10049: "这台电脑上没有这个地址",
    10061: "对方拒绝连接",
}
_WHAT_TO_DO = {
    errno.EACCES: "请换一个你有写入权限的位置，或请电脑管理员给予权限。",
    errno.EPERM: "请换一个你有写入权限的位置，或请电脑管理员给予权限。",
    errno.EROFS: "请换一个可以写入的位置。",
    errno.ENOSPC: "请清理磁盘后再试。",
}


def os_reason(exc: OSError) -> str:
    """The operating system's reason in Chinese (its own text is English)."""
    reason = _WINDOWS_REASONS.get(getattr(exc, "winerror", None) or 0) or _OS_REASONS.get(exc.errno or 0)
    if reason:
        return reason
    return f"系统错误 {exc.errno}" if exc.errno else "操作系统报告了一个错误"


def file_problem(exc: OSError, path: str | os.PathLike | None = None, doing: str = "") -> str:
    """One sentence about ``exc``, naming ``path`` (the user's own file, not a
    temporary one the program wrote first) when given."""
    named = path if path is not None else (exc.filename or "")
    where = f"「{os.fspath(named)}」" if named else ""
    advice = _WHAT_TO_DO.get(exc.errno or 0, "")
    head = f"{doing}{where}" if doing else where
    text = f"{head}：{os_reason(exc)}" if head else os_reason(exc)
    return f"{text}。{advice}" if advice else f"{text}。"


# ------------------------------------------------------------------ the window

# What Qt's window needs on Debian 12 / Ubuntu 24.04 beyond a minimal system
# (README.md, "Needs", lists the same; tests/unit/test_readme.py compares).
QT_PACKAGES = ("libegl1", "libgl1", "libglib2.0-0", "libfontconfig1", "libdbus-1-3", "libxkbcommon-x11-0",
               "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
               "libxcb-shape0", "libxcb-randr0")
QT_APT = "sudo apt install " + " ".join(QT_PACKAGES)


def qt_missing(exc: ImportError) -> str:
    """Qt could not be loaded: on Linux nearly always a system library that
    a minimal installation lacks (``libglib-2.0.so.0: cannot open …``)."""
    text = str(exc)
    library = text.split(":", 1)[0] if ".so" in text.split(":", 1)[0] else ""
    what = f"缺少 Qt 需要的系统库 {library}" if library else "无法载入 Qt（PySide6）"
    return (f"窗口无法启动：{what}。Debian/Ubuntu 上请安装：{QT_APT}（见 docs/troubleshooting.md）；"
            "命令行仍可使用（foodarchive --help）。")


# ---------------------------------------------------------------- databases


def database_place(url: str | None) -> str:
    """「/path/foodarchive.db」 or the server and database name, never a password."""
    if not url:
        return "数据库"
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 — an unreadable URL is still worth naming
        return f"数据库「{url}」"
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ":memory:"
        if name.startswith("file:"):  # the URI form (file:///path?mode=ro): show the path
            from urllib.parse import unquote, urlparse

            name = unquote(urlparse(name).path) or name
        return f"数据库文件「{name}」"
    server = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"数据库服务器 {server} 上的数据库「{parsed.database or ''}」"


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL; None for other databases, memory and URI forms."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001
        return None
    name = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def missing_database(path: Path, shown: str | None = None) -> str:
    shown = shown or str(path)
    return (f"数据库文件「{path}」不存在。路径是否写错了，或文件被移走了？"
            f"要在这里新建一个数据库，请运行：foodarchive --db \"{shown}\" init")


def _sqlite_problem(error, place: str, url: str | None) -> str:
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "not a database" in text or "malformed" in text:
        return (f"{place}已损坏，或者不是本软件的数据库。请不要再向它写入：关闭程序，用最近的备份替换它"
                "（程序升级前会在同一文件夹保存名为「…-backup-rev…」的副本），或把它交给技术支持检查。")
    if name == "SQLITE_READONLY" or "readonly" in text or "read-only" in text:
        return (f"{place}是只读的，不能保存修改。请让电脑管理员给你这个文件和它所在文件夹的写入权限；"
                "或者把它复制到你有写入权限的文件夹再打开。")
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in text:
        from app.db import SQLITE_WRITE_WAIT_SECONDS

        return (f"{place}正被另一个程序使用，等了 {SQLITE_WRITE_WAIT_SECONDS} 秒仍未释放。请关闭其他正在使用它的程序"
                "（另一个本软件的窗口、计划任务或数据库工具）后再试。")
    if name == "SQLITE_FULL" or "disk is full" in text:
        return f"磁盘已满，{place}不能保存。请清理磁盘后再试。"
    if name == "SQLITE_CANTOPEN" or "unable to open" in text:
        path = sqlite_path(url) if url else None
        if path is not None and not path.parent.is_dir():
            return f"无法打开{place}：文件夹「{path.parent}」不存在。请检查路径。"
        if path is not None and path.exists() and not os.access(path.parent, os.W_OK):
            return (f"无法打开{place}：没有它所在文件夹「{path.parent}」的写入权限（数据库需要在旁边写临时文件）。"
                    "请让电脑管理员给予写入权限，或把文件复制到你有写入权限的文件夹。")
        return f"无法打开{place}。请检查路径、权限，以及网络驱动器是否连接。"
    if name.startswith("SQLITE_IOERR") or "i/o error" in text:
        return (f"读写{place}时磁盘出错。请检查磁盘或网络驱动器是否正常；"
                "如果问题重复出现，请从备份恢复数据库。")
    return f"{place}出错（{name or 'SQLite'}），请把日志发给技术支持。"


_PG_CONNECT = (
    (("connection refused",), "服务器拒绝连接（数据库服务没有运行，或地址、端口不对）。"
     "请检查服务器是否已开机、PostgreSQL 服务是否已启动，以及数据库地址中的服务器和端口。"),
    (("timeout", "timed out"), "连接超时（服务器没有回应）。请检查网络、防火墙和服务器是否已开机。"),
    (("failed to resolve host", "could not translate host name", "name or service not known"),
     "找不到这台服务器。请检查数据库地址中的服务器名称和网络连接。"),
    (("password authentication failed",), "用户名或密码不对。请检查数据库地址中的用户名和密码。"),
    (("no password supplied",), "服务器要求密码。请在数据库地址中写上密码，或请数据库管理员设置。"),
    (('role "',), "服务器上没有这个数据库用户。请检查数据库地址中的用户名，或请数据库管理员创建它。"),
    (("does not exist",), "服务器上没有这个数据库。请检查数据库地址中的数据库名称，或请数据库管理员创建它（createdb）。"),
    (("pg_hba.conf",), "服务器不允许从这台电脑以这个用户登录。请数据库管理员修改 pg_hba.conf。"),
    (("the database system is starting up", "the database system is shutting down"),
     "数据库服务器正在启动或关闭。请稍后再试。"),
    (("server closed the connection", "connection is closed", "terminating connection", "consuming input failed"),
     "与服务器的连接中断了。请检查网络和服务器后重试；没有完成的操作没有保存。"),
)
_PG_STATES = {
    "42501": "这个数据库用户没有所需的权限（例如写入）。请数据库管理员授予权限。",
    "25006": "数据库服务器处于只读状态（例如备用服务器）。请连接主服务器。",
    "53100": "数据库服务器的磁盘已满。请服务器管理员清理磁盘。",
    "53300": "数据库服务器的连接数已满。请稍后再试，或请管理员调整 max_connections。",
    "57P01": "数据库服务器正在关闭。请稍后再试。",
    "57P03": "数据库服务器正在启动或恢复。请稍后再试。",
    "3D000": "服务器上没有这个数据库。请检查数据库地址中的数据库名称，或请数据库管理员创建它（createdb）。",
    "28P01": "用户名或密码不对。请检查数据库地址中的用户名和密码。",
    "28000": "服务器不允许这个用户登录。请数据库管理员检查 pg_hba.conf 和用户权限。",
    # Another PC's save held what this one needed for too long, or the two
    # crossed: nothing of this one was saved, and trying again works.
    "55P03": "另一台电脑上的保存占用数据库太久，本次操作等待超时，没有保存。请稍后重试。",
    "40P01": "与另一台电脑上同时进行的保存冲突，本次操作没有保存。请重试。",
    "40001": "与另一台电脑上同时进行的保存冲突，本次操作没有保存。请重试。",
}


def _postgres_problem(error, place: str) -> str | None:
    state = getattr(error, "sqlstate", None)
    if state in _PG_STATES:
        return f"无法使用{place}：{_PG_STATES[state]}"
    if state and state.startswith("08"):
        return f"无法使用{place}：与服务器的连接中断了。请检查网络和服务器后重试；没有完成的操作没有保存。"
    if state is not None:
        return None  # a statement the server refused: a bug, not the environment
    text = str(error).lower()
    for needles, advice in _PG_CONNECT:
        if any(needle in text for needle in needles):
            return f"无法使用{place}：{advice}"
    return f"无法连接{place}。请检查服务器、网络和数据库地址。"


def database_problem(exc: BaseException, url: str | None = None) -> str | None:
    """A sentence for a database error caused by the environment; None for a bug."""
    from sqlalchemy import exc as sa_exc

    url = url or _current_database
    place = database_place(url)
    if isinstance(exc, (sa_exc.ArgumentError, sa_exc.NoSuchModuleError)) and url and "://" in url:
        return (f"无法识别数据库地址「{url}」：应为数据库文件的路径，"
                "或像 postgresql+psycopg://用户@服务器/数据库 这样的地址。")
    error = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    module = type(error).__module__ or ""
    if module.startswith("sqlite3"):
        if isinstance(error, Exception) and type(error).__name__ in ("IntegrityError", "ProgrammingError", "InterfaceError"):
            return None
        return _sqlite_problem(error, place, url)
    if module.startswith("psycopg"):
        return _postgres_problem(error, place)
    return None


# ------------------------------------------------------------------ overall


def explain(exc: BaseException, database: str | None = None) -> str | None:
    """The user's sentence for ``exc``, or None when it is a bug."""
    if isinstance(exc, UserError):
        return exc.message
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.SQLAlchemyError) or type(exc).__module__.startswith(("sqlite3", "psycopg")):
        return database_problem(exc, database)
    if isinstance(exc, OSError):
        return file_problem(exc)
    if isinstance(exc, MemoryError):
        return "内存不足：请关闭其他程序后再试。"
    return None
