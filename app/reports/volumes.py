"""Many volumes at once: every archive of a period, one PDF each
(``foodarchive print-volumes`` and the print dialog's background job)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import or_, select

from app.errors import UserError
from app.i18n import tr
from app.models import Archive, CommodityBatch, ProductBatch

from . import fonts
from .volume import print_volume

Report = Callable[[int, int, str], None]  # done, total, text; may raise to cancel


def archives_between(session, first: dt.date, last: dt.date) -> list[tuple[int, str]]:
    """(id, 档号) of the archives whose batch was made, or whose month lies,
    between ``first`` and ``last`` (inclusive), in 档号 order."""
    if last < first:
        raise UserError(tr("The end date {last} is before the start date {first}.", first=first, last=last))
    batches = select(ProductBatch.id).where(ProductBatch.production_date.between(first, last))
    lots = select(CommodityBatch.id).where(CommodityBatch.production_date.between(first, last))
    months = [f"{y:04d}-{m:02d}" for y, m in _months(first, last)]
    rows = session.execute(
        select(Archive.id, Archive.archive_no).where(or_(
            Archive.kind.in_(("product", "warning")) & Archive.product_batch_id.in_(batches),
            (Archive.kind == "commodity") & Archive.commodity_batch_id.in_(lots),
            (Archive.kind == "safety") & Archive.period.in_(months),
        )).order_by(Archive.archive_no)
    ).all()
    return [(row.id, row.archive_no) for row in rows]


def _months(first: dt.date, last: dt.date):
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


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
