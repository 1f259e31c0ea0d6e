"""One version number, pyproject.toml's, wherever the program says which it is."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import app

ROOT = Path(__file__).resolve().parents[2]


def pyproject_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_package_version_is_pyproject_version():
    assert app.__version__ == pyproject_version()


def test_cli_prints_it():
    result = subprocess.run(
        [sys.executable, "-m", "app", "--version"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )
    assert result.returncode == 0 and result.stdout.strip() == f"foodarchive {pyproject_version()}"


def test_an_uninstalled_source_tree_reads_pyproject(monkeypatch):
    from importlib import metadata

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    monkeypatch.setattr(app, "version", not_installed)
    assert app._version() == pyproject_version()
