"""How long loading the demo factory takes (issue 2: the data every later
screenshot and report shows). Prints the figure; not collected by pytest."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.db import open_database
from app.services import demo

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        engine, Session = open_database(f"sqlite:///{Path(folder) / 'demo.db'}")
        began = time.perf_counter()
        with Session.begin() as session:
            summary = demo.load(session)
        print(f"demo load: {time.perf_counter() - began:.1f} s")
        print("，".join(f"{k} {v}" for k, v in summary.items()))
        engine.dispose()
