"""Files the program writes for the user (PDF volumes and labels, Excel
ledgers, the JSON archive): complete or not at all, named after the user's
own path in every message, with the permissions any other file the user
makes gets (0666 less the umask, like the PDFs reportlab writes).

The work goes into a temporary file next to the target, which replaces the
target only when complete; on any failure the temporary file is removed,
and an operating-system error is told about the user's path, not the
temporary one (``.foodarchive-xxxx.xlsx``, ``x.pdf.part``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from app.errors import UserError


def output_file(path: str | os.PathLike, suffix: str | None = None, kind: str = "") -> Path:
    """Check a file name the user gave before any slow work starts: the right
    ending, not a folder, in a folder that exists."""
    target = Path(path)
    if target.is_dir():
        example = target / f"示例{suffix or ''}"
        raise UserError(f"「{os.fspath(path)}」是一个文件夹：请给出文件名，例如 {example}")
    if suffix and target.suffix.lower() != suffix:
        raise UserError(f"输出文件「{os.fspath(path)}」的名称应以 {suffix} 结尾"
                        f"（写出的是 {kind or suffix} 文件，名称不符会让别的程序打不开它）。")
    if not target.parent.is_dir():
        raise UserError(f"文件夹「{target.parent}」不存在：请先建立它，或换一个保存位置。")
    return target


def _reserve(target: Path) -> Path:
    """An empty temporary file beside ``target``, created with the umask's permissions."""
    while True:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return temporary
        except FileExistsError:
            continue


@contextlib.contextmanager
def written_atomically(path: str | os.PathLike, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; it becomes ``path`` when the block ends
    without an error. ``durable`` also flushes the file and the rename to disk."""
    from app.problems import file_problem

    target = Path(path)
    temporary: Path | None = None
    try:
        temporary = _reserve(target)
        yield temporary
        if durable:
            _sync(temporary)
        os.replace(temporary, target)
        if durable:
            _sync_folder(target.parent)
    except OSError as exc:
        raise UserError(file_problem(exc, path, "无法写入")) from exc
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


def _sync(path: Path, flags: int = os.O_RDWR) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; Windows has no such call)."""
    if os.name == "posix":
        _sync(folder, os.O_RDONLY)
