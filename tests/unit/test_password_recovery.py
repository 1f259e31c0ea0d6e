"""A forgotten password (issue 15): ``reset-password`` needs an
administrator's password or the recovery code shown once when the
administrator was created, never just a shell on the PC; wrong passwords
slow down. Time moves on the one clock; nothing sleeps."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from app import cli, clock
from app.db import open_database
from app.errors import UserError
from app.services import acting, throttle, users

ADMIN_PASSWORD = "admin-password-1"
CODE = re.compile(r"[A-Z2-9]{5}(?:-[A-Z2-9]{5}){4}")


@pytest.fixture
def database(sqlite_url):
    """An administrator (with a recovery code) and an operator."""
    engine, sessions = open_database(sqlite_url, actor=acting.system("首次启动"))
    with sessions.begin() as session:
        users.create_first_administrator(session, "admin", "管理员", ADMIN_PASSWORD)
        code = users.issue_recovery_code(session)
        users.create_user(session, "li", "李操作", "li-password-1", ["operator"])
    engine.dispose()
    return sqlite_url, code


def command(monkeypatch, capsys, url: str, *args: str, typed: str = "") -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    code = cli.main(["--db", url, *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def can_log_in(url: str, name: str, password: str) -> bool:
    engine, sessions = open_database(url)
    try:
        with sessions() as session:
            users.authenticate(session, name, password)
        return True
    except UserError:
        return False
    finally:
        engine.dispose()


def test_a_shell_alone_resets_no_password(database, monkeypatch, capsys):
    url, _code = database
    status, said = command(monkeypatch, capsys, url, "reset-password", "li", typed="taken-over-1\n")
    assert status == 1 and "需要一位系统管理员" in said and "--admin" in said and "--recovery-code" in said
    assert can_log_in(url, "li", "li-password-1") and not can_log_in(url, "li", "taken-over-1")


def test_an_administrator_resets_with_the_own_password(database, monkeypatch, capsys, login_throttle):
    url, _code = database
    status, said = command(monkeypatch, capsys, url, "reset-password", "li", "--admin", "admin",
                           typed="wrong-password\nnew-password-1\n")
    assert status == 1 and "用户名或密码不正确" in said
    assert login_throttle == [1]  # the command paused before it said so
    status, said = command(monkeypatch, capsys, url, "reset-password", "li", "--admin", "admin",
                           typed=f"{ADMIN_PASSWORD}\nnew-password-1\n")
    assert status == 0 and "已为用户「li」设置新密码" in said
    assert can_log_in(url, "li", "new-password-1")
    # Who did it is in the audit log: the administrator, not the command line.
    engine, sessions = open_database(url)
    with sessions() as session:
        from sqlalchemy import select

        from app.models import AuditEntry

        last = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "app_user")
                               .order_by(AuditEntry.id.desc())).first()
        assert last.actor == "管理员"
    engine.dispose()


def test_an_operator_cannot_reset_another_password(database, monkeypatch, capsys):
    url, _code = database
    status, said = command(monkeypatch, capsys, url, "reset-password", "admin", "--admin", "li",
                           typed="li-password-1\ntaken-over-1\n")
    assert status == 1 and "不是系统管理员" in said
    assert can_log_in(url, "admin", ADMIN_PASSWORD)


def test_the_recovery_code_works_once_and_is_replaced(database, monkeypatch, capsys):
    url, code = database
    status, said = command(monkeypatch, capsys, url, "reset-password", "admin", "--recovery-code",
                           typed=f"{code.lower().replace('-', ' ')}\nrecovered-1\n")  # as read off the paper
    assert status == 0 and "已为用户「admin」设置新密码" in said
    new_code = CODE.search(said).group(0)
    assert new_code != code and can_log_in(url, "admin", "recovered-1")
    status, said = command(monkeypatch, capsys, url, "reset-password", "admin", "--recovery-code",
                           typed=f"{code}\nagain-password-1\n")
    assert status == 1 and "恢复码不正确" in said and can_log_in(url, "admin", "recovered-1")
    status, said = command(monkeypatch, capsys, url, "recovery-code", "--admin", "admin", typed="recovered-1\n")
    assert status == 0 and CODE.search(said).group(0) not in (code, new_code)


def test_failed_logins_slow_down_and_a_success_forgets_them(database):
    url, _code = database
    engine, sessions = open_database(url)
    start = dt.datetime(2026, 11, 22, 10, 0)
    try:
        with sessions() as session:
            for _ in range(throttle.FREE_FAILURES):
                with pytest.raises(UserError, match="用户名或密码不正确"):
                    users.authenticate(session, "li", "guess")
            # Now even the right password waits out the delay; the message says how long.
            with pytest.raises(UserError, match=f"连续输错 3 次，请 {throttle.FIRST_DELAY_SECONDS} 秒后再试"):
                users.authenticate(session, "li", "li-password-1")
            clock.freeze(start + dt.timedelta(seconds=throttle.FIRST_DELAY_SECONDS))
            with pytest.raises(UserError, match="用户名或密码不正确"):
                users.authenticate(session, "li", "guess")
            # Each further failure doubles the delay.
            clock.freeze(start + dt.timedelta(seconds=throttle.FIRST_DELAY_SECONDS + 9))
            with pytest.raises(UserError, match="请 1 秒后再试"):
                users.authenticate(session, "li", "li-password-1")
            # Another name is not slowed by these.
            assert users.authenticate(session, "admin", ADMIN_PASSWORD).username == "admin"
            clock.freeze(start + dt.timedelta(seconds=throttle.FIRST_DELAY_SECONDS + 10))
            assert users.authenticate(session, "li", "li-password-1").username == "li"
            # The success forgot the failures: a mistake is again just a mistake.
            with pytest.raises(UserError, match="用户名或密码不正确"):
                users.authenticate(session, "li", "guess")
    finally:
        engine.dispose()


def test_the_delay_doubles_up_to_five_minutes():
    assert [throttle.delay_after(n) for n in range(0, 10)] == [0, 0, 0, 5, 10, 20, 40, 80, 160, 300]
