"""The pages behind the batch label's QR code (一批一码, S§5(2)): a static site
in which each released commodity batch has a page at the path its GS1 Digital
Link names — ``<resolver>/01/<GTIN-14>/10/<lot>`` is ``01/<GTIN-14>/10/<lot>/index.html``
of the site — and an index. Plain files any web host serves; no server code.

What a page shows is what the Shanghai QR guidance's four groups ask
(standards.md): the enterprise (name, licence, address, telephone), the raw
materials and additives (each lot's source), the product (name, spec,
standard, ingredients, production and expiry date, storage) and the release
inspection (items and conclusion). Nothing internal: no staff names, no
customers, no internal lot, batch or report numbers, no database ids.
A recalled batch says so at the top.

Qt-free; the HTML is in ``batch_page_html``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.errors import UserError
from app.ledgers.choices import MATERIAL_CATEGORY, STORAGE_CONDITION
from app.models import CommodityBatch, Enterprise, Inspection, MaterialLot, ProductBatch, Supplier
from app.services import common, settings, trace, users

from . import batch_page_html as html
from .codes import digital_link, gtin14
from .epcis_ids import CANONICAL_RESOLVER

Report = Callable[[int, int, str], None]

# Characters a lot code may not have to be a folder on Windows and Linux web
# hosts alike (a "/" would also split the URL path).
UNSAFE_IN_PATH = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
REGION = re.compile(r"^(?P<province>.+?(?:省|自治区))?(?P<city>.+?(?:自治州|地区|盟|市))?(?P<county>.+?(?:区|县|市|旗))?")
VERDICT = {"pass": "合格", "fail": "不合格"}


@dataclass(frozen=True)
class Ingredient:
    material: str
    category: str
    source: str  # the supplier and where it is, e.g. 某某公司（黑龙江省黑河市）
    production_date: dt.date | None


@dataclass(frozen=True)
class TestItem:
    item: str
    requirement: str
    result: str
    verdict: str


@dataclass(frozen=True)
class BatchPage:
    """Everything one page shows: public information only."""

    url: str
    path: str  # inside the site, with "/" separators
    enterprise: str
    licence_no: str
    address: str
    phone: str
    product: str
    spec: str
    brand: str
    standard: str
    ingredients_text: str
    lot_code: str
    production_date: dt.date
    expiry_date: dt.date | None
    shelf_life_days: int | None
    storage: str
    ingredients: tuple[Ingredient, ...]
    inspected_on: dt.date | None
    conclusion: str
    label_check: str
    items: tuple[TestItem, ...]
    recalled: bool
    generated_on: dt.date


@dataclass
class Site:
    folder: str
    resolver: str
    pages: list[BatchPage] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def region(address: str | None) -> str:
    """The province and city of an address (上海市闵行区 for a municipality)."""
    match = REGION.match(address or "")
    if not match or not (match["province"] or match["city"]):
        return ""
    if match["province"]:
        return match["province"] + (match["city"] or "")
    return match["city"] + (match["county"] or "")


def _source(supplier: Supplier) -> str:
    where = region(supplier.address)
    return f"{supplier.name}（{where}）" if where else supplier.name


def site_path(gtin: str, lot_code: str) -> str | None:
    """The page's folder in the site, or None when the lot code cannot be a folder name."""
    if UNSAFE_IN_PATH.search(lot_code) or lot_code.strip(" .") == "" or lot_code != lot_code.strip():
        return None
    return f"01/{gtin14(gtin)}/10/{lot_code}"


def _ingredients(session: Session, lot_code: str) -> tuple[Ingredient, ...]:
    """The material lots that went into the commodity lot, through every
    intermediate batch: the most used first, additives last, packaging not at all."""
    traced = trace.trace(session, lot_code, "backward")
    used = {e["id"]: e["quantity_fed_into"] for e in traced.material_lots}
    lots = session.scalars(select(MaterialLot).where(MaterialLot.id.in_(list(used)))
                           .options(selectinload(MaterialLot.material), selectinload(MaterialLot.supplier))).all()
    lots = sorted((lot for lot in lots if lot.material.category != "packaging"),
                  key=lambda lot: (lot.material.category == "additive", -used[lot.id], lot.material.name, lot.lot_no))
    return tuple(Ingredient(lot.material.name, MATERIAL_CATEGORY.get(lot.material.category, ""), _source(lot.supplier),
                            lot.production_date) for lot in lots)


def _release_inspection(session: Session, commodity: CommodityBatch) -> Inspection | None:
    return session.scalars(
        select(Inspection).where(Inspection.commodity_batch_id == commodity.id, Inspection.kind == "release")
        .options(selectinload(Inspection.items)).order_by(Inspection.sampled_at.desc(), Inspection.id.desc())
    ).first()


def batch_page(session: Session, commodity: CommodityBatch, resolver: str, enterprise: Enterprise) -> BatchPage:
    batch: ProductBatch = commodity.product_batch
    product, spec = batch.product, commodity.spec
    inspection = _release_inspection(session, commodity)
    storage = STORAGE_CONDITION.get(product.storage_condition, "")
    if product.storage_range:
        storage = f"{storage}（{product.storage_range}）" if storage else product.storage_range
    if inspection is None or inspection.label_check_passed is None:
        label_check = ""
    else:
        label_check = "符合" if inspection.label_check_passed else "不符合"
    return BatchPage(
        url=digital_link(resolver, spec.gtin, commodity.lot_code, commodity.production_date, commodity.expiry_date),
        path=site_path(spec.gtin, commodity.lot_code) or "",
        enterprise=enterprise.name, licence_no=enterprise.licence_no, address=enterprise.address,
        phone=enterprise.phone or "",
        product=product.name, spec=spec.spec, brand=commodity.brand or product.brand or "",
        standard=product.standard or "", ingredients_text=product.ingredients or "",
        lot_code=commodity.lot_code, production_date=commodity.production_date, expiry_date=commodity.expiry_date,
        shelf_life_days=product.shelf_life_days, storage=storage,
        ingredients=_ingredients(session, commodity.lot_code),
        inspected_on=inspection.sampled_at.date() if inspection else None,
        conclusion=VERDICT.get(inspection.conclusion, "") if inspection else "",
        label_check=label_check,
        items=tuple(TestItem(i.item, i.requirement or "", i.result, VERDICT.get(i.verdict, i.verdict))
                    for i in inspection.items) if inspection else (),
        recalled=commodity.status in ("recalled", "destroyed") or batch.status in ("recalled", "destroyed"),
        generated_on=common.today(session),
    )


def _write(path: Path, text: str) -> None:
    """Whole files only: a page is replaced when complete (a host may be serving it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def released_batches(session: Session) -> list[CommodityBatch]:
    """Every commodity batch that was ever released, recalled ones included."""
    return session.scalars(
        select(CommodityBatch).where(CommodityBatch.released_at.is_not(None))
        .options(selectinload(CommodityBatch.spec), selectinload(CommodityBatch.product_batch)
                 .selectinload(ProductBatch.product))
        .order_by(CommodityBatch.production_date, CommodityBatch.lot_code)
    ).all()


def export_pages(session: Session, folder: str | os.PathLike, report: Report | None = None) -> Site:
    """Write the site into ``folder`` (made if missing); files of ours are
    replaced, nothing else in the folder is touched."""
    users.require(session, "export")
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise UserError(f"「{target}」是一个文件，不是文件夹")
    if not target.parent.is_dir():
        raise UserError(f"保存位置「{target.parent}」不存在")
    enterprise = session.scalar(select(Enterprise).limit(1))
    if enterprise is None:
        raise UserError("还没有填写企业信息，无法生成批次页面")
    resolver = settings.get(session, "digital_link_resolver").rstrip("/")
    site = Site(str(target), resolver)
    if urlsplit(resolver).netloc == urlsplit(CANONICAL_RESOLVER).netloc:
        site.warnings.append(
            f"标签二维码目前指向 GS1 全球解析服务（{resolver}），它不会显示这些页面：请把页面放到企业自己的网站上，"
            f"并把设置「{settings.LABELS['digital_link_resolver']}」改为该网站的地址，再重新打印标签")
    batches = released_batches(session)
    for done, commodity in enumerate(batches):
        if report:
            report(done, len(batches), commodity.lot_code)
        if not commodity.spec.gtin:
            site.skipped.append(f"商品批次「{commodity.lot_code}」的规格没有商品条码（GTIN），标签上没有二维码")
            continue
        if site_path(commodity.spec.gtin, commodity.lot_code) is None:
            site.skipped.append(f"商品批号「{commodity.lot_code}」含有不能作为网址路径的字符（\\ / : * ? \" < > |）")
            continue
        page = batch_page(session, commodity, resolver, enterprise)
        _write(target.joinpath(*page.path.split("/"), "index.html"), html.batch_page(page))
        site.pages.append(page)
    _write(target / "index.html", html.index_page(enterprise.name, enterprise.licence_no, site.pages, common.today(session)))
    if report:
        report(len(batches), len(batches), "")
    return site
