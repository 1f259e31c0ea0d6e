"""The print commands of ``foodarchive`` (app/cli.py keeps only the parser)."""

from __future__ import annotations

import datetime as dt
import sys

from app.errors import UserError
from app.i18n import tr


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(tr("{option} must be a date like 2026-11-01, not {text}.", option=option, text=text)) from None


def print_volume(sessions, number: str, out: str) -> int:
    from app.files import output_file, written_atomically

    from .volume import print_volume as build
    from .volume_data import find_archive

    output_file(out, ".pdf", "PDF")  # before the volume is built, not after
    with written_atomically(out) as partial, sessions() as session:
        plan = build(session, find_archive(session, number), str(partial))
    print(tr("Written {path}: {items} items, {pages} pages of materials.", path=out, items=plan.material_count,
             pages=plan.pages))
    return 0


def print_volumes(sessions, first: str, last: str, out: str) -> int:
    from app.console import ProgressLine

    from .volumes import print_volumes as build

    first_day, last_day = _date(first, "--from"), _date(last, "--to")
    progress = ProgressLine(tr("Printing volumes"))

    def report(done: int, total: int, text: str) -> None:
        progress(done, total, text)

    try:
        written = build(sessions, first_day, last_day, out, report)
    finally:
        progress.finish()
    print(tr("Written {count} volumes to {folder}.", count=len(written), folder=out))
    return 0


def print_label(sessions, kind: str, number: str, out: str, spine: float = 30) -> int:
    from app.files import output_file, written_atomically

    from . import labels

    output_file(out, ".pdf", "PDF")
    with written_atomically(out) as partial, sessions() as session:
        if kind == "batch":
            uri = labels.batch_label(session, number, str(partial))
        else:
            labels.cover_label(session, number, str(partial), spine)
    if kind == "batch":
        print(tr("Written {path} (GS1 Digital Link: {uri}).", path=out, uri=uri))
    else:
        print(tr("Written {path}.", path=out))
    return 0


def export_epcis(sessions, first: str, last: str, out: str) -> int:
    """The EPCIS 2.0 document of a period (docs/epcis.md)."""
    from . import epcis

    with sessions() as session:
        summary = epcis.export_period(session, _date(first, "--from"), _date(last, "--to"), out)
    for warning in summary.warnings:
        print(f"注意：{warning}", file=sys.stderr)
    print(f"已导出 EPCIS 2.0 文档 {out}：{first} 至 {last} 的 {summary.line()}")
    return 0


def evaluation_report(sessions, first: str, last: str, out: str) -> int:
    """G§48: the evaluation report of a period, filed in its safety-management archive."""
    from app.files import output_file, written_atomically

    from .evaluation_report import make_report

    first_day, last_day = _date(first, "--from"), _date(last, "--to")
    output_file(out, ".pdf", "PDF")
    with written_atomically(out) as partial, sessions.begin() as session:
        drawn, _archive, filed = make_report(session, first_day, last_day, partial)
    print(f"已写出评价报告 {out}：{first_day} 至 {last_day}，{drawn} 幅图；{filed}")
    return 0


def export_pages(sessions, out: str) -> int:
    """The static site of batch pages behind the labels' QR codes (docs/batch-pages.md)."""
    from . import batch_pages

    with sessions() as session:
        site = batch_pages.export_pages(session, out)
    for warning in site.warnings:
        print(f"注意：{warning}", file=sys.stderr)
    for skipped in site.skipped:
        print(f"未生成：{skipped}", file=sys.stderr)
    print(f"已生成 {len(site.pages)} 个批次页面和首页 index.html：{out}"
          f"（放在网址 {site.resolver}/ 下，与标签二维码一致）")
    return 0


def recall_drill(sessions, number: str, out: str) -> int:
    """A recall drill (R4.3): drill.pdf and drill.xlsx in ``out``, the drill
    recorded in the internal audit log (docs in README, "Recall drill")."""
    from app.services import recall_drill as drills

    from .recall_drill import write

    with sessions.begin() as session:
        drill = drills.run(session, number)
        written = write(session, drill, out)
    print(f"召回演练 {drill.audit_no}：从「{drill.number}」追溯到客户 {len(drill.customers)} 家、发货 {drill.units_shipped} 件；"
          f"计算用时 {drill.seconds} 秒，生成报告用时 {written.seconds:.2f} 秒")
    print(f"已写出 {written.pdf} 和 {written.xlsx}")
    return 0
