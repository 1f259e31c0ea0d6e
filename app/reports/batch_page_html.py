"""The HTML of the batch pages: Chinese, readable on a phone (one column,
large type, no horizontal scrolling at 390 px), self-contained (the style is
inline: no fonts, scripts or images from anywhere), every value escaped."""

from __future__ import annotations

import datetime as dt
from html import escape
from itertools import groupby
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from .batch_pages import BatchPage

STYLE = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#f3f5f2;color:#1d2521;font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,Arial,
"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
overflow-wrap:anywhere}
main{max-width:40rem;margin:0 auto;padding:0 0 2rem}
header{background:#2e6b3f;color:#fff;padding:1.25rem 1rem 1rem}
header p{margin:0;opacity:.9;font-size:.9rem}
h1{margin:.25rem 0;font-size:1.5rem;line-height:1.3}
h2{margin:0 0 .5rem;font-size:1.1rem;color:#2e6b3f}
section{background:#fff;margin:.75rem .75rem 0;padding:1rem;border-radius:.5rem}
dl{margin:0;display:grid;grid-template-columns:6.5em 1fr;gap:.35rem .75rem}
dt{color:#5b665f}
dd{margin:0}
ul{list-style:none;margin:0;padding:0}
li{padding:.6rem 0;border-top:1px solid #e4e8e3}
li:first-child{border-top:0;padding-top:0}
.note{color:#5b665f;font-size:.9rem}
.pass{color:#1f7a3a;font-weight:bold}
.fail{color:#b00020;font-weight:bold}
.verdict{font-size:1.15rem;margin:0 0 .5rem}
.recall{background:#fdecea;color:#8a1020;border:2px solid #b00020}
.recall h2{color:#b00020}
a{color:#1f5fa8}
footer{margin:1rem;color:#5b665f;font-size:.8rem}
""".replace("\n", "")


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="format-detection" content="telephone=no">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _rows(pairs: list[tuple[str, object]]) -> str:
    return "".join(f"<dt>{_e(label)}</dt><dd>{value}</dd>" for label, value in pairs if value not in ("", None))


def _verdict(text: str) -> str:
    kind = "pass" if text in ("合格", "符合") else "fail"
    return f'<span class="{kind}">{_e(text)}</span>'


def batch_page(page: BatchPage) -> str:
    shelf = f"{page.shelf_life_days} 天" if page.shelf_life_days else ""
    product = _rows([
        ("产品名称", _e(page.product)), ("规格", _e(page.spec)), ("品牌", _e(page.brand)), ("批号", _e(page.lot_code)),
        ("生产日期", _e(_date(page.production_date))), ("保质期", _e(shelf)),
        ("保质期至", _e(_date(page.expiry_date)) if page.expiry_date else ""), ("贮存条件", _e(page.storage)),
        ("执行标准", _e(page.standard)), ("配料", _e(page.ingredients_text)),
    ])
    ingredients = "".join(
        f'<li><b>{_e(i.material)}</b>　<span class="note">'
        + "，".join(filter(None, [_e(i.category) if i.category != i.material else "",
                                  f"{_e(_date(i.production_date))}生产" if i.production_date else ""]))
        + f"</span><br>{_e(i.source)}</li>"
        for i in page.ingredients
    ) or '<li class="note">未记录原辅料批次</li>'
    if page.conclusion:
        items = "".join(
            f"<li><b>{_e(i.item)}</b>　{_verdict(i.verdict)}<br>"
            f'<span class="note">要求：{_e(i.requirement or "—")}；结果：{_e(i.result)}</span></li>'
            for i in page.items)
        inspection = (
            f'<p class="verdict">检验结论：{_verdict(page.conclusion)}</p>'
            f'<p class="note">检验日期 {_e(_date(page.inspected_on))}'
            + (f"　标签审核 {_e(page.label_check)}" if page.label_check else "") + "</p>"
            + (f"<ul>{items}</ul>" if items else "")
        )
    else:
        inspection = '<p class="note">没有出厂检验记录</p>'
    phone = f'<a href="tel:{_e(page.phone.replace(" ", ""))}">{_e(page.phone)}</a>' if page.phone else ""
    enterprise = _rows([("企业名称", _e(page.enterprise)), ("生产许可证", _e(page.licence_no)), ("地址", _e(page.address)),
                        ("电话", phone)])
    recall = (
        '<section class="recall"><h2>本批次产品已召回</h2>'
        "<p>生产企业已召回本批次产品。请勿食用，并与购买处或生产企业联系退货。</p></section>"
    ) if page.recalled else ""
    body = (
        f"<header><p>{_e(page.enterprise)}</p><h1>{_e(page.product)}</h1>"
        f"<p>{_e(page.spec)}　批号 {_e(page.lot_code)}</p></header>\n"
        f"{recall}"
        f'<section><h2>产品信息</h2><dl>{product}</dl></section>\n'
        f"<section><h2>原辅料来源</h2><ul>{ingredients}</ul></section>\n"
        f"<section><h2>出厂检验</h2>{inspection}</section>\n"
        f"<section><h2>生产企业</h2><dl>{enterprise}</dl></section>\n"
        f"<footer>本页信息取自生产企业的食品质量技术档案（一品一批一建档），"
        f"生成于 {_e(_date(page.generated_on))}；如有出入，以企业档案原件为准。</footer>"
    )
    return _document(f"{page.product} {page.lot_code} 追溯信息", body)


def href(page: BatchPage) -> str:
    """The page's folder as a link relative to the site's root."""
    return "/".join(quote(part, safe="") for part in page.path.split("/")) + "/"


def index_page(enterprise: str, licence_no: str, pages: list[BatchPage], today: dt.date) -> str:
    groups = []
    for product, of_product in groupby(sorted(pages, key=lambda p: (p.product, p.spec)), key=lambda p: p.product):
        links = "".join(
            f'<li><a href="{_e(href(p))}">批号 {_e(p.lot_code)}</a><br><span class="note">{_e(p.spec)}，'
            f"生产日期 {_e(_date(p.production_date))}</span>"
            + ('　<span class="fail">已召回</span>' if p.recalled else "") + "</li>"
            for p in sorted(of_product, key=lambda p: (p.production_date, p.lot_code), reverse=True))
        groups.append(f"<section><h2>{_e(product)}</h2><ul>{links}</ul></section>")
    body = (
        f"<header><p>生产许可证 {_e(licence_no)}</p><h1>{_e(enterprise)}</h1><p>产品批次追溯信息</p></header>\n"
        + ("\n".join(groups) or '<section><p class="note">还没有放行的批次</p></section>')
        + f"\n<footer>共 {len(pages)} 个批次；生成于 {_e(_date(today))}。扫描包装上的二维码可直接打开对应批次。</footer>"
    )
    return _document(f"{enterprise} 产品批次追溯信息", body)
