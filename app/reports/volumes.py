"""Many volumes at once: every archive of a period, one PDF each
(``foodarchive print-volumes`` and the print dialog's background job)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from app.errors import UserError
from app.i18n import tr
from app.services import archives

from . import fonts
from .volume import print_volume

Report = Callable[[int, int, str], None]  # done, total, text; may raise to cancel


def archives_between(session, first: dt.date, last: dt.date) -> list[tuple[int, str]]:
    """(id, 档号) of the archives of the period (``services.archives.between``)."""
    if last < first:
        raise UserError(tr("The end date {last} is before the start date {first}.", first=first, last=last))
    return archives.between(session, first, last)


def file_name(archive_no: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", archive_no) + ".pdf"


def print_volumes(sessions, first: dt.date, last: dt.date, folder: str | Path,
                  report: Report | None = None) -> list[Path]:
    """Write one PDF per archive of the period into ``folder``; ``sessions``
    is a sessionmaker (each volume reads in its own short session).

    Nothing is made before the period is known to hold archives and the font
    is found; a folder this call made is removed again if the first volume
    fails (volumes already written stay: each one is complete)."""
    from app.files import written_atomically
    from app.problems import file_problem

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(tr("{folder} is a file, not a folder: give the folder the volumes go into.", folder=str(folder)))
    with sessions() as session:
        wanted = archives_between(session, first, last)
        fonts.from_settings(session)
    if not wanted:
        raise UserError(tr("No archive belongs to the period {first} to {last}.", first=first, last=last))
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(file_problem(exc, folder, tr("Cannot make the folder"))) from exc
    written: list[Path] = []
    try:
        for done, (archive_id, archive_no) in enumerate(wanted):
            if report:
                report(done, len(wanted), archive_no)
            target = folder / file_name(archive_no)
            with written_atomically(target) as partial, sessions() as session:
                print_volume(session, archive_id, str(partial))
            written.append(target)
    except BaseException:
        if made and not written:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    if report:
        report(len(wanted), len(wanted), "")
    return written
