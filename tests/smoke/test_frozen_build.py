"""The frozen program works: installer/smoke_linux.sh builds the Linux bundle
with installer/foodarchive.spec and runs its executables against a fresh
database (migrate, demo, one printed volume, the window offscreen).

It runs in CI with the rest of the suite (≈ 3 min: the build is the slow
part); deselect it locally with ``-m "not smoke"``.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STEPS = ("version", "init", "demo", "print-volume", "gui")


def build_environment() -> dict[str, str]:
    """The real HOME for the build, so pip's cache serves the build venv;
    the script gives the frozen program a scratch HOME of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = pwd.getpwuid(os.getuid()).pw_dir
    env["PYTHON"] = sys.executable
    return env


@pytest.mark.smoke
@pytest.mark.slow
def test_frozen_program_runs_every_step():
    result = subprocess.run(
        ["bash", str(ROOT / "installer" / "smoke_linux.sh")],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1800, env=build_environment(),
    )
    report = "\n".join(line for line in result.stdout.splitlines() if line.startswith("smoke:"))
    print(report)  # build time, bundle size, step times
    assert result.returncode == 0, f"{report}\n{result.stderr[-3000:]}"
    steps = os.environ.get("SMOKE_STEPS", " ".join(STEPS)).split()
    for step in steps:
        assert f"smoke: step {step} ok" in report
    assert f"smoke: passed: {' '.join(steps)}" in report
