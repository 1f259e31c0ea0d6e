"""Render the sample pages of docs/printing/ from the demo factory: pages of
its newest product, commodity, warning and monthly safety volume at 60 dpi
(pdftoppm -r 60), as an inspector reads them on A4, and two pages printed
with the setting 签名方式 = 纸质签名 (lines for ink).

    foodarchive --db demo.db init && foodarchive --db demo.db demo
    python docs/make_printing_samples.py demo.db [OUT_FOLDER] [--all]

OUT_FOLDER defaults to docs/printing; ``--all`` writes every page of the
four volumes (``<kind>-<page>.png``) instead of the chosen ones."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from app.models import Archive
from app.reports.volume import print_volume
from app.services import acting, settings

HERE = Path(__file__).parent
KINDS = ("product", "commodity", "warning", "safety")
# Per volume: (file name, the page that shows it). "cover", "catalogue" and
# "remarks" are the first, second and last page; anything else is the first
# page whose text holds it.
CHOSEN = {
    "product": [("volume-1-cover", "cover"), ("volume-2-catalogue", "catalogue"),
                ("volume-3-batch-record", "批生产记录"), ("volume-4-material-issue", "原辅料发放报表"),
                ("volume-5-receipt", "原辅料进货查验记录"), ("volume-6-feeding-landscape", "投料记录"),
                ("volume-7-ccp", "关键控制点监控记录"), ("volume-8-inspection-report", "成品检验报告"),
                ("volume-9-remarks", "remarks")],
    "commodity": [("commodity-sales-landscape", "出厂销售记录")],
    "warning": [("warning-recall", "召回记录"), ("warning-recall-progress", "召回进度记录")],
    "safety": [("safety-catalogue", "catalogue"), ("safety-water", "生产用水监测记录"),
               ("safety-environment", "环境与设备监测数据")],
}
PAPER = [("paper-batch-record", "批生产记录"), ("paper-material-issue", "原辅料发放报表"),
         ("paper-remarks", "remarks")]


def page_of(texts: list[str], wanted: str) -> int:
    """1-based page number of ``wanted`` in a volume's page texts."""
    special = {"cover": 1, "catalogue": 2, "remarks": len(texts)}
    if wanted in special:
        return special[wanted]
    return next(n for n, text in enumerate(texts[2:-1], 3) if wanted in text)


def render(pdf: Path, page: int, target: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                    str(target)], check=True)
    print(f"{target}.png")


def main(db: str, out: str | None = None, every: bool = False) -> int:
    folder = Path(out) if out else HERE / "printing"
    folder.mkdir(parents=True, exist_ok=True)
    sessions = acting.Sessions(make_sessionmaker(make_engine(f"sqlite:///{db}")), acting.system("samples"))
    with tempfile.TemporaryDirectory() as scratch, sessions() as session:  # never committed
        scratch = Path(scratch)
        for kind in KINDS:
            archive = session.scalar(select(Archive).where(Archive.kind == kind).order_by(Archive.id.desc()).limit(1))
            pdf = scratch / f"{kind}.pdf"
            print_volume(session, archive.id, pdf)
            print(archive.archive_no, archive.title)
            if every:
                subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / kind)], check=True)
                continue
            texts = [page.extract_text() for page in PdfReader(pdf).pages]
            for name, wanted in CHOSEN[kind]:
                render(pdf, page_of(texts, wanted), folder / name)
            if kind == "product":
                settings.put(session, "signature_mode", "纸质签名")  # for these pages only: rolled back
                paper = scratch / "paper.pdf"
                print_volume(session, archive.id, paper)
                settings.put(session, "signature_mode", "电子签名")
                texts = [page.extract_text() for page in PdfReader(paper).pages]
                for name, wanted in PAPER:
                    render(paper, page_of(texts, wanted), folder / name)
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sys.exit(main(args[0], args[1] if len(args) > 1 else None, "--all" in sys.argv))
