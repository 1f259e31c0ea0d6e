"""Render the sample pages of docs/printing/ from the demo factory: one
product, commodity, warning and monthly safety volume, every page at 60 dpi
(pdftoppm -r 60), so the pages can be looked at as an inspector reads them.

    foodarchive --db demo.db init && foodarchive --db demo.db demo
    python docs/make_printing_samples.py demo.db OUT_FOLDER [--paper]

``--paper`` prints with the setting 签名方式 = 纸质签名 (lines for ink)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from app.models import Archive
from app.reports.volume import print_volume
from app.services import acting, settings

KINDS = ("product", "commodity", "warning", "safety")


def main(db: str, out: str, paper: bool = False) -> int:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    sessions = acting.Sessions(make_sessionmaker(make_engine(f"sqlite:///{db}")), acting.system("samples"))
    with sessions() as session:  # never committed: the setting is for these samples only
        if paper:
            settings.put(session, "signature_mode", "纸质签名")
        for kind in KINDS:
            # The most recent product volume with a warning volume beside it shows the most.
            archive = session.scalar(select(Archive).where(Archive.kind == kind).order_by(Archive.id.desc()).limit(1))
            pdf = folder / f"{kind}.pdf"
            print_volume(session, archive.id, pdf)
            subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / kind)], check=True)
            print(pdf, archive.archive_no, archive.title)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], "--paper" in sys.argv[3:]))
