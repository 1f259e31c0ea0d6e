"""argparse in Chinese: its usage lines, help headings and error messages
come from ``argparse._`` (gettext), which finds no catalogue and so stays
English inside the Chinese help. ``install`` gives argparse a lookup of its
own messages; a message not listed (another Python version's wording) stays
as argparse wrote it."""

from __future__ import annotations

import argparse

MESSAGES = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "subcommands": "命令",
    "show this help message and exit": "显示这段帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择 %(value)r（可选：%(choices)s）",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "expected one argument": "后面应跟一个值",
    "expected at least one argument": "后面应至少跟一个值",
    "expected at most one argument": "后面最多跟一个值",
    "invalid %(type)s value: %(value)r": "%(value)r 不是有效的值（应为 %(type)s）",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 中必须给出一个",
    "ignored explicit argument %r": "忽略了多余的值 %r",
    "unexpected option string: %s": "意外的选项：%s",
    "can't open '%(filename)s': %(error)s": "无法打开「%(filename)s」：%(error)s",
}


def translate(message: str) -> str:
    return MESSAGES.get(message, message)


def install() -> None:
    argparse._ = translate  # argparse looks its messages up through this module global


def version_help() -> str:
    return "显示版本号并退出"
