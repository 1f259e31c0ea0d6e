"""R2.8, G§43: a recall started from a trace result, its frozen scope, the
progress per customer, destruction and the close with the quality manager's
signature. The warning archive of every recalled batch is kept current.

The scope is frozen when the recall starts: the product batches, commodity
lots, deliveries and customers (with the contacts they had then) and the
quantities shipped, so later sales, returns or edits of a customer do not
change what the recall was about.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import PermissionDenied, UserError
from app.ledgers import ledger
from app.models import (
    CommodityBatch, CorrectiveAction, Delivery, Destruction, Product, ProductBatch, Recall, RecallCustomer,
    RecallProgress, RecallScope,
)

from . import archives, distribution, settings, signatures, trace, users
from .alerts import ALERT, DUE, OVERDUE, TODO, Alert
from .common import actor, create, fail, next_number, now, today



# ------------------------------------------------------------------ levels


def levels(session: Session) -> dict[str, tuple[int, int]]:
    """Level -> (hours to notify every customer, working days to finish), as
    the 食品召回管理办法 sets them unless the factory's setting says otherwise."""
    return {level: (int(hours), int(days)) for level, (hours, days) in settings.get(session, "recall_levels").items()}


def add_working_days(start: dt.date, days: int) -> dt.date:
    """``days`` working days after ``start`` (Saturdays and Sundays skipped;
    public holidays are not known to the program: the deadline can be edited)."""
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def deadlines(session: Session, level: str, started: dt.datetime) -> tuple[dt.datetime, dt.date]:
    table = levels(session)
    if level not in table:
        raise fail("level", "召回级别", f"「召回级别」应为{'、'.join(table)}之一，不是「{level}」")
    hours, days = table[level]
    return started + dt.timedelta(hours=hours), add_working_days(started.date(), days)


# ------------------------------------------------------------------- start


def _recalled_batches(session: Session, result: trace.TraceResult) -> list[dict]:
    """The batches whose goods are on the market or in stock: those of the
    commodity lots in the result (an intermediate batch used up in a later one
    is in the scope, but what is recalled is the later one's goods). A trace
    from a lot or a delivery does not list the batch it was packed from: read it."""
    packed = {c["product_batch_id"] for c in result.commodity_batches}
    known = {b["id"]: b for b in result.product_batches if b["id"] in packed}
    missing = sorted(packed - known.keys())
    if missing:
        for row in session.execute(select(
                ProductBatch.id, ProductBatch.batch_no, Product.name.label("product"), ProductBatch.output_quantity,
                ProductBatch.unit, ProductBatch.quantity_on_hand)
                .join(Product, Product.id == ProductBatch.product_id).where(ProductBatch.id.in_(missing))):
            known[row.id] = dict(row._mapping)
    return sorted(known.values(), key=lambda b: b["batch_no"])


def start(session: Session, number: str, values: Mapping[str, object]) -> Recall:
    """Start a recall of everything a forward trace of ``number`` reaches
    (a material lot, supplier lot, batch, commodity lot or delivery); ``values``
    holds level, reason, source and manager_id."""
    users.require(session, "recall")
    number = (number or "").strip()
    if not number:
        raise fail("query", "追溯起点", "「追溯起点」不能为空：请输入批号、商品批号、供应商批号或销售单号")
    level = str(values.get("level") or "").strip()
    notify_by, finish_by = deadlines(session, level, now(session))
    result = trace.trace(session, number, "forward")
    recalled = _recalled_batches(session, result)
    if not recalled:
        raise fail("query", "追溯起点", f"从「{number}」正向追溯不到已包装的商品批次，没有可召回的产品")
    _refuse_open_recall(session, [b["id"] for b in recalled])
    values = dict(values)
    values.setdefault("recall_no", next_number(session, Recall, "recall_no", f"ZH{today(session):%Y%m%d}"))
    values.setdefault("started_on", today(session))
    record = create(session, "recall", dict(
        values, product_batch_id=recalled[0]["id"], query=number, level=level,
        notify_by=values.get("notify_by") or notify_by, finish_by=values.get("finish_by") or finish_by,
    ), status="open")
    _freeze(session, record, result, recalled)
    session.flush()
    for batch in recalled:
        archives.file_warning(session, session.get(ProductBatch, batch["id"]))
    return record


def _refuse_open_recall(session: Session, batch_ids: list[int]) -> None:
    open_one = session.execute(
        select(Recall.recall_no, ProductBatch.batch_no)
        .join(RecallScope, RecallScope.recall_id == Recall.id)
        .join(ProductBatch, ProductBatch.id == RecallScope.product_batch_id)
        .where(Recall.status == "open", RecallScope.product_batch_id.in_(batch_ids))
    ).first()
    if open_one:
        raise fail("query", "追溯起点", f"产品批「{open_one.batch_no}」已在召回「{open_one.recall_no}」中，不能重复召回")


def _freeze(session: Session, record: Recall, result: trace.TraceResult, recalled: list[dict]) -> None:
    who = actor(session)
    listed = {b["id"] for b in result.product_batches}
    for b in [*result.product_batches, *(b for b in recalled if b["id"] not in listed)]:
        session.add(RecallScope(
            recall_id=record.id, product_batch_id=b["id"], number=b["batch_no"], product=b["product"],
            quantity=b["output_quantity"], unit=b["unit"], in_stock=b["quantity_on_hand"], created_by=who))
    for c in result.commodity_batches:
        session.add(RecallScope(
            recall_id=record.id, product_batch_id=c["product_batch_id"], commodity_batch_id=c["id"],
            number=c["lot_code"], product=f"{c['product']} {c['spec']}", quantity=c["units"], unit="件",
            in_stock=c["units_on_hand"], created_by=who))
    for batch in session.scalars(select(ProductBatch).where(ProductBatch.id.in_([b["id"] for b in recalled]))):
        if batch.status in ("completed", "nonconforming"):
            batch.status = "recalled"
    commodity_ids = [c["id"] for c in result.commodity_batches]
    for commodity in session.scalars(select(CommodityBatch).where(CommodityBatch.id.in_(commodity_ids))):
        if commodity.status != "destroyed":
            commodity.status = "recalled"
    shipped: dict[int, int] = defaultdict(int)
    numbers = [d["delivery_no"] for d in result.deliveries]
    rows = session.execute(select(Delivery.id, Delivery.customer_id, Delivery.units)
                           .where(Delivery.delivery_no.in_(numbers)).order_by(Delivery.id)).all() if numbers else []
    for delivery_id, customer_id, units in rows:
        shipped[customer_id] += units
        session.add(RecallProgress(recall_id=record.id, delivery_id=delivery_id, notified_on=record.started_on,
                                   created_by=who))
    for c in result.customers:
        session.add(RecallCustomer(
            recall_id=record.id, customer_id=c["id"], name=c["name"], contact_person=c.get("contact_person"),
            phone=c.get("phone"), address=c.get("address"), units_shipped=shipped.get(c["id"], 0), created_by=who))


# ----------------------------------------------------------------- progress


def _open(session: Session, recall_id: int) -> Recall:
    record = session.get(Recall, recall_id)
    if record is None:
        raise UserError("召回记录不存在")
    if record.status != "open":
        raise UserError(f"召回「{record.recall_no}」已结束，不能再修改")
    return record


def _customer(session: Session, customer_row_id: int) -> tuple[RecallCustomer, Recall]:
    row = session.get(RecallCustomer, customer_row_id)
    if row is None:
        raise UserError("召回客户记录不存在")
    return row, _open(session, row.recall_id)


def _field(key: str, name: str, raw):
    spec = ledger(key).field(name)
    try:
        return spec.convert(raw)
    except ValueError as exc:
        raise fail(name, spec.label, f"「{spec.label}」{exc}") from None


def notify(session: Session, customer_row_id: int, at, how: str, by: str) -> None:
    """The customer was told (when, how, by whom)."""
    users.require(session, "recall")
    row, record = _customer(session, customer_row_id)
    at = _field("recall_customer", "notified_at", at)
    how, by = (how or "").strip(), (by or "").strip()
    if at is None:
        raise fail("notified_at", "通知时间", "「通知时间」不能为空")
    if at > now(session):
        raise fail("notified_at", "通知时间", "「通知时间」不能晚于现在")
    if at.date() < record.started_on:
        raise fail("notified_at", "通知时间", f"「通知时间」不能早于召回启动日期 {record.started_on}")
    if not how:
        raise fail("notified_how", "通知方式", "「通知方式」不能为空（电话、传真、电子邮件、书面通知……）")
    if not by:
        raise fail("notified_by", "通知人", "「通知人」不能为空")
    row.notified_at, row.notified_how, row.notified_by = at, how[:40], by[:40]
    _refile(session, record)


def confirm(session: Session, customer_row_id: int, on) -> None:
    """The customer confirmed it received the notice."""
    users.require(session, "recall")
    row, record = _customer(session, customer_row_id)
    on = _field("recall_customer", "confirmed_on", on)
    if on is None:
        raise fail("confirmed_on", "客户确认日期", "「客户确认日期」不能为空")
    if row.notified_at is None:
        raise fail("confirmed_on", "客户确认日期", f"客户「{row.name}」尚未通知，不能记录确认")
    if on < row.notified_at.date() or on > today(session):
        raise fail("confirmed_on", "客户确认日期", "「客户确认日期」应在通知日期与今天之间")
    row.confirmed_on = on
    _refile(session, record)


ACCOUNTED = (("units_returned", "退回数量"), ("units_held", "客户仍持有"), ("units_destroyed", "客户自行销毁"))


def account(session: Session, customer_row_id: int, *, returned=0, held=0, destroyed=0,
            on: dt.date | None = None) -> None:
    """What the customer has accounted for so far: returned to the factory,
    still held (isolated) and destroyed by itself — the totals, not additions."""
    users.require(session, "recall")
    row, record = _customer(session, customer_row_id)
    given = {}
    for (name, label), raw in zip(ACCOUNTED, (returned, held, destroyed)):
        value = _field("recall_customer", name, raw if raw not in (None, "") else 0)
        if value < 0:
            raise fail(name, label, f"「{label}」不能为负数")
        given[name] = value
    total = sum(given.values())
    if total > row.units_shipped:
        raise fail("units_returned", "退回数量",
                   f"客户「{row.name}」退回、仍持有和自行销毁合计 {total} 件，超过发给它的 {row.units_shipped} 件")
    destroyed_here = _destroyed_of_returns(session, record)
    lowered = sum(r.units_returned for r in _rows(session, record)) - row.units_returned + given["units_returned"]
    if lowered < destroyed_here:
        raise fail("units_returned", "退回数量", f"退回的商品已销毁 {destroyed_here} 件，退回数量不能少于此数")
    for name, value in given.items():
        setattr(row, name, value)
    _spread_returns(session, record, row, given["units_returned"], on or today(session))
    _refile(session, record)


def _rows(session: Session, record: Recall) -> list[RecallCustomer]:
    return list(session.scalars(select(RecallCustomer).where(RecallCustomer.recall_id == record.id)
                                .order_by(RecallCustomer.name, RecallCustomer.id)))


def _spread_returns(session: Session, record: Recall, row: RecallCustomer, units: int, on: dt.date) -> None:
    """Put a customer's returns on its deliveries, oldest first: a destruction
    counts what came back per commodity lot (a customer with one lot, the usual
    case, gets the exact figure)."""
    lines = session.execute(
        select(RecallProgress, Delivery.units).join(Delivery, Delivery.id == RecallProgress.delivery_id)
        .where(RecallProgress.recall_id == record.id, Delivery.customer_id == row.customer_id)
        .order_by(Delivery.sale_date, Delivery.id)).all()
    for progress, shipped in lines:
        part = min(units, shipped)
        if progress.units_returned != part:
            progress.units_returned = part
            progress.returned_on = on if part else None
        units -= part


def _destroyed_of_returns(session: Session, record: Recall) -> int:
    """Units destroyed beyond what was in stock: they can only be returns."""
    total = 0
    for scope in session.scalars(select(RecallScope).where(
            RecallScope.recall_id == record.id, RecallScope.commodity_batch_id.is_not(None))):
        destroyed = _destroyed(session, scope.commodity_batch_id)
        total += max(0, destroyed - int(scope.in_stock or 0))
    return total


def _destroyed(session: Session, commodity_id: int) -> int:
    return sum(units or 0 for units in session.scalars(
        select(Destruction.units).where(Destruction.commodity_batch_id == commodity_id)))


def _refile(session: Session, record: Recall) -> None:
    session.flush()
    for batch_id in recalled_batch_ids(session, record):
        archives.file_warning(session, session.get(ProductBatch, batch_id))


def recalled_batch_ids(session: Session, record: Recall) -> list[int]:
    """The batches whose goods this recall takes back (with commodity lots in scope)."""
    ids = session.scalars(select(RecallScope.product_batch_id).where(
        RecallScope.recall_id == record.id, RecallScope.commodity_batch_id.is_not(None)).distinct()).all()
    return sorted(set(ids) | {record.product_batch_id})


# ------------------------------------------------------------ effectiveness


@dataclass(frozen=True)
class CustomerProgress:
    id: int
    name: str
    contact_person: str
    phone: str
    address: str
    shipped: int
    notified_at: dt.datetime | None
    notified_how: str
    notified_by: str
    confirmed_on: dt.date | None
    returned: int
    held: int
    destroyed: int
    silent: bool  # not confirmed and past the notice deadline

    @property
    def accounted(self) -> int:
        return self.returned + self.held + self.destroyed

    @property
    def effectiveness(self) -> Decimal | None:
        return _ratio(self.accounted, self.shipped)


def _ratio(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@dataclass(frozen=True)
class Progress:
    recall_id: int
    recall_no: str
    status: str
    level: str
    notify_by: dt.datetime | None
    finish_by: dt.date | None
    customers: list[CustomerProgress]

    @property
    def shipped(self) -> int:
        return sum(c.shipped for c in self.customers)

    @property
    def accounted(self) -> int:
        return sum(c.accounted for c in self.customers)

    @property
    def effectiveness(self) -> Decimal | None:
        return _ratio(self.accounted, self.shipped)

    def unaccounted(self) -> list[CustomerProgress]:
        return [c for c in self.customers if c.accounted < c.shipped or c.notified_at is None]


def progress(session: Session, recall_id: int, at: dt.datetime | None = None) -> Progress:
    record = session.get(Recall, recall_id)
    if record is None:
        raise UserError("召回记录不存在")
    at = at or now(session)
    late = record.notify_by is not None and at > record.notify_by and record.status == "open"
    rows = [CustomerProgress(
        r.id, r.name, r.contact_person or "", r.phone or "", r.address or "", r.units_shipped, r.notified_at,
        r.notified_how or "", r.notified_by or "", r.confirmed_on, r.units_returned, r.units_held, r.units_destroyed,
        silent=late and r.confirmed_on is None,
    ) for r in _rows(session, record)]
    return Progress(record.id, record.recall_no, record.status, record.level or "", record.notify_by,
                    record.finish_by, rows)


# -------------------------------------------------------------- destruction


def destroy(session: Session, recall_id: int, values: Mapping[str, object]) -> Destruction:
    """Destroy returned and in-stock goods of one commodity lot of the recall."""
    users.require(session, "recall")
    record = _open(session, recall_id)
    commodity_id = _field("destruction", "commodity_batch_id", values.get("commodity_batch_id"))
    scope = session.scalar(select(RecallScope).where(
        RecallScope.recall_id == record.id, RecallScope.commodity_batch_id == commodity_id)) if commodity_id else None
    if scope is None:
        raise fail("commodity_batch_id", "商品批号", "请选择本次召回范围内的商品批次")
    commodity = session.get(CommodityBatch, commodity_id)
    return distribution.destroy(session, dict(
        values, recall_id=record.id, product_batch_id=commodity.product_batch_id, commodity_batch_id=commodity.id))


# ------------------------------------------------------------------- close


def close(session: Session, recall_id: int, *, regulator_opinion: str, corrective_measures: str,
          unaccounted_reason: str = "", username: str, password: str, strokes: str | None = None) -> None:
    """Close with the regulator's opinion, the corrective measures and the
    quality manager's signature (批准). Goods not accounted for need a reason.
    Everything is checked before anything is written."""
    users.require(session, "recall")
    record = _open(session, recall_id)
    opinion, reason = (regulator_opinion or "").strip(), (unaccounted_reason or "").strip()
    if not opinion:
        raise fail("regulator_opinion", "监管部门处理意见", "「监管部门处理意见」不能为空（G§43）")
    if not (corrective_measures or "").strip():
        raise fail("corrective_measures", "整改措施", "「整改措施」不能为空（G§43）")
    missing = progress(session, record.id).unaccounted()
    if missing and not reason:
        names = "、".join(f"{c.name}（{'未通知' if c.notified_at is None else f'差 {c.shipped - c.accounted} 件'}）"
                         for c in missing[:5])
        more = f"等 {len(missing)} 家" if len(missing) > 5 else ""
        raise fail("unaccounted_reason", "未能追回部分的说明",
                   f"客户 {names}{more}尚未全部追回或说明去向：请填写「未能追回部分的说明」后再结束召回")
    signer = users.authenticate(session, username, password)
    if "quality_manager" not in users.roles_of(session, signer):
        raise PermissionDenied(f"结束召回须由质量负责人签名；{signer.display_name}不是质量负责人")
    record.unaccounted_reason = reason or None
    record.closed_on = today(session)
    distribution.close_recall(session, record, regulator_opinion=opinion, corrective_measures=corrective_measures)
    signatures.sign(session, record, username, password, "批准", strokes)
    _refile(session, record)


def warning_archives(session: Session, recall_id: int) -> list[int]:
    """The ids of the warning archives this recall's batches are filed in (read only)."""
    from app.models import Archive

    record = session.get(Recall, recall_id)
    return list(session.scalars(select(Archive.id).where(
        Archive.kind == "warning", Archive.product_batch_id.in_(recalled_batch_ids(session, record)))
        .order_by(Archive.id)))


# ------------------------------------------------------------------ alerts


def alerts(session: Session, day: dt.date) -> Iterable[Alert]:
    """Recall deadlines (notify, finish) and overdue corrective actions, for the home page."""
    for record in session.scalars(select(Recall).where(Recall.status == "open").order_by(Recall.id)):
        yield from _recall_alerts(session, record, day)
    yield from _action_alerts(session, day)


def _recall_alerts(session: Session, record: Recall, day: dt.date) -> Iterable[Alert]:
    rows = _rows(session, record)
    silent = [r for r in rows if r.confirmed_on is None]
    if record.notify_by is not None and silent:
        late = day > record.notify_by.date()
        told = sum(1 for r in silent if r.notified_at is None)
        yield Alert("recall_notify", f"召回「{record.recall_no}」：{len(silent)} 家客户尚未确认收到召回通知"
                    + (f"（{told} 家未通知）" if told else "") + f"，通知期限 {record.notify_by:%Y-%m-%d %H:%M}",
                    OVERDUE if late else DUE, TODO, record.notify_by.date(), "Recall", record.id, "quality_manager")
    if record.finish_by is not None:
        days_left = (record.finish_by - day).days
        if days_left < 0 or days_left <= 3:
            yield Alert("recall_finish", f"召回「{record.recall_no}」完成期限 {record.finish_by}"
                        + ("已过" if days_left < 0 else f"，还剩 {days_left} 天"),
                        OVERDUE if days_left < 0 else DUE, TODO, record.finish_by, "Recall", record.id,
                        "quality_manager")


def _action_alerts(session: Session, day: dt.date) -> Iterable[Alert]:
    soon = day + dt.timedelta(days=7)
    for action in session.scalars(select(CorrectiveAction).where(
            CorrectiveAction.done_on.is_(None), CorrectiveAction.due_on <= soon).order_by(CorrectiveAction.due_on)):
        late = action.due_on < day
        yield Alert("corrective_action_due", f"纠正措施「{action.action_no}」{'已逾期' if late else '将到期'}"
                    f"（期限 {action.due_on}）：{_short(action.description)}",
                    OVERDUE if late else DUE, TODO, action.due_on, "CorrectiveAction", action.id)
    for action in session.scalars(select(CorrectiveAction).where(
            CorrectiveAction.done_on.is_not(None), CorrectiveAction.verified_on.is_(None))
            .order_by(CorrectiveAction.done_on)):
        yield Alert("corrective_action_verify", f"纠正措施「{action.action_no}」已完成，待跟踪验证",
                    DUE, ALERT, action.done_on, "CorrectiveAction", action.id)


def _short(text: str, limit: int = 30) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"

