"""R2.5: inspections with their test items, the test-item standards they are
prefilled from, and retained samples (G§34–40).

An inspection is saved whole — sampling slip, items, conclusion, and the
retained sample when one is kept — or not at all. An item with a limit in
its standard is judged here, whatever the caller says; the conclusion
follows the items. A failed semi-finished, finished or release inspection
holds its batch (``holds``) and opens its warning archive; a failed incoming
inspection stops its material lot from being issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import FieldError, ValidationError
from app.ledgers import ledger
from app.ledgers.choices import INSPECTION_KIND
from app.models import (
    CommodityBatch,
    IncomingInspection,
    Inspection,
    InspectionItem,
    InspectionStandard,
    Material,
    MaterialLot,
    Person,
    ProductBatch,
    RetainedSample,
)

from . import archives, limits, users
from .common import actor, create, fail, next_number, now, submit, today
from .limits import Limit

# Failing these holds the product batch (G§38–40, G§43).
HOLDING_KINDS = ("semi_finished", "finished", "release")
BATCH_KINDS = ("in_process", "semi_finished", "finished")
# What the sampling slip must say, per kind, beyond the subject (G§35–39).
SLIP_NEEDS = {
    "incoming": ("sample_base", "sampling_method", "sample_quantity"),  # G§35(2)
    "in_process": ("process_step", "control_measures", "proficiency_evidence"),  # G§36(1)–(3)
    "water": ("sampling_place", "sample_quantity"),  # G§37(1)
    "finished": ("sample_quantity", "sampling_method"),  # G§39(1)
}
LIMIT_FIELDS = ("limit_min", "limit_max", "unit", "expected")


# ----------------------------------------------------------------- standards


@dataclass(frozen=True)
class StandardItem:
    """One test item of a standard, as the entry screen prefills it."""

    id: int
    item: str
    method: str
    requirement: str
    limit: Limit
    basis: str

    def as_item(self) -> dict[str, object]:
        """The values of an inspection item before its result is typed."""
        return {"item": self.item, "method": self.method or None, "requirement": self.requirement or None,
                "limit_min": self.limit.minimum, "limit_max": self.limit.maximum, "unit": self.limit.unit,
                "expected": self.limit.expected}


def limit_of(values: Mapping[str, object]) -> Limit:
    return Limit(values.get("limit_min"), values.get("limit_max"), values.get("unit") or None,
                 values.get("expected") or None)


def standards_for(session: Session, kind: str, *, product_id: int | None = None,
                  material_id: int | None = None) -> list[StandardItem]:
    """The test items a product (or material) is inspected for in this kind of
    inspection, in their order; the factory-wide water items when neither is named."""
    query = select(InspectionStandard).where(
        InspectionStandard.kind == kind,
        InspectionStandard.product_id.is_(None) if product_id is None else InspectionStandard.product_id == product_id,
        InspectionStandard.material_id.is_(None) if material_id is None else InspectionStandard.material_id == material_id,
    ).order_by(InspectionStandard.seq, InspectionStandard.id)
    found = []
    for row in session.scalars(query):
        limit = limit_of({name: getattr(row, name) for name in LIMIT_FIELDS})
        found.append(StandardItem(row.id, row.item, row.method or "", row.requirement or limit.text(), limit,
                                  row.basis or ""))
    return found


def add_standard(session: Session, values: Mapping[str, object]) -> InspectionStandard:
    """A test item of a product's or material's standard (master data)."""
    users.require(session, "enter", "inspection_standard")
    declaration = ledger("inspection_standard")
    values = dict(values)
    if values.get("seq") in (None, ""):
        converted = {name: _convert(declaration, name, values.get(name)) for name in ("product_id", "material_id", "kind")}
        values["seq"] = 1 + (session.scalar(
            select(func.max(InspectionStandard.seq)).where(
                InspectionStandard.kind == converted["kind"],
                _same(InspectionStandard.product_id, converted["product_id"]),
                _same(InspectionStandard.material_id, converted["material_id"]),
            )) or 0)
    cleaned = declaration.clean(values)
    check_standard(session, cleaned)
    return create(session, "inspection_standard", cleaned)


def _convert(declaration, name: str, raw: object):
    try:
        return declaration.field(name).convert(raw)
    except ValueError:
        return None  # clean() reports it


def _same(column, value):
    return column.is_(None) if value is None else column == value


def check_standard(session: Session, values: Mapping[str, object], exclude_id: int | None = None) -> None:
    """The rules of a standard row: one subject (water may have none), a
    sensible limit, one row per item and kind of a subject."""
    errors = []
    product_id, material_id, kind = values.get("product_id"), values.get("material_id"), values.get("kind")
    if product_id is not None and material_id is not None:
        errors.append(FieldError("material_id", "物料名称", "「产品名称」与「物料名称」只能填写一个：项目标准属于一个产品或一种物料"))
    elif product_id is None and material_id is None and kind != "water":
        errors.append(FieldError("product_id", "产品名称", "请填写「产品名称」或「物料名称」：项目标准属于一个产品或一种物料"))
    if kind == "incoming" and product_id is not None:
        errors.append(FieldError("kind", "检验类别", "进货检验的项目标准属于物料，不属于产品"))
    if kind in ("in_process", "semi_finished", "finished", "release") and material_id is not None:
        errors.append(FieldError("kind", "检验类别", f"{INSPECTION_KIND[kind]}的项目标准属于产品，不属于物料"))
    reason = limits.problem(limit_of(values))
    if reason:
        errors.append(FieldError("expected" if "规定结果" in reason else "limit_min", "下限", reason))
    if not values.get("requirement") and not limit_of(values).checkable:
        errors.append(FieldError("requirement", "标准要求", "「标准要求」不能为空：没有上下限或规定结果时须写明要求"))
    item = (values.get("item") or "").strip()
    duplicate = select(InspectionStandard.id).where(
        InspectionStandard.kind == kind, InspectionStandard.item == item,
        _same(InspectionStandard.product_id, product_id), _same(InspectionStandard.material_id, material_id),
    )
    if exclude_id is not None:
        duplicate = duplicate.where(InspectionStandard.id != exclude_id)
    if item and session.scalar(duplicate.limit(1)) is not None:
        errors.append(FieldError("item", "检测项目", f"「检测项目」{item} 已在同一产品（物料）的{INSPECTION_KIND.get(kind, kind)}标准中"))
    if errors:
        raise ValidationError(errors)


# ------------------------------------------------------------------ judging


def judge_items(items: Sequence[Mapping[str, object]]) -> list[dict]:
    """The items as stored: converted, every checkable one judged against its
    limit (a contrary verdict is refused), the rest judged by the inspector."""
    declaration = ledger("inspection_item")
    verdict_field = declaration.field("verdict")
    rows, errors = [], []
    for number, item in enumerate(items, start=1):
        raw = dict(item, inspection_id=0)
        name = str(raw.get("item") or "").strip() or f"第 {number} 项"
        where = f"第 {number} 项检验项目「{name}」" if raw.get("item") else f"第 {number} 项检验项目"
        try:
            limit = limit_of({n: declaration.field(n).convert(raw.get(n)) for n in LIMIT_FIELDS})
        except ValueError as exc:
            errors.append(FieldError("items", "检验项目", f"{where}：判定限量{exc}"))
            continue
        reason = limits.problem(limit)
        if reason:
            errors.append(FieldError("items", "检验项目", f"{where}：{reason}"))
            continue
        if limit.checkable:
            try:
                computed = limits.judge(limit, str(raw.get("result") or ""))
            except ValueError as exc:
                errors.append(FieldError("items", "检测结果", f"{where}：「检测结果」{exc}"))
                continue
            try:
                given = verdict_field.convert(raw.get("verdict"))
            except ValueError:
                given = None
            if given is not None and given != computed:
                errors.append(FieldError("items", "单项判定", f"{where}：按标准要求「{limit.text()}」，结果「{raw.get('result')}」"
                                                          f"应判定为「{verdict_field.display(computed)}」"))
                continue
            raw["verdict"] = computed
            if not raw.get("requirement"):
                raw["requirement"] = limit.text()
        elif raw.get("verdict") in (None, ""):
            errors.append(FieldError("items", "单项判定", f"{where}：没有可自动判定的限量，请选择「单项判定」"))
            continue
        try:
            rows.append(declaration.clean(raw))
        except ValidationError as exc:
            errors += [FieldError(e.field, e.label, f"{where}：{e.message}") for e in exc.errors]
    if errors:
        raise ValidationError(errors)
    return rows


# --------------------------------------------------------------- inspecting


def inspect(
    session: Session, values: Mapping[str, object], items: Sequence[Mapping[str, object]],
    *, sample: Mapping[str, object] | None = None,
) -> Inspection:
    """Record an inspection report with its items (and its retained sample).

    A failed semi-finished, finished or release inspection holds the batch
    and opens its warning archive; a failed incoming inspection stops its lot."""
    users.require(session, "enter", "inspection")
    values = dict(values)
    values.setdefault("report_no", next_number(session, Inspection, "report_no", f"JY{today(session):%Y%m%d}"))
    derive = not values.get("conclusion")
    cleaned = ledger("inspection").clean(dict(values, conclusion=values.get("conclusion") or "pass"))
    if not items:
        raise fail("items", "检验项目", "「检验项目」至少填写一项")
    _check_subject(session, cleaned)
    errors = _slip_errors(session, cleaned)
    try:
        rows = judge_items(items)
    except ValidationError as exc:  # every problem at once: the slip's and the items'
        raise ValidationError(errors + exc.errors) from None
    if errors:
        raise ValidationError(errors)
    failed = [row["item"] for row in rows if row["verdict"] == "fail"]
    if derive:
        cleaned["conclusion"] = "fail" if failed else "pass"
    elif cleaned["conclusion"] == "pass" and failed:
        raise fail("conclusion", "检验结论", f"「检验结论」为合格，但检验项目「{'、'.join(failed)}」不合格")
    if sample is not None:  # checked before anything is written
        if cleaned.get("batch_id") is None:
            raise fail("sample", "留样", "留样须对应一个产品批：进货检验和生产用水检验不在此留样")
        sample = _sample_values(session, dict(sample, batch_id=cleaned["batch_id"]))
    inspection = Inspection(**cleaned, created_by=actor(session))
    session.add(inspection)
    session.flush()
    for row in rows:
        session.add(InspectionItem(**dict(row, inspection_id=inspection.id)))
    session.flush()
    session.refresh(inspection, ["items"])
    submit(session, inspection)
    if sample is not None:
        create(session, "retained_sample", sample)
    _file(session, inspection, sample_kept=sample is not None)
    return inspection


def _check_subject(session: Session, cleaned: dict) -> None:
    """What was sampled, by kind; fills in the batch of a commodity batch, the
    material of a receipt and the spec when the subject says it."""
    kind = cleaned["kind"]
    if kind == "release":
        commodity = _get(session, CommodityBatch, cleaned.get("commodity_batch_id"), "commodity_batch_id", "商品批号",
                         "出厂检验须指明「商品批号」")
        if cleaned.get("label_check_passed") is None:
            raise fail("label_check_passed", "标签符合性查验", "出厂检验须同时完成「标签符合性查验」（G§40）")
        cleaned["batch_id"] = commodity.product_batch_id
        cleaned["spec"] = cleaned.get("spec") or commodity.spec.spec
    elif kind in BATCH_KINDS:
        batch = _get(session, ProductBatch, cleaned.get("batch_id"), "batch_id", "生产批号",
                     "过程、半成品和成品检验须指明「生产批号」")
        if kind != "in_process" and batch.status == "open":
            raise fail("batch_id", "生产批号", f"产品批「{batch.batch_no}」尚未完工：{INSPECTION_KIND[kind]}在完成生产工序后进行"
                                           "（G§38、G§39）；生产过程中的检验请选「过程控制检验」")
        if kind in ("semi_finished", "finished") and not cleaned.get("spec"):
            specs = batch.product.specs
            cleaned["spec"] = specs[0].spec if len(specs) == 1 else None
    elif kind == "incoming":
        receipt = _get(session, IncomingInspection, cleaned.get("receipt_id"), "receipt_id", "进货查验单号",
                       "进货检验须指明「进货查验单号」")
        cleaned["material_id"] = receipt.material_id
        cleaned["spec"] = cleaned.get("spec") or receipt.spec
    elif kind == "water" and cleaned.get("material_id") is not None:
        _get(session, Material, cleaned["material_id"], "material_id", "物料名称", "")
    # What belongs to another kind is not kept (a screen left it filled in).
    if kind != "release":
        cleaned["commodity_batch_id"] = cleaned["label_check_passed"] = cleaned["label_check_notes"] = None
    if kind != "incoming":
        cleaned["receipt_id"] = None
    if kind not in ("incoming", "water"):
        cleaned["material_id"] = None
    if kind == "water" and cleaned.get("batch_id") is not None:
        _get(session, ProductBatch, cleaned["batch_id"], "batch_id", "生产批号", "")


def _get(session: Session, model: type, row_id, field: str, label: str, missing: str):
    if row_id is None:
        raise fail(field, label, missing)
    found = session.get(model, row_id)
    if found is None:
        raise fail(field, label, f"「{label}」不存在")
    return found


def _slip_errors(session: Session, cleaned: dict) -> list[FieldError]:
    """What the sampling slip must record, who did it, and when."""
    kind = cleaned["kind"]
    spec = ledger("inspection")
    errors = [
        FieldError(name, spec.field(name).label,
                   f"{INSPECTION_KIND[kind]}须填写「{spec.field(name).label}」")
        for name in SLIP_NEEDS.get(kind, ()) if not cleaned.get(name)
    ]
    inspector, reviewer = cleaned.get("inspector_id"), cleaned.get("reviewer_id")
    for name, person_id in (("inspector_id", inspector), ("reviewer_id", reviewer)):
        if person_id is not None and session.get(Person, person_id) is None:
            errors.append(FieldError(name, spec.field(name).label, f"「{spec.field(name).label}」不存在"))
    if reviewer is None:
        errors.append(FieldError("reviewer_id", "复核人", "「复核人」不能为空：检验报告须由检验员以外的人复核"))
    elif reviewer == inspector:
        errors.append(FieldError("reviewer_id", "复核人", "「复核人」不能与「检验员」是同一人"))
    return errors + _date_errors(session, cleaned)


def _date_errors(session: Session, cleaned: dict) -> list[FieldError]:
    sampled = cleaned["sampled_at"]
    label = "取样时间"
    if sampled > now(session) + dt.timedelta(minutes=5):  # a PC clock a little ahead is no error
        return [FieldError("sampled_at", label, "「取样时间」不能晚于现在")]
    if cleaned.get("receipt_id") is not None:
        receipt = session.get(IncomingInspection, cleaned["receipt_id"])
        if sampled.date() < receipt.receipt_date:
            return [FieldError("sampled_at", label, f"「取样时间」不能早于进货日期 {receipt.receipt_date}")]
    if cleaned.get("batch_id") is not None:
        batch = session.get(ProductBatch, cleaned["batch_id"])
        if sampled.date() < batch.production_date:
            return [FieldError("sampled_at", label, f"「取样时间」不能早于产品批「{batch.batch_no}」的生产日期 {batch.production_date}")]
    return []


def _file(session: Session, inspection: Inspection, *, sample_kept: bool) -> None:
    batch = session.get(ProductBatch, inspection.batch_id) if inspection.batch_id else None
    failed = inspection.conclusion == "fail"
    # A sealed archive takes no new material; a failed inspection of a sealed
    # batch is still recorded: it goes to the batch's warning archive alone.
    if inspection.commodity_batch_id:
        commodity = session.get(CommodityBatch, inspection.commodity_batch_id)
        if not (failed and _sealed(archives.commodity_archive(session, commodity))):
            archives.file_commodity_batch(session, commodity)
        if sample_kept and not _sealed(archives.product_archive(session, batch)):
            archives.file_product_batch(session, batch)  # the sample belongs to the product archive
    elif batch is not None:
        if not (failed and _sealed(archives.product_archive(session, batch))):
            archives.file_product_batch(session, batch)
    elif inspection.kind == "water":
        archives.file_safety_month(session, inspection.sampled_at.year, inspection.sampled_at.month)
    if not failed:
        return
    if batch is not None and inspection.kind in HOLDING_KINDS:
        if batch.status in ("open", "completed"):
            batch.status = "nonconforming"
            session.flush()
        archives.file_warning(session, batch)
    if inspection.kind == "incoming":
        lot = session.scalar(select(MaterialLot).where(MaterialLot.receipt_id == inspection.receipt_id))
        if lot is not None and lot.status == "available":
            lot.status = "rejected"  # G§35: material failing its own inspection is not issued
            session.flush()


# --------------------------------------------------------------- retained samples


def _sealed(archive) -> bool:
    return archive is not None and archive.status == "sealed"


def keep_sample(session: Session, values: Mapping[str, object]) -> RetainedSample:
    """留样 (G§39(3)): kept at least until the batch's shelf life has run out."""
    cleaned = _sample_values(session, values)
    sample = create(session, "retained_sample", cleaned)
    archives.file_product_batch(session, session.get(ProductBatch, cleaned["batch_id"]))
    return sample


def _sample_values(session: Session, values: Mapping[str, object]) -> dict:
    users.require(session, "enter", "retained_sample")
    cleaned = ledger("retained_sample").clean(dict(values))
    batch = session.get(ProductBatch, cleaned["batch_id"])
    if batch is None:
        raise fail("batch_id", "生产批号", "「生产批号」不存在")
    if cleaned["kept_on"] < cleaned["production_date"]:
        raise fail("kept_on", "留样日期", "「留样日期」不能早于生产日期")
    if cleaned["disposal_date"] < cleaned["kept_on"]:
        raise fail("disposal_date", "处理日期", "「处理日期」不能早于留样日期")
    if batch.expiry_date and cleaned["disposal_date"] < batch.expiry_date:
        raise fail("disposal_date", "处理日期", f"留样须保存到保质期满（{batch.expiry_date}）之后")
    return cleaned

