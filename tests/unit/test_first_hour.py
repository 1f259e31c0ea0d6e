"""The first hour on a fresh machine (issue 14): every failure a new user
meets is one Chinese line naming the user's own path, an exit code, and
nothing created or changed — never a traceback, SQL text or a new empty
database in the wrong place."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from app.cli import main
from app.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _without_root_powers() -> None:
    """In the child: root ignores file permissions; drop the capabilities
    that let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), as a normal user is."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl")


def run(*args: str, env: dict | None = None, as_user: bool = False) -> subprocess.CompletedProcess:
    """``foodarchive ARGS`` in a new process, as a scheduled task would run it."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=300, cwd=ROOT, env=env, preexec_fn=_without_root_powers if (as_user and IS_ROOT) else None,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert lines[0].startswith("错误："), text
    assert "Traceback" not in text and "[SQL" not in text and "sqlalche.me" not in text, text
    return lines[0]


@pytest.fixture
def database(tmp_path) -> Path:
    path = tmp_path / "factory.db"
    assert main(["--db", str(path), "init"]) == 0
    return path


# ------------------------------------------------------------ opening a database


def test_a_mistyped_path_is_an_error_naming_it_and_init(tmp_path, capsys):
    missing = tmp_path / "typo" / "factroy.db"
    other = tmp_path / "moved.db"
    for argv in (["--db", str(missing), "verify"], ["--db", str(other), "export-json", str(tmp_path / "out.json")],
                 ["--db", str(other), "trace", "forward", "X"]):
        assert main(argv) == 1
        line = one_line_error(capsys.readouterr().err)
        assert "不存在" in line and "init" in line and Path(argv[1]).name in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database, no export, no folder


def test_the_environment_variable_is_held_to_the_same_rule(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FOODARCHIVE_DB", str(tmp_path / "nowhere.db"))
    assert main(["verify"]) == 1
    assert "nowhere.db" in one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "nowhere.db").exists()


def test_init_makes_a_database_where_asked_but_not_in_a_missing_folder(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "no-such-folder" / "a.db"), "init"]) == 1
    assert "no-such-folder" in one_line_error(capsys.readouterr().err)
    assert main(["--db", str(tmp_path / "a.db"), "init"]) == 0
    assert (tmp_path / "a.db").exists()


def test_the_default_database_is_made_on_first_use(capsys):
    from app.paths import default_db_path

    assert main(["verify"]) == 0  # the test HOME's data folder (tests/conftest.py)
    assert default_db_path().exists()
    assert "校验通过" in capsys.readouterr().out


def test_a_corrupt_file_is_said_to_be_corrupt_and_left_alone(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this was a database once" * 100)
    before = digest(corrupt)
    assert main(["--db", str(corrupt), "verify"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "已损坏" in line and "备份" in line and str(corrupt) in line
    assert digest(corrupt) == before


def test_another_programs_database_is_not_filled_with_ours(tmp_path, capsys):
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    before = digest(foreign)
    assert main(["--db", str(foreign), "init"]) == 1
    assert "不是本软件的数据库" in one_line_error(capsys.readouterr().err)
    assert digest(foreign) == before


def test_a_database_of_a_newer_version_is_refused_unchanged(database, capsys):
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff9999'")
    conn.close()
    before = digest(database)
    assert main(["--db", str(database), "verify"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "更新版本" in line and "ffff9999" in line
    assert digest(database) == before


def test_a_read_only_database_asks_for_write_access_without_showing_data(database):
    database.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = digest(database)
    reading = run("--db", str(database), "verify", as_user=True)
    assert reading.returncode == 0, reading.stderr  # reading still works
    writing = run("--db", str(database), "demo", as_user=True)
    assert writing.returncode == 1
    line = one_line_error("\n".join(l for l in writing.stderr.splitlines() if not l.startswith("载入演示工厂")))
    assert "只读" in line and "写入权限" in line and str(database) in line
    assert "INSERT" not in writing.stderr and "上海松禾" not in writing.stderr  # no SQL, no row data
    assert digest(database) == before


def test_a_locked_database_says_another_program_uses_it(database):
    from app.problems import explain

    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            sqlite3.connect(database, timeout=0, isolation_level=None).execute("BEGIN IMMEDIATE")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    message = explain(caught.value, f"sqlite:///{database}")
    assert "另一个程序" in message and str(database) in message


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_postgresql_server_is_one_line_saying_what_to_check(capsys):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/foodarchive"
    assert main(["--db", url, "verify"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "127.0.0.1" in line and "拒绝连接" in line and "服务" in line


def test_a_wrong_database_url_is_named(capsys):
    assert main(["--db", "postgres-ql://server/db", "verify"]) == 1
    assert "postgres-ql://server/db" in one_line_error(capsys.readouterr().err)


# ------------------------------------------------------------ the error boundary


def test_an_unwritable_log_folder_is_a_warning_not_a_traceback(database, tmp_path):
    home = tmp_path / "home"
    (home / "state").mkdir(parents=True)
    home.chmod(0o555)
    (home / "state").chmod(0o555)
    env = dict(os.environ, HOME=str(home), XDG_STATE_HOME=str(home / "state"))
    try:
        result = run("--db", str(database), "verify", env=env, as_user=True)
        failing = run("--db", str(tmp_path / "missing.db"), "verify", env=env, as_user=True)
    finally:
        (home / "state").chmod(0o755)
        home.chmod(0o755)
    assert result.returncode == 0 and "校验通过" in result.stdout
    assert "Traceback" not in result.stderr
    assert "无法写入日志文件夹" in result.stderr and str(home / "state") in result.stderr
    assert failing.returncode == 1 and "Traceback" not in failing.stderr and "missing.db" in failing.stderr


def test_a_bug_is_one_line_pointing_at_the_log(monkeypatch, capsys):
    import app.cli as cli

    def broken(_args):
        raise RuntimeError("SELECT secret FROM somewhere")

    monkeypatch.setattr(cli, "cmd_init", broken)
    assert main(["init"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("内部错误（RuntimeError）") and "foodarchive.log" in err
    assert "SELECT" not in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_argparse_speaks_chinese(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["nosuch"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "用法：" in err and "无效的选择" in err and "usage" not in err
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "显示这段帮助并退出" in out and "选项" in out and "show this help" not in out


def test_a_stale_display_is_a_message_and_exit_1_not_an_abort(database):
    taken = {int(name[1:]) for name in os.listdir("/tmp/.X11-unix") if name[1:].isdigit()} \
        if os.path.isdir("/tmp/.X11-unix") else set()
    display = next(n for n in range(77, 200) if n not in taken)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = f":{display}"
    result = run("--db", str(database), "gui", env=env)
    assert result.returncode == 1, result.stderr
    line = one_line_error(result.stderr)
    assert f"DISPLAY=:{display}" in line and "无法连接显示器" in line


# ------------------------------------------------------------ command by command


def test_a_bad_port_is_an_argument_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["platform-sim", "--port", "99999"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "端口「99999」应为 1 到 65535 之间的整数" in err and "Traceback" not in err


def test_a_port_in_use_names_the_port():
    from app.platform import commands

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UserError, match=f"127.0.0.1:{port}.*端口已被其他程序占用"):
            commands.simulate(port)


@pytest.fixture
def with_receipts(database):
    from sqlalchemy.orm import Session

    from app.db import make_engine
    from app.services import acting, receiving
    from tests.unit import builders as b

    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session, session.begin():
        acting.bind(session, acting.system("test"))
        p = b.plant(session)
        receiving.receive(session, b.receipt_values(p, p.soy, receipt_date="2026-11-10", production_date="2026-11-01"))
    engine.dispose()
    return database


def test_reversed_dates_are_refused_not_exported_empty(with_receipts, tmp_path, capsys):
    out = tmp_path / "ledger.xlsx"
    assert main(["--db", str(with_receipts), "export-ledger", "incoming_inspection", "--from", "2026-11-20",
                 "--to", "2026-11-01", "--out", str(out)]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "2026-11-20" in line and "晚于" in line
    assert not out.exists()


def test_a_csv_name_gets_no_xlsx_content(with_receipts, tmp_path, capsys):
    for command in (["export-ledger", "incoming_inspection"], ["export-template", "incoming_inspection"]):
        out = tmp_path / "ledger.csv"
        assert main(["--db", str(with_receipts), *command, "--out", str(out)]) == 1
        line = one_line_error(capsys.readouterr().err)
        assert "ledger.csv" in line and ".xlsx" in line
        assert not out.exists()


def test_exports_get_the_permissions_of_any_new_file(with_receipts, tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    xlsx, dump = tmp_path / "ledger.xlsx", tmp_path / "all.json"
    assert main(["--db", str(with_receipts), "export-ledger", "incoming_inspection", "--out", str(xlsx)]) == 0
    assert main(["--db", str(with_receipts), "export-json", str(dump)]) == 0
    for path in (xlsx, dump):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("factory.db")) == [
        "all.json", "ledger.xlsx"]  # no temporary file beside them


def test_a_write_error_names_the_users_file_not_a_temporary_one(with_receipts, tmp_path, monkeypatch, capsys):
    from app.services import transfer

    def disk_full(_data, out):
        raise OSError(errno.ENOSPC, "No space left on device", out.name)

    monkeypatch.setattr(transfer, "_dump", disk_full)
    target = tmp_path / "backup.json"
    assert main(["--db", str(with_receipts), "export-json", str(target)]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert f"「{target}」" in line and "磁盘已满" in line and ".part" not in line and "No space" not in line
    assert not target.exists() and not list(tmp_path.glob(".backup.json*"))


def test_a_truncated_json_export_is_called_incomplete(with_receipts, tmp_path, capsys):
    dump = tmp_path / "all.json"
    assert main(["--db", str(with_receipts), "export-json", str(dump)]) == 0
    data = dump.read_bytes()
    cut = next(i for i, byte in enumerate(data) if byte >= 0x80) + 1  # in the middle of a character
    for end in (cut, len(data) // 2):
        truncated = tmp_path / f"cut-{end}.json"
        truncated.write_bytes(data[:end])
        fresh = tmp_path / f"fresh-{end}.db"
        assert main(["--db", str(fresh), "init"]) == 0
        before = digest(fresh)
        capsys.readouterr()
        assert main(["--db", str(fresh), "import-json", str(truncated)]) == 1
        line = one_line_error(capsys.readouterr().err)
        assert "不完整" in line and str(truncated) in line and "UTF-8" not in line
        assert digest(fresh) == before


def test_an_excel_file_that_is_not_one_is_said_in_chinese(database, tmp_path, capsys):
    fake = tmp_path / "suppliers.xlsx"
    fake.write_text("name,address\n", encoding="utf-8")
    old = tmp_path / "suppliers.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert main(["--db", str(database), "import-ledger", "supplier", str(fake)]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "不是 Excel 工作簿" in line and "zip" not in line
    assert main(["--db", str(database), "import-ledger", "supplier", str(old)]) == 1
    assert ".xls" in one_line_error(capsys.readouterr().err)
    assert main(["--db", str(database), "import-ledger", "supplier", str(tmp_path / "none.xlsx")]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "none.xlsx" in line and "不存在" in line and "No such file" not in line


def test_continuous_upload_says_why_nothing_uploads(database):
    result = run("--db", str(database), "upload")  # no --once: it would run forever if it started
    assert result.returncode == 1
    assert "没有设置平台地址" in one_line_error(result.stderr)


# ------------------------------------------------------------ printing


def test_print_volume_into_a_folder_or_nowhere_leaves_nothing(database, tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["--db", str(database), "print-volume", "0001-2026-D10-001", "--out", str(folder)]) == 1
    assert "是一个文件夹" in one_line_error(capsys.readouterr().err)
    assert main(["--db", str(database), "print-volume", "0001-2026-D10-001", "--out",
                 str(tmp_path / "gone" / "v.pdf")]) == 1
    assert "gone" in one_line_error(capsys.readouterr().err)
    assert main(["--db", str(database), "print-volume", "NO-SUCH", "--out", str(tmp_path / "v.pdf")]) == 1
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("factory.db")) == ["out"]
    assert list(folder.iterdir()) == []


def test_a_failed_print_volumes_leaves_no_empty_folder(database, tmp_path, capsys):
    folder = tmp_path / "volumes"
    assert main(["--db", str(database), "print-volumes", "--from", "2020-01-01", "--to", "2020-01-31",
                 "--out", str(folder)]) == 1
    assert "没有档案" in one_line_error(capsys.readouterr().err)
    assert not folder.exists()


def test_no_chinese_font_is_the_same_message_as_the_window_gives(database, tmp_path, monkeypatch, capsys):
    from app.reports import fonts

    monkeypatch.setattr(fonts, "_registered", {})
    monkeypatch.setattr(fonts, "FONT_DIRS", ())  # the font lookup finds nothing
    monkeypatch.setattr(fonts, "_windows_fonts", lambda: [])
    folder = tmp_path / "volumes"
    assert main(["--db", str(database), "print-volumes", "--from", "2026-01-01", "--to", "2026-12-31",
                 "--out", str(folder)]) == 1
    assert one_line_error(capsys.readouterr().err) == f"错误：{fonts.MISSING}"
    with pytest.raises(UserError) as caught:
        fonts.register()
    assert caught.value.message == str(fonts.MISSING)
    assert "fonts-wqy-microhei" in caught.value.message and "宋体" in caught.value.message
    assert not folder.exists()


def test_the_font_message_reads_in_english_too():
    from app.reports import fonts

    both = fonts.in_both_languages(fonts.MISSING)
    assert both.startswith(str(fonts.MISSING)) and both.endswith(fonts.MISSING.message)
    assert "sudo apt install fonts-wqy-microhei" in fonts.MISSING.message


# ------------------------------------------------------------ what a test run leaves


@pytest.mark.slow
def test_a_test_run_leaves_nothing_in_the_temporary_folder(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/unit/test_version.py", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert list(scratch.iterdir()) == []


def test_hypothesis_keeps_nothing_in_the_checkout():
    assert os.environ["HYPOTHESIS_STORAGE_DIRECTORY"].startswith(tempfile.gettempdir())


def test_a_display_qt_cannot_use_is_a_message_not_an_abort(database):
    env = dict(os.environ, QT_QPA_PLATFORM="no-such-platform")
    result = run("--db", str(database), "gui", env=env)
    assert result.returncode == 1, result.stderr  # not 134 (abort)
    line = one_line_error(result.stderr)
    assert "窗口无法启动" in line and "libxcb-cursor0" in line and "Reinstalling" not in line
