"""The arrows point one way (architecture.md): the core never imports Qt or
the UI, models never import services, ledgers or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
CORE = ("models", "services", "ledgers", "reports", "platform", "migrations")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(("." * node.level) + node.module)
    return names


def modules(package: str):
    return sorted((APP / package).rglob("*.py"))


def test_core_is_qt_free():
    offenders = [
        str(path.relative_to(APP))
        for package in CORE
        for path in modules(package)
        if any(name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6") for name in imports_of(path))
    ]
    assert offenders == []


def test_core_does_not_import_the_ui():
    offenders = [
        (str(path.relative_to(APP)), name)
        for package in CORE
        for path in modules(package)
        for name in imports_of(path)
        if name.split(".")[:2] == ["app", "ui"] or (name.startswith(".") and name.lstrip(".").split(".")[0] == "ui")
    ]
    assert offenders == []


def test_models_depend_on_nothing_above_them():
    above = ("app.services", "app.ledgers", "app.cli", "app.ui", "app.reports", "app.platform", "..services", "..ledgers")
    offenders = [
        (str(path.relative_to(APP)), name)
        for path in modules("models")
        for name in imports_of(path)
        if name.startswith(above)
    ]
    assert offenders == []


def test_the_checker_sees_imports(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("from PySide6.QtWidgets import QWidget\nimport app.services\n", encoding="utf-8")
    assert imports_of(sample) == {"PySide6.QtWidgets", "app.services"}
