"""The README's two commands are what CI runs, and its "needs" are what CI
installs: a newcomer pastes what is tested every day (issue 14)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    following = README.find("\n## ", start + 1)
    return README[start:following if following != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    return [block.strip() for block in re.findall(rf"```{language}\n(.*?)```", text, re.S)]


def test_the_test_command_is_what_ci_runs():
    start, test = blocks(section("Two commands"), "bash")[:2]
    ci_lines = [line for line in CI.splitlines() if line and not line.startswith(("#", " "))]
    assert ci_lines[-1] == f"{test} < /dev/null"  # the last command of .ci/run, verbatim
    assert "pytest" in test and ".[test]" in test
    # the same environment for both: made without root, used by path, not by activation
    venv = "python3 -m venv .venv && .venv/bin/python -m pip install"
    assert start.startswith(venv) and test.startswith(venv)
    assert start.endswith("&& .venv/bin/foodarchive")


def test_the_powershell_lines_do_the_same():
    start, test = blocks(section("Two commands"), "bash")[:2]
    windows = blocks(section("Two commands"), "powershell")[0].splitlines()
    assert len(windows) == 2
    for bash, powershell in zip((start, test), windows):
        as_windows = (bash.replace("python3 -m venv", "py -m venv").replace(" && ", "; ")
                      .replace(".venv/bin/", ".venv\\Scripts\\"))
        assert powershell == as_windows


def test_ci_installs_what_the_readme_says_a_machine_needs():
    apt = next(line for line in blocks(section("Two commands"), "bash") if line.startswith("sudo apt install"))
    needed = set(apt.split()[3:])
    listed = re.search(r'PACKAGES="(.*?)"', CI, re.S).group(1).replace("\\\n", " ").split()
    assert needed and needed <= set(listed), needed - set(listed)
    assert {"python3-venv", "fonts-wqy-microhei"} <= needed
    from app.problems import QT_PACKAGES  # what the window's messages tell a user to install

    assert set(QT_PACKAGES) <= needed


def test_the_python_version_is_the_projects():
    required = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert required == ">=3.11"
    assert "**Python 3.11 or newer**" in section("Two commands")


def test_the_try_it_commands_exist():
    from app.cli import build_parser

    commands = set(build_parser()._subparsers._group_actions[0].choices)
    try_it = README[README.index("Try it"):README.index("## How it is built")]
    for line in blocks(try_it, "bash")[0].splitlines() + re.findall(r"^ {4}(foodarchive .*)$", try_it, re.M):
        words = line.split()
        assert words[:3] == ["foodarchive", "--db", "demo.db"] and words[3] in commands, line
