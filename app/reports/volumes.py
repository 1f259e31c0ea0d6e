"""Many volumes at once: every archive of a period, one PDF each
(``foodarchive print-volumes`` and the print dialog's background job)."""

from __future__ import annotations

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
    is a sessionmaker (each volume reads in its own short session)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with sessions() as session:
        wanted = archives_between(session, first, last)
        fonts.from_settings(session)
    if not wanted:
        raise UserError(tr("No archive belongs to the period {first} to {last}.", first=first, last=last))
    written = []
    for done, (archive_id, archive_no) in enumerate(wanted):
        if report:
            report(done, len(wanted), archive_no)
        target = folder / file_name(archive_no)
        partial = target.with_suffix(".part")
        try:
            with sessions() as session:
                print_volume(session, archive_id, partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)  # never a half-written PDF under the real name
        written.append(target)
    if report:
        report(len(wanted), len(wanted), "")
    return written
