"""How long loading the demo factory takes (issue 2: the data every later
screenshot and report shows). Prints the figure; not collected by pytest."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.console import ProgressLine
from app.db import open_database
from app.services import acting, demo

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        engine, Session = open_database(f"sqlite:///{Path(folder) / 'demo.db'}", actor=acting.system(demo.ACTOR))
        began, cpu = time.perf_counter(), time.process_time()
        with Session.begin() as session:
            summary = demo.load(session, ProgressLine("载入演示工厂"))
        # CPU time too: on a machine shared with other work the wall clock says more about the others.
        print(f"demo load: {time.perf_counter() - began:.1f} s (CPU {time.process_time() - cpu:.1f} s)")
        print("，".join(f"{k} {v}" for k, v in summary.items()))
        engine.dispose()
