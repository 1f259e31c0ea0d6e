"""R2.5: inspections with their test items, and retained samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from app.errors import FieldError, ValidationError
from app.ledgers import ledger
from app.models import CommodityBatch, Inspection, InspectionItem, ProductBatch, RetainedSample

from . import archives, users
from .common import actor, create, fail, next_number, submit, today


def inspect(session: Session, values: Mapping[str, object], items: Sequence[Mapping[str, object]]) -> Inspection:
    """Record an inspection report. A failed one marks the batch non-conforming
    and opens its warning archive."""
    users.require(session, "enter", "inspection")
    values = dict(values)
    values.setdefault("report_no", next_number(session, Inspection, "report_no", f"JY{today(session):%Y%m%d}"))
    if not values.get("conclusion"):
        values["conclusion"] = "pass"  # decided by the items below
        derive = True
    else:
        derive = False
    cleaned = ledger("inspection").clean(values)
    item_ledger = ledger("inspection_item")
    if not items:
        raise fail("items", "检验项目", "「检验项目」至少填写一项")
    rows, errors = [], []
    for number, item in enumerate(items, start=1):
        try:
            rows.append(item_ledger.clean(dict(item, inspection_id=0)))
        except ValidationError as exc:
            errors += [FieldError(e.field, e.label, f"第 {number} 项检验项目：{e.message}") for e in exc.errors]
    if errors:
        raise ValidationError(errors)
    failed = [row["item"] for row in rows if row["verdict"] == "fail"]
    if derive:
        cleaned["conclusion"] = "fail" if failed else "pass"
    elif cleaned["conclusion"] == "pass" and failed:
        raise fail("conclusion", "检验结论", f"「检验结论」为合格，但检验项目「{'、'.join(failed)}」不合格")
    _check_subject(session, cleaned)
    inspection = Inspection(**cleaned, created_by=actor(session))
    session.add(inspection)
    session.flush()
    for row in rows:
        session.add(InspectionItem(**dict(row, inspection_id=inspection.id)))
    session.flush()
    session.refresh(inspection, ["items"])
    submit(session, inspection)
    _file(session, inspection)
    return inspection


def _check_subject(session: Session, cleaned: dict) -> None:
    kind = cleaned["kind"]
    if kind == "release":
        if not cleaned.get("commodity_batch_id"):
            raise fail("commodity_batch_id", "商品批次", "出厂检验须指明「商品批次」")
        if cleaned.get("label_check_passed") is None:
            raise fail("label_check_passed", "标签符合性查验", "出厂检验须同时完成「标签符合性查验」（G§40）")
        commodity = session.get(CommodityBatch, cleaned["commodity_batch_id"])
        cleaned["batch_id"] = commodity.product_batch_id
    elif kind in ("in_process", "semi_finished", "finished") and not cleaned.get("batch_id"):
        raise fail("batch_id", "产品批号", "过程、半成品和成品检验须指明「产品批号」")
    elif kind == "incoming" and not cleaned.get("receipt_id"):
        raise fail("receipt_id", "进货查验记录", "进货检验须指明「进货查验记录」")


def _file(session: Session, inspection: Inspection) -> None:
    batch = session.get(ProductBatch, inspection.batch_id) if inspection.batch_id else None
    failed = inspection.conclusion == "fail"
    # A sealed archive takes no new material; a failed inspection of a sealed
    # batch is still recorded: it goes to the batch's warning archive alone.
    if inspection.commodity_batch_id:
        commodity = session.get(CommodityBatch, inspection.commodity_batch_id)
        if not (failed and _sealed(archives.commodity_archive(session, commodity))):
            archives.file_commodity_batch(session, commodity)
    elif batch is not None:
        if not (failed and _sealed(archives.product_archive(session, batch))):
            archives.file_product_batch(session, batch)
    if batch is not None and failed:
        batch.status = "nonconforming"
        session.flush()
        archives.file_warning(session, batch)


def _sealed(archive) -> bool:
    return archive is not None and archive.status == "sealed"


def keep_sample(session: Session, values: Mapping[str, object]) -> RetainedSample:
    cleaned = ledger("retained_sample").clean(dict(values))
    batch = session.get(ProductBatch, cleaned["batch_id"])
    if cleaned["kept_on"] < cleaned["production_date"]:
        raise fail("kept_on", "留样日期", "「留样日期」不能早于生产日期")
    if cleaned["disposal_date"] < cleaned["kept_on"]:
        raise fail("disposal_date", "处理日期", "「处理日期」不能早于留样日期")
    if batch is not None and batch.expiry_date and cleaned["disposal_date"] < batch.expiry_date:
        raise fail("disposal_date", "处理日期", f"留样须保存到保质期满（{batch.expiry_date}）之后")
    sample = create(session, "retained_sample", cleaned)
    if batch is not None:
        archives.file_product_batch(session, batch)
    return sample
