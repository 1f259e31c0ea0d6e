"""What the commands print besides their result: a progress line for long
work, and the demo's "try these next" (app/cli.py keeps the parser)."""

from __future__ import annotations

import shlex
import sys
import unicodedata


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class ProgressLine:
    """A ``(done, total, text)`` callback. At a terminal one line is rewritten
    in place; into a file or a scheduled task's log, a line every tenth."""

    def __init__(self, title: str, stream=None):
        self.title = title
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(self.stream) and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.shown = -1  # the last tenth printed (not at a terminal)
        self.drawn = 0  # width of the line on the terminal

    def __call__(self, done: int, total: int, text: str = "") -> None:
        if not self.stream:
            return
        percent = 100 * done // total if total else 100
        line = f"{self.title}：{percent:3d}%" + (f"  {text}" if text else "")
        if self.live:
            self._draw(line)
        elif percent // 10 > self.shown:
            self.shown = percent // 10
            print(line, file=self.stream, flush=True)

    def say(self, text: str) -> None:
        """A step after the counted ones (saving, for example)."""
        if not self.stream:
            return
        line = f"{self.title}：{text}"
        if self.live:
            self._draw(line)
        else:
            print(line, file=self.stream, flush=True)

    def finish(self) -> None:
        if self.stream and self.live and self.drawn:
            print(file=self.stream, flush=True)
            self.drawn = 0

    def _draw(self, line: str) -> None:
        width = _width(line)
        print("\r" + line + " " * max(0, self.drawn - width), end="", file=self.stream, flush=True)
        self.drawn = width


def command(db: str | None, *words: str) -> str:
    """A command line the user can paste, with the same ``--db`` they gave."""
    parts = ["foodarchive"] + (["--db", db] if db else []) + list(words)
    return " ".join(shlex.quote(part) if part and not part.startswith("<") else part for part in parts)


def demo_hints(db: str | None, examples) -> list[str]:
    """The end of ``foodarchive demo``: numbers to try, as commands to paste
    (``examples`` is ``app.services.demo.Examples``)."""
    lines = ["", "可以试试（复制下面的命令）："]
    if examples.soybean_lot:
        lines += [f"  大豆批次 {examples.soybean_lot} 用在了哪些产品、卖给了谁（正向追溯）：",
                  "    " + command(db, "trace", "forward", examples.soybean_lot)]
    if examples.product_batch:
        lines += [f"  产品批 {examples.product_batch} 用了哪些原料、来自哪些供应商（反向追溯）：",
                  "    " + command(db, "trace", "backward", examples.product_batch)]
    if examples.commodity_lot:
        lines += [f"  商品批次 {examples.commodity_lot} 的标签（GS1-128 条码和二维码）：",
                  "    " + command(db, "print-label", "batch", examples.commodity_lot, "--out", "label.pdf")]
    if examples.archive_no:
        lines += [f"  档案 {examples.archive_no} 打印成案卷：",
                  "    " + command(db, "print-volume", examples.archive_no, "--out", "volume.pdf")]
    lines += ["  校验审计日志和全部记录：", "    " + command(db, "verify"),
              "  打开桌面程序：", "    " + command(db)]
    if examples.users:
        lines += ["", "演示用户（登录窗口中使用）："]
        lines += [f"  {name}（{post}）" for name, post in examples.users]
        if examples.password:
            lines.append(f"  密码都是：{examples.password}")
    else:
        lines += ["", "演示工厂还没有登录用户：第一次打开窗口时，先创建系统管理员。"]
    return lines
