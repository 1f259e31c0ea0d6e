"""End to end through the command line, as a scheduled task would run it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from app.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The README's "Try it": ``init``, then ``demo``, as a new user types them."""
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    made = run("--db", str(path), "init")
    assert made.returncode == 0, made.stderr
    result = run("--db", str(path), "demo")
    assert result.returncode == 0, result.stderr
    return path, result


@pytest.fixture(scope="module")
def demo_db(loaded):
    return loaded[0]


def printed_command(output: str, *words: str) -> list[str]:
    """The argument list of the command ``demo`` printed that starts with ``words``."""
    for line in output.splitlines():
        parts = line.split()
        if parts[:1] == ["foodarchive"] and parts[3:3 + len(words)] == list(words):
            return parts[1:]
    raise AssertionError(f"demo printed no command {words}:\n{output}")


def test_demo_shows_progress_and_what_to_try(loaded):
    path, result = loaded
    progress = [line for line in result.stderr.splitlines() if line.startswith("载入演示工厂：")]
    assert progress[0].startswith("载入演示工厂：  0%") and len(progress) >= 10
    assert any("100%" in line for line in progress) and progress[-1].endswith("写入数据库……")
    assert "演示工厂已载入：" in result.stdout and "可以试试" in result.stdout
    for words in (("trace", "forward"), ("trace", "backward"), ("print-label", "batch"), ("print-volume",), ("verify",)):
        assert printed_command(result.stdout, *words)[:2] == ["--db", str(path)]


def test_every_command_demo_prints_works(loaded, tmp_path):
    _path, result = loaded
    forward = run(*printed_command(result.stdout, "trace", "forward"), "--json")
    assert forward.returncode == 0, forward.stderr
    assert json.loads(forward.stdout)["customers"]
    backward = run(*printed_command(result.stdout, "trace", "backward"))
    assert backward.returncode == 0 and "供应商" in backward.stdout, backward.stderr
    for words in (("print-label", "batch"), ("print-volume",)):
        args = printed_command(result.stdout, *words)
        args[args.index("--out") + 1] = str(tmp_path / args[args.index("--out") + 1])
        printed = run(*args)
        assert printed.returncode == 0, printed.stderr
    assert (tmp_path / "label.pdf").stat().st_size and (tmp_path / "volume.pdf").stat().st_size
    assert run(*printed_command(result.stdout, "verify")).returncode == 0


def raw_lot(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT l.lot_no FROM material_lot l JOIN material m ON m.id = l.material_id "
            "JOIN feeding f ON f.material_lot_id = l.id WHERE m.category = 'raw' AND m.name LIKE '%大豆%' "
            "ORDER BY l.id LIMIT 1"
        ).fetchone()[0]


def test_forward_trace_of_a_raw_lot_reaches_customers(demo_db):
    result = run("--db", str(demo_db), "trace", "forward", raw_lot(demo_db), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("material_lots", "product_batches", "commodity_batches", "deliveries", "customers", "suppliers", "mass_balance"):
        assert key in data
    assert data["customers"] and all(c["name"] for c in data["customers"])
    assert data["deliveries"] and data["product_batches"]


def test_verify_passes_then_fails_after_a_direct_edit(demo_db, tmp_path):
    copy = tmp_path / "copy.db"
    with sqlite3.connect(demo_db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    ok = run("--db", str(copy), "verify")
    assert ok.returncode == 0 and "校验通过" in ok.stdout
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE delivery SET units = units + 1 WHERE id = (SELECT min(id) FROM delivery)")
    bad = run("--db", str(copy), "verify")
    assert bad.returncode == 1
    assert "出厂销售记录" in bad.stdout and "修改" in bad.stdout


def test_unknown_number_is_one_line_error(demo_db, capsys):
    code = main(["--db", str(demo_db), "trace", "backward", "NO-SUCH-LOT"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("错误：") and "NO-SUCH-LOT" in err and "\n" not in err


def test_demo_twice_is_refused(demo_db, capsys):
    assert main(["--db", str(demo_db), "demo"]) == 1
    assert "错误：" in capsys.readouterr().err


def test_environment_variable_chooses_the_database(tmp_path, monkeypatch, capsys):
    target = tmp_path / "env.db"
    monkeypatch.setenv("FOODARCHIVE_DB", str(target))
    assert main(["init"]) == 0
    assert target.exists() and str(target) in capsys.readouterr().out


def test_json_round_trip_through_the_cli(demo_db, tmp_path):
    dump, again = tmp_path / "a.json", tmp_path / "b.json"
    fresh = tmp_path / "fresh.db"
    assert run("--db", str(demo_db), "export-json", str(dump)).returncode == 0
    assert run("--db", str(fresh), "init").returncode == 0
    imported = run("--db", str(fresh), "import-json", str(dump))
    assert imported.returncode == 0, imported.stderr
    assert run("--db", str(fresh), "verify").returncode == 0
    assert run("--db", str(fresh), "export-json", str(again)).returncode == 0
    first, second = (json.loads(p.read_text(encoding="utf-8")) for p in (dump, again))
    first.pop("exported_at"), second.pop("exported_at")
    assert first == second
