"""What ``foodarchive upload``, ``platform-login`` and ``platform-sim`` do
(app/cli.py keeps only their registration)."""

from __future__ import annotations

import getpass
import os
import sys
import threading

from sqlalchemy.orm import Session, sessionmaker

from app.errors import UserError

from . import credentials, upload


def run_upload(sessions: sessionmaker[Session], *, once: bool, url: str | None, check: bool) -> int:
    if check:
        problems = upload.check(sessions, url=url)
        for problem in problems:
            print(f"连接检查：{problem}", file=sys.stderr)
        if not problems:
            print("连接检查通过：平台可达，账号和密钥有效，时钟一致，接口配置相符")
        return 1 if problems else 0
    if once:
        report = upload.upload_now(sessions, url=url)
        print(report.summary())
        return 0 if report.ok else 1
    with sessions.begin() as session:
        cfg = upload.config(session, url)
    upload.client_for(cfg).close()  # no address or no saved login: say so now, not never
    every = f"每 {cfg.interval_minutes} 分钟" + (f"，并在每天 {cfg.daily_hour} 点" if cfg.daily_hour is not None else "")
    print(f"按计划持续上传到 {cfg.url}（{every}；Ctrl+C 停止）……", flush=True)
    upload.serve(sessions, url=url, stop=threading.Event(), say=lambda text: print(text, flush=True))
    return 0


def login(sessions: sessionmaker[Session], stdin=None) -> int:
    """Store the platform key and secret in the keyring; from a terminal by
    prompting, otherwise from two lines of standard input (key, secret)."""
    stdin = stdin or sys.stdin
    credentials.keyring_name()  # says plainly when there is no usable keyring, before asking anything
    with sessions.begin() as session:
        profile = upload.config(session).profile
    if stdin.isatty():
        key = input(f"平台账号（接口配置「{profile.name}」）：")
        secret = getpass.getpass("密钥（不回显）：")
    else:
        lines = stdin.read().splitlines()
        if len(lines) < 2:
            raise UserError("标准输入应有两行：第一行账号，第二行密钥")
        key, secret = lines[0], lines[1]
    credentials.store(profile.name, key, secret)
    print(f"已保存到系统密钥环（{credentials.keyring_name()}），数据库中不保存账号和密钥")
    return 0


def simulate(port: int, host: str = "127.0.0.1") -> int:
    from .simulator import Simulator

    key = os.environ.get("FOODARCHIVE_SIM_KEY", "demo")
    secret = os.environ.get("FOODARCHIVE_SIM_SECRET", "demo-secret")
    try:
        sim = Simulator(host=host, port=port, accounts={key: secret}, echo=True)
    except OSError as exc:
        from app.problems import os_reason

        raise UserError(f"无法在 {host}:{port} 上运行平台模拟器：{os_reason(exc)}。请用 --port 换一个端口") from exc
    print(f"平台模拟器（仅供开发、演示和测试，不是真实平台）：{sim.url}  账号 {key}", flush=True)
    print(f"收到的记录：GET {sim.url}/_sim/received；故障开关：POST {sim.url}/_sim/faults", flush=True)
    try:
        sim.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        report = sim.report()
        repeats = sum(1 for n in report["counts"].values() if n > 1)
        print(f"共收到 {len(report['records'])} 条，{len(report['counts'])} 个不同的键（其中 {repeats} 个重复到达），"
              f"接收 {len(report['accepted'])} 条", flush=True)
        sim.server.server_close()
    return 0
