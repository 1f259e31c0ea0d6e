"""What an installed (or frozen) application loads at run time is in the wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def declared_packages() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])


def test_every_package_is_listed():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "app").rglob("__init__.py")}
    found |= {"app." + ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "resources").rglob("__init__.py")}
    assert found == declared_packages()


def test_wheel_carries_migrations_and_resources(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=300,
    )
    (wheel,) = tmp_path.glob("foodarchive-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "app/migrations/env.py" in names and "app/migrations/script.py.mako" in names
    assert any(n.startswith("app/migrations/versions/0001_") for n in names)
    assert "app/resources/translations/zh_CN/core.json" in names
