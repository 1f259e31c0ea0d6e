"""The hidden ``gui --smoke`` the frozen build's check runs: every page is
built, the main window paints, the program exits 0 without asking anything."""

from __future__ import annotations

import os
import subprocess
import sys


def test_gui_smoke_builds_every_page_and_exits(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "app", "--db", str(tmp_path / "fresh.db"), "gui", "--smoke"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "smoke: main window with" in result.stdout and "painted" in result.stdout
    assert (tmp_path / "fresh.db").exists()
