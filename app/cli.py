"""Headless commands; every one is usable from a scheduled task.

Exit code 0 on success; on error, non-zero with a one-line message.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import logging
import sys
from collections.abc import Callable

from app import __version__
from app.errors import UserError

log = logging.getLogger("cli")


def _open(args, actor: str = "命令行", *, create: bool = False, on_tamper=None):
    """The engine, and sessions that act as the system account under ``actor``
    (the name the records and the audit log will carry).

    Only the default database, and any database with ``create`` (``init``),
    is made when missing; a database that cannot be opened raises a
    ``DatabaseProblem`` saying why (app/db.py)."""
    from app.db import open_database
    from app.paths import chosen_database
    from app.services import acting

    def told(backup) -> None:
        print(f"数据库已升级到新版本的结构；升级前的副本保存在：{backup}", file=sys.stderr)

    url, is_default = chosen_database(args.db)
    args.database_url = url  # for the error boundary's messages
    def warn(lines: list[str]) -> None:
        for line in lines:
            print(f"警告：{line}", file=sys.stderr)

    return open_database(url, on_backup=told, actor=acting.system(actor), create=create or is_default,
                         on_tamper=on_tamper or warn)


def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def cmd_gui(args) -> int:
    """Without a command: the desktop application."""
    if not _has_display():
        engine, _ = _open(args)
        print(f"数据库已就绪：{engine.url.render_as_string(hide_password=True)}")
        print("没有图形显示环境（DISPLAY），无法打开窗口；可以使用下列命令：", file=sys.stderr)
        build_parser().print_help()
        return 0
    try:
        from app.ui.app import run
    except ImportError as exc:  # a system library Qt needs is missing
        from app.problems import qt_missing

        raise UserError(qt_missing(exc)) from exc

    return run(args.db, smoke=getattr(args, "smoke", False))


def cmd_init(args) -> int:
    engine, _ = _open(args, create=True)
    print(f"数据库已就绪：{engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_demo(args) -> int:
    from app.console import ProgressLine, demo_hints
    from app.services import demo

    engine, Session = _open(args, demo.ACTOR)
    progress = ProgressLine("载入演示工厂")
    try:
        with Session.begin() as session:
            summary = demo.load(session, progress)
            progress.say("写入数据库……")
    finally:
        progress.finish()
    with Session() as session:
        examples = demo.examples(session)
    print("演示工厂已载入：" + "，".join(f"{k} {v}" for k, v in summary.items()))
    print("\n".join(demo_hints(args.db, examples)))
    return 0


def cmd_verify(args) -> int:
    from app.services import anchors, audit

    if args.anchor is not None:
        anchors.parse(args.anchor)  # a mistyped anchor is said before the database is opened
    at_start: list[str] = []  # what the start found and repaired (the triggers) is a finding too
    engine, _ = _open(args, on_tamper=at_start.extend)
    with engine.connect() as connection:
        findings = [finding.message for finding in audit.verify(connection, anchor=args.anchor)]
        anchored = anchors.check_paper(connection, args.anchor)[1] if args.anchor is not None else None
    findings = at_start + [message for message in findings if message not in at_start]
    if not findings:
        print("校验通过：审计日志完整，所有记录与日志一致，电子签名有效")
        if anchored is not None:
            print(f"链头核对一致：审计日志第 {anchored.entry} 条（{anchored.at}）及其之前的 {anchored.count} 条日志"
                  "与纸质案卷上记下的链头相同，没有被改写")
        return 0
    for message in findings:
        print(message)
    print(f"校验未通过：发现 {len(findings)} 处问题", file=sys.stderr)
    return 1


def cmd_backup(args) -> int:
    from app.services import backup

    engine, Session = _open(args, "备份")
    outcome = backup.run(engine, Session, to=args.to)
    if not outcome.ok:
        print(f"备份失败：{outcome.message}", file=sys.stderr)
        return 1
    print(f"备份完成并已校验：{outcome.path}")
    if outcome.second_path:
        print(f"第二备份文件夹中的副本：{outcome.second_path}")
    if outcome.removed:
        print(f"按保留规则删除了 {len(outcome.removed)} 份较旧的备份")
    return 0


def cmd_restore(args) -> int:
    from app.paths import chosen_database
    from app.services import backup

    url, _ = chosen_database(args.db)
    args.database_url = url
    result = backup.restore(url, args.file)
    print(f"已从「{result.source}」恢复数据库")
    if result.kept_aside:
        print(f"恢复前的数据库已另存为：{result.kept_aside}")
    _open(args)  # a copy made by an older version is upgraded now, with a copy of its own
    return 0


def cmd_import_readings(args) -> int:
    from app.services import devices

    _, Session = _open(args, "设备数据导入")
    with Session.begin() as session:
        result = devices.import_path(session, args.device, args.file)
    if result.duplicate:
        print(f"文件「{args.file}」此前已经导入过，没有增加任何读数")
        return 0
    print(f"已导入 {result.readings} 条读数：{args.file}")
    if result.alarms:
        print(f"其中 {result.alarms} 条超出报警限，已生成报警，需记录纠偏措施（安全管理 → 设备数据超限报警）")
    return 0


def cmd_trace(args) -> int:
    from app.services import trace

    _, Session = _open(args)
    with Session() as session:
        if args.json:
            text = trace.trace_json(session, args.number, args.direction)
            sys.stdout.flush()
            sys.stdout.buffer.write(text + b"\n")
        else:
            print("\n".join(trace.trace(session, args.number, args.direction).summary_lines()))
    return 0


def cmd_export_json(args) -> int:
    from app.files import output_file
    from app.services import transfer

    output_file(args.file)
    engine, _ = _open(args)
    # One snapshot: rows and audit log must agree even while other PCs write.
    isolation = "REPEATABLE READ" if engine.dialect.name == "postgresql" else None
    with engine.connect() as connection:
        if isolation:
            connection = connection.execution_options(isolation_level=isolation)
        with connection.begin():
            transfer.write_archive(connection, args.file)
    print(f"已导出：{args.file}")
    return 0


def cmd_import_json(args) -> int:
    from app.services import transfer

    data = transfer.read_archive(args.file)
    engine, _ = _open(args)
    with engine.begin() as connection:
        counts = transfer.import_archive(connection, data)
    print(f"已导入 {sum(counts.values())} 行（{len([c for c in counts.values() if c])} 张表）")
    return 0


def _read_secret(prompt: str) -> str:
    """Typed unseen at a terminal; one line from standard input otherwise."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    return getpass.getpass(prompt)


def _read_new_password() -> str:
    """Typed twice at a terminal; one line from standard input otherwise."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("新密码：")
    if getpass.getpass("再次输入新密码：") != first:
        raise UserError("两次输入的密码不一致")
    return first


def _proof(args) -> dict:
    """What proves the right to set a password: an administrator's password,
    or the recovery code (read before anything else, the first line of
    standard input when it is not a terminal)."""
    from app.services import users

    if args.admin:
        return {"admin": (args.admin, _read_secret(f"系统管理员「{args.admin}」的密码："))}
    if args.recovery_code:
        return {"recovery_code": _read_secret("恢复码：")}
    raise UserError("重设密码需要一位系统管理员的用户名和密码（--admin 用户名），"
                    f"或创建系统管理员时显示的恢复码（--recovery-code）。{users.RECOVERY_HINT}")


@contextlib.contextmanager
def _slowed(name: str):
    """A wrong password or code costs the command a pause before it exits
    (services.throttle): a loop of commands guesses slowly too."""
    from app.services import throttle

    try:
        yield
    except UserError:
        throttle.LOGINS.wait_out(name)
        raise


def cmd_reset_password(args) -> int:
    from app.services import users

    _, Session = _open(args)
    proof = _proof(args)
    password = _read_new_password()
    with _slowed(args.admin or users.RECOVERY_KEY), Session.begin() as session:
        new_code = users.recover_password(session, args.username, password, **proof)
    print(f"已为用户「{args.username}」设置新密码")
    if new_code:
        print(f"恢复码已用过、作废。新的恢复码（只显示这一次，请抄下来交给企业负责人保管）：{new_code}")
    return 0


def cmd_recovery_code(args) -> int:
    from app.services import acting, users

    _, Session = _open(args)
    password = _read_secret(f"系统管理员「{args.admin}」的密码：")
    with _slowed(args.admin), Session.begin() as session:
        acting.bind(session, acting.user_of(session, users.administrator(session, args.admin, password).id))
        code = users.issue_recovery_code(session)
    print(f"新的恢复码（旧的已作废；只显示这一次，请抄下来交给企业负责人保管）：{code}")
    return 0


# ---- R6 platform upload (app/platform/commands.py does the work)


def cmd_upload(args) -> int:
    from app.platform import commands

    _, Session = _open(args, "计划任务")
    return commands.run_upload(Session, once=args.once, url=args.url, check=args.check)


def cmd_platform_login(args) -> int:
    from app.platform import commands

    _, Session = _open(args)
    return commands.login(Session)


def cmd_platform_sim(args) -> int:
    from app.platform import commands

    return commands.simulate(args.port)


# --- Excel ledgers (issue 6) ------------------------------------------------


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"端口「{text}」应为 1 到 65535 之间的整数")
    return int(text)


def _date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期「{text}」应为 YYYY-MM-DD") from None


def _ledger_key(key: str, importable: bool = False) -> str:
    from app.reports.ledger_export import importable_keys
    from app.ledgers import registry

    if key not in (importable_keys() if importable else registry()):
        raise UserError(f"「{key}」不是可{'导入' if importable else '导出'}的台账名；可用的名称见 --help")
    return key


def cmd_export_ledger(args) -> int:
    from app.files import output_file
    from app.ledgers import ledger
    from app.reports.ledger_export import export_ledger, period_filters

    output_file(args.out, ".xlsx", "Excel")
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise UserError(f"起始日期 --from {args.date_from} 晚于截止日期 --to {args.date_to}：这段时间里不会有任何记录，"
                        "请检查是否写反了")
    _, Session = _open(args)
    with Session() as session:
        key = _ledger_key(args.ledger)
        rows = export_ledger(session, key, args.out, period_filters(ledger(key), args.date_from, args.date_to))
    print(f"已导出 {rows} 行：{args.out}")
    return 0


def cmd_export_template(args) -> int:
    from app.files import output_file
    from app.reports.ledger_export import export_template

    output_file(args.out, ".xlsx", "Excel")
    _, Session = _open(args)
    with Session() as session:
        export_template(session, _ledger_key(args.ledger, importable=True), args.out)
    print(f"已生成导入模板：{args.out}")
    return 0


def cmd_import_ledger(args) -> int:
    from app.reports.ledger_import import import_ledger

    _, Session = _open(args, "导入")
    with Session.begin() as session:
        rows = import_ledger(session, _ledger_key(args.ledger, importable=True), args.file)
    print(f"已导入 {rows} 条记录：{args.file}")
    return 0


def _every_ledger() -> str:
    from app.ledgers import registry
    from app.reports.ledger_export import ledger_list

    return "LEDGER 可用的台账名：\n" + ledger_list(sorted(registry()))


def _importable_ledgers() -> str:
    from app.reports.ledger_export import importable_keys, ledger_list

    return "LEDGER 可用的台账名：\n" + ledger_list(importable_keys())


def _excel_commands(add) -> None:
    # The lists of ledgers load every model and openpyxl: only that command's --help builds them.
    every, importable = _every_ledger, _importable_ledgers
    p = add("export-ledger", cmd_export_ledger, "把一个台账导出为可打印的 Excel 文件（检查用）",
            every)
    p.add_argument("ledger", metavar="LEDGER", help="台账名（见下表）")
    p.add_argument("--from", dest="date_from", type=_date, metavar="DATE", help="起始日期 YYYY-MM-DD（含）；省略则不限")
    p.add_argument("--to", dest="date_to", type=_date, metavar="DATE", help="截止日期 YYYY-MM-DD（含）；省略则不限")
    p.add_argument("--out", required=True, metavar="FILE.xlsx", help="输出文件")
    p = add("export-template", cmd_export_template, "生成一个台账的空白 Excel 导入模板", importable)
    p.add_argument("ledger", metavar="LEDGER", help="台账名（见下表）")
    p.add_argument("--out", required=True, metavar="FILE.xlsx", help="输出文件")
    p = add("import-ledger", cmd_import_ledger, "从 Excel 导入台账记录（逐行校验，全部成功或全部不导入）",
            importable)
    p.add_argument("ledger", metavar="LEDGER", help="台账名（见下表）")
    p.add_argument("file", metavar="FILE.xlsx", help="填好的模板或导出的台账")


def _read_passwords(*whose: str) -> list[str]:
    """One password each: asked at a terminal; one line each from standard input otherwise."""
    if not sys.stdin.isatty():
        return [sys.stdin.readline().rstrip("\r\n") for _ in whose]
    import getpass

    return [getpass.getpass(f"{who}的密码：") for who in whose]


def cmd_seal_archives(args) -> int:
    from app.services import acting, archives, sealing, users

    if args.month and (args.first or args.last):
        raise UserError("请只用 --month，或只用 --from 和 --to 指明期间")
    if args.month:
        first, last = archives.month_span(args.month)
    elif args.first and args.last:
        first, last = args.first, args.last
    else:
        raise UserError("请用 --from 和 --to（或 --month YYYY-MM）指明要封卷的期间")
    _, Session = _open(args)
    filer_password, checker_password = _read_passwords(f"立卷人「{args.by}」", f"检查人「{args.checker}」")
    with Session() as session:
        filer = users.authenticate(session, args.by, filer_password)
        actor = acting.user_of(session, filer.id)

    def report(done: int, total: int, text: str) -> None:
        if text:
            print(f"[{done + 1}/{total}] {text}", file=sys.stderr)

    result = sealing.seal_period(Session.as_actor(actor), first, last, other_username=args.checker,
                                 other_password=checker_password, acting_as="filer", report=report)
    print(f"{first} 至 {last}：封卷 {len(result.sealed)} 个档案（立卷人 {actor.name}）"
          + (f"，{len(result.already)} 个此前已封卷" if result.already else ""))
    if result.blocked:
        print(f"{len(result.blocked)} 个档案尚不能封卷：")
        for row in result.blocked:
            more = f"（共 {len(row.blockers)} 项待办）" if len(row.blockers) > 1 else ""
            print(f"  {row.archive_no}：{row.blockers[0].text}{more}")
    return 0


def cmd_print_volume(args) -> int:
    from app.reports import cli as reports_cli

    return reports_cli.print_volume(_open(args)[1], args.number, args.out)


def cmd_print_volumes(args) -> int:
    from app.reports import cli as reports_cli

    return reports_cli.print_volumes(_open(args)[1], args.first, args.last, args.out)


def cmd_print_label(args) -> int:
    from app.reports import cli as reports_cli

    return reports_cli.print_label(_open(args)[1], args.kind, args.number, args.out, args.spine)


def cmd_recall_drill(args) -> int:
    from app.reports import cli as reports_cli

    return reports_cli.recall_drill(_open(args, "召回演练")[1], args.number, args.out)


def cmd_export_epcis(args) -> int:
    from app.reports import cli as reports_cli

    return reports_cli.export_epcis(_open(args)[1], args.first, args.last, args.out)


def cmd_evaluation_report(args) -> int:
    from app.reports import cli as reports_cli

    return reports_cli.evaluation_report(_open(args)[1], args.first, args.last, args.out)


def cmd_export_pages(args) -> int:
    from app.reports import cli as reports_cli

    return reports_cli.export_pages(_open(args)[1], args.out)
class _Parser(argparse.ArgumentParser):
    """A command whose epilog is costly to make (a callable) makes it only when its help is shown."""

    def format_help(self) -> str:
        if callable(self.epilog):
            self.epilog = self.epilog()
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    from app import argparse_zh

    argparse_zh.install()
    parser = argparse.ArgumentParser(
        prog="foodarchive",
        description="食品质量技术档案（一品一批一建档）命令行工具",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help=argparse_zh.version_help())
    parser.add_argument(
        "--db", metavar="PATH_OR_URL",
        help="数据库文件路径或 SQLAlchemy URL（默认：环境变量 FOODARCHIVE_DB，否则用户数据目录中的 foodarchive.db）",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, func: Callable, help: str,
            epilog: str | Callable[[], str] | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = add("gui", cmd_gui, "打开桌面程序（不带命令时的默认动作）")
    p.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # installer/smoke_linux.sh
    add("init", cmd_init, "创建数据库或升级到最新结构")
    add("demo", cmd_demo, "载入演示工厂（上海一家豆制品厂）的数据")
    p = add("verify", cmd_verify, "校验审计日志与数据是否一致（发现软件之外的修改）")
    p.add_argument("--anchor", metavar="HASH",
                   help="纸质案卷卷内备考表上印的审计日志链头哈希（至少 16 位，可带空格）：证明到该条为止的日志未被改写")
    p = add("backup", cmd_backup, "备份数据库并校验备份（完整性检查与审计链复核）；任何一步失败时退出码非零",
            "默认写入设置中的备份文件夹（未设置时为数据目录下的 backups），并复制到第二备份文件夹；\n"
            "按保留规则（每日、每周、每月各若干份）删除较旧的已校验备份。见 docs/operations.md")
    p.add_argument("--to", metavar="DIR", help="本次写入的文件夹（不复制到第二备份文件夹）")
    p = add("restore", cmd_restore, "用一份备份替换当前数据库（先校验备份；当前数据库先另存一份）",
            "恢复前请关闭所有连接这个数据库的程序窗口。见 docs/operations.md")
    p.add_argument("file", metavar="FILE", help="备份文件（.db 或 PostgreSQL 的 .dump）")
    p = add("import-readings", cmd_import_readings,
            "导入温湿度记录仪或生产线、仪器导出的 CSV 读数文件（按设备的导入配置读取；同一文件再次导入不增加数据）",
            "设备和导入配置在窗口的“基础数据 → 监测设备 / 设备数据导入配置”中登记。见 docs/operations.md")
    p.add_argument("device", metavar="DEVICE", help="设备编号（或名称）")
    p.add_argument("file", metavar="FILE", help="CSV 文件")
    p = add("trace", cmd_trace, "正向或反向追溯一个批号、商品批次、供应商批号或销售单号")
    p.add_argument("direction", choices=["forward", "backward"], help="forward 正向（到客户），backward 反向（到供应商）")
    p.add_argument("number", metavar="LOT_OR_BATCH_NO", help="批号或单号")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p = add("export-json", cmd_export_json, "把全部档案数据导出为 JSON 文件")
    p.add_argument("file", metavar="FILE")
    p = add("import-json", cmd_import_json, "把 JSON 文件导入空数据库（全部成功或全部不导入）")
    p.add_argument("file", metavar="FILE")
    p = add("reset-password", cmd_reset_password,
            "为忘记密码的用户（包括系统管理员）设置新密码，须有系统管理员的密码（--admin）或恢复码（--recovery-code）；"
            "非终端时从标准输入先读密码或恢复码一行，再读新密码一行")
    p.add_argument("username", metavar="USERNAME")
    proof = p.add_mutually_exclusive_group()
    proof.add_argument("--admin", metavar="ADMIN", help="由这位系统管理员输入自己的密码来证明")
    proof.add_argument("--recovery-code", action="store_true", help="用创建系统管理员时显示的恢复码证明")
    p = add("recovery-code", cmd_recovery_code, "系统管理员生成新的恢复码（旧的作废；忘记所有管理员密码时用它重设密码）")
    p.add_argument("--admin", metavar="ADMIN", required=True, help="系统管理员的用户名（随后输入密码）")
    p = add("upload", cmd_upload, "上传到食品安全追溯平台（按计划持续运行；--once 只上传一次，供系统计划任务调用）")
    p.add_argument("--once", action="store_true", help="上传当前到期的记录后退出")
    p.add_argument("--url", metavar="URL", help="本次使用的平台地址（覆盖设置）")
    p.add_argument("--check", action="store_true", help="只检查连接：地址、账号密钥、时钟、接口配置")
    add("platform-login", cmd_platform_login, "把平台账号和密钥存入系统密钥环（非终端时从标准输入读两行）")
    p = add("platform-sim", cmd_platform_sim, "运行平台模拟器（开发、演示和测试用，只监听 127.0.0.1）")
    p.add_argument("--port", type=_port, default=8765, metavar="N", help="端口（1–65535，默认 8765）")
    _excel_commands(add)
    p = add("print-volume", cmd_print_volume, "把一个档案打印成 PDF 案卷（封面、卷内目录、材料、卷内备考表）")
    p.add_argument("number", metavar="ARCHIVE_OR_BATCH_NO", help="档号、产品批号、商品批号或安全管理档案的月份（YYYY-MM）")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="输出的 PDF 文件")
    p = add("print-volumes", cmd_print_volumes, "把一段时间内的全部档案各打印成一个 PDF 案卷")
    p.add_argument("--from", dest="first", required=True, metavar="DATE", help="开始日期（YYYY-MM-DD，含）")
    p.add_argument("--to", dest="last", required=True, metavar="DATE", help="结束日期（YYYY-MM-DD，含）")
    p.add_argument("--out", required=True, metavar="DIR", help="输出文件夹")
    p = add("seal-archives", cmd_seal_archives,
            "把一段时间内可以封卷的档案全部封卷（立卷人和检查人须是两位有封卷权限的用户）",
            "两人的密码：在终端上分别询问；非终端时从标准输入依次读两行（先立卷人，后检查人）。\n"
            "尚有待办事项的档案不封卷，逐个列出第一项待办。")
    p.add_argument("--from", dest="first", type=_date, metavar="DATE", help="开始日期（YYYY-MM-DD，含）")
    p.add_argument("--to", dest="last", type=_date, metavar="DATE", help="结束日期（YYYY-MM-DD，含）")
    p.add_argument("--month", metavar="YYYY-MM", help="整月（代替 --from 和 --to）")
    p.add_argument("--by", required=True, metavar="USER", help="立卷人的用户名")
    p.add_argument("--checker", required=True, metavar="USER", help="检查人的用户名（须是另一个人）")
    p = add("print-label", cmd_print_label, "打印批次标签（GS1-128 与 GS1 数字链接二维码）或档案盒封面/脊背标签")
    p.add_argument("kind", choices=["batch", "cover"], help="batch 商品批次标签，cover 档案盒封面与脊背标签")
    p.add_argument("number", metavar="LOT_OR_ARCHIVE_NO", help="商品批号（batch），或档号、批号（cover）")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="输出的 PDF 文件")
    p.add_argument("--spine", type=float, default=30, metavar="MM", help="脊背宽度（毫米，默认 30）")
    p = add("recall-drill", cmd_recall_drill, "召回演练：从一个批号正向追溯，计时，写出演练报告 drill.pdf 和可排序表格 drill.xlsx，并记入内部审核记录")
    p.add_argument("number", metavar="NUMBER", help="批号、商品批号、供应商批号或销售单号")
    p.add_argument("--out", required=True, metavar="DIR", help="输出文件夹（不存在则新建）")
    p = add("export-epcis", cmd_export_epcis, "把一段时间内的收货、生产、包装、检验、放行、发货、召回和销毁导出为 GS1 EPCIS 2.0 文档（JSON-LD）",
            "标识与事件的对应关系见 docs/epcis.md")
    p.add_argument("--from", dest="first", required=True, metavar="DATE", help="开始日期（YYYY-MM-DD，含）")
    p.add_argument("--to", dest="last", required=True, metavar="DATE", help="结束日期（YYYY-MM-DD，含）")
    p.add_argument("--out", required=True, metavar="FILE.jsonld", help="输出文件")
    p = add("evaluation-report", cmd_evaluation_report,
            "一段期间的食品安全管理评价报告（PDF：合格率、关键控制点偏离、供应商表现、召回、档案完整性、上传积压的图表和数据）",
            "报告同时作为附件归入该期间最后一个月的安全管理档案（已封卷的档案不再归入）。")
    p.add_argument("--from", dest="first", required=True, metavar="DATE", help="开始日期（YYYY-MM-DD，含）")
    p.add_argument("--to", dest="last", required=True, metavar="DATE", help="结束日期（YYYY-MM-DD，含）")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="输出文件")
    p = add("export-pages", cmd_export_pages, "为每个已放行的商品批次生成标签二维码指向的批次信息网页（静态网站，可放到任何网站空间）",
            "页面路径与 GS1 数字链接一致：01/<商品条码>/10/<批号>/index.html；说明见 docs/batch-pages.md")
    p.add_argument("--out", required=True, metavar="DIR", help="输出文件夹（不存在则新建；只覆盖本程序生成的文件）")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Every command runs inside one error boundary, the log set-up included:
    a problem the user can act on is one Chinese line and exit 1, a bug is
    one line pointing at the log and exit 2; never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args.func = cmd_gui
    try:
        from app import log as app_log

        app_log.setup()
        return args.func(args)
    except KeyboardInterrupt:
        print("已取消", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `foodarchive trace … | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 — the boundary: classify, say one line
        return _report(exc, args)


def _report(exc: BaseException, args) -> int:
    from app import log as app_log
    from app.problems import explain

    message = explain(exc, getattr(args, "database_url", None))
    if message is not None:
        log.info("%s: %s", args.command, message, exc_info=not isinstance(exc, UserError))
        print(f"错误：{message}", file=sys.stderr)
        return 1
    log.exception("unexpected error in %s", args.command)
    print(f"内部错误（{type(exc).__name__}）：这是程序的缺陷，操作没有完成。详情见{app_log.where()}，"
          "请把它发给技术支持。", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
