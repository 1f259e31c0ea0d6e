"""Sealing an archive (封卷, R3.4, R3.7, G§43–46; GB/T 9705's 立卷人/检查人).

An archive is *open* while something still blocks sealing, *ready* when
``checklist`` finds nothing, and *sealed* once its 立卷人 and its 检查人 — two
different users whose roles may ``seal`` — have sealed it: one of them is
logged in, the other confirms with the password, as for a signature. "ready"
is computed, never stored: records, signatures and amendments keep changing
it.

After sealing, the archive's rows change only by amendment (``guards``), it
takes no new material (``archives``), and each amendment made after the
moment of sealing is listed on its remarks sheet (``reports.volume_data``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldError, PermissionDenied, UserError, ValidationError
from app.ledgers import Ledger, registry
from app.models import (
    Amendment, Archive, ArchiveSeal, CatalogueEntry, CCPReading, CommodityBatch, Delivery, Destruction, Inspection,
    ProductBatch, RetainedSample, User,
)

from . import archives, signatures, users
from .common import now, today

# What keeps an archive from being sealed, in the order a checklist shows it.
KINDS = {
    "unfinished": "尚未完成",
    "record": "缺少记录",
    "deviation": "纠偏未完成",
    "signature": "缺少签名",
    "resign": "更正后未重新签名",
    "cited": "引用的档案",
}
PARTS = {"filer": "立卷人", "checker": "检查人"}  # the two people who seal
# Sealed first what others cite: a commodity or warning archive waits for
# the product archive it cites.
KIND_ORDER = {"product": 0, "safety": 1, "commodity": 2, "warning": 3}
Report = Callable[[int, int, str], None]  # done, total, text; may raise to cancel
GROUP_FROM = 2  # rows of one ledger missing the same signatures that make one checklist item


@dataclass(frozen=True)
class Blocker:
    kind: str  # a key of KINDS
    text: str  # Chinese: what is missing, and where
    ledger: str | None = None  # the record a user opens to deal with it
    row_id: int | None = None

    @property
    def label(self) -> str:
        return KINDS[self.kind]


# ------------------------------------------------------------------ checklist


def checklist(session: Session, archive: Archive) -> list[Blocker]:
    """Everything that keeps ``archive`` from being sealed; empty: ready."""
    if archive.status == "sealed":
        return []
    entries = list(session.scalars(
        select(CatalogueEntry).where(CatalogueEntry.archive_id == archive.id).order_by(CatalogueEntry.seq)))
    found = list(KIND_CHECKS[archive.kind](session, archive))
    if not entries:
        found.append(Blocker("record", "档案中还没有任何材料"))
    filed = _filed(entries)
    found += _deviations(session, filed.get("ccp_reading", []))
    found += _signatures(session, filed)
    found += _cited(session, archive)
    order = list(KINDS)
    return sorted(found, key=lambda b: order.index(b.kind))


def state(session: Session, archive: Archive) -> str:
    """open, ready or sealed."""
    if archive.status == "sealed":
        return "sealed"
    return "open" if checklist(session, archive) else "ready"


def _filed(entries: list[CatalogueEntry]) -> dict[str, list[int]]:
    """Row ids by ledger, as the catalogue (and so the printed volume) holds them."""
    filed: dict[str, dict[int, None]] = {}  # ordered, without repeats
    for entry in entries:
        filed.setdefault(entry.ledger, {}).update(dict.fromkeys(int(i) for i in entry.record_ids.split(",") if i))
    return {ledger: list(ids) for ledger, ids in filed.items()}


def _product(session: Session, archive: Archive) -> list[Blocker]:
    batch = session.get(ProductBatch, archive.product_batch_id)
    found = []
    if batch.status == "open":
        found.append(Blocker("unfinished", f"产品批「{batch.batch_no}」尚未完工（G§4：每批产品完成加工制造后建档）",
                             "product_batch", batch.id))
    if batch.product.kind == "finished":
        finished = session.scalar(select(Inspection.id).where(
            Inspection.batch_id == batch.id, Inspection.kind == "finished").limit(1))
        if finished is None:
            found.append(Blocker("record", f"产品批「{batch.batch_no}」缺少成品检验报告（G§39）", "product_batch", batch.id))
        kept = session.scalar(select(RetainedSample.id).where(RetainedSample.batch_id == batch.id).limit(1))
        if kept is None:
            found.append(Blocker("record", f"产品批「{batch.batch_no}」缺少检验留样记录（G§39(3)）", "product_batch", batch.id))
    return found


def _commodity(session: Session, archive: Archive) -> list[Blocker]:
    commodity = session.get(CommodityBatch, archive.commodity_batch_id)
    lot = commodity.lot_code
    found = []
    passed = session.scalars(select(Inspection).where(
        Inspection.commodity_batch_id == commodity.id, Inspection.kind == "release", Inspection.conclusion == "pass")).all()
    if not passed:
        found.append(Blocker("record", f"商品批次「{lot}」缺少合格的出厂检验报告（G§40）", "commodity_batch", commodity.id))
    elif not any(i.label_check_passed for i in passed):
        found.append(Blocker("record", f"商品批次「{lot}」的出厂检验未通过标签符合性查验（G§40）", "inspection", passed[-1].id))
    if commodity.status == "packed":
        found.append(Blocker("unfinished", f"商品批次「{lot}」尚未放行出厂（G§4(2)：完成出厂查验后归集商品档案）",
                             "commodity_batch", commodity.id))
    elif commodity.status == "released" and commodity.units_on_hand > 0:
        found.append(Blocker("unfinished", f"商品批次「{lot}」尚有 {commodity.units_on_hand} 件未交付"
                             "（G§42：同批次食品完成交付后归集成商品档案）", "commodity_batch", commodity.id))
    for delivery in session.scalars(select(Delivery).where(
            Delivery.commodity_batch_id == commodity.id, Delivery.confirmed.is_not(True)).order_by(Delivery.id)):
        found.append(Blocker("record", f"出厂销售记录「{delivery.delivery_no}」尚无交付确认（G§42(3)）",
                             "delivery", delivery.id))
    return found


def _warning(session: Session, archive: Archive) -> list[Blocker]:
    found = []
    for recall in archives.recalls_of(session, archive.product_batch_id):
        if recall.status != "closed":
            found.append(Blocker("unfinished", f"召回「{recall.recall_no}」尚未结束", "recall", recall.id))
        elif not (recall.regulator_opinion or "").strip():
            found.append(Blocker("record", f"召回「{recall.recall_no}」缺少食品安全监管部门的处理意见（G§43）",
                                 "recall", recall.id))
    destroyed = session.scalar(select(Destruction.id).where(
        Destruction.product_batch_id == archive.product_batch_id).limit(1))
    if destroyed is None:
        found.append(Blocker("record", "缺少不合格食品的处置（销毁）记录（G§43）"))
    return found


def _safety(session: Session, archive: Archive) -> list[Blocker]:
    year, month = (int(part) for part in archive.period.split("-"))
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    if today(session) <= last:
        return [Blocker("unfinished", f"{archive.period} 尚未结束，本月的安全管理记录还会增加")]
    return []


KIND_CHECKS: dict[str, Callable[[Session, Archive], list[Blocker]]] = {
    "product": _product, "commodity": _commodity, "warning": _warning, "safety": _safety,
}


def _deviations(session: Session, reading_ids: list[int]) -> list[Blocker]:
    if not reading_ids:
        return []
    readings = session.scalars(select(CCPReading).where(
        CCPReading.id.in_(reading_ids), CCPReading.deviation.is_(True), CCPReading.corrective_action.is_(None))
        .order_by(CCPReading.measured_at))
    return [Blocker("deviation", f"关键控制点「{r.ccp.name}」于 {r.measured_at:%Y-%m-%d %H:%M} 偏离关键限值"
                                 f"（监测值 {r.value}），尚无纠偏措施", "ccp_reading", r.id) for r in readings]


def _signatures(session: Session, filed: dict[str, list[int]]) -> list[Blocker]:
    """G§43: every required signature present and still bound to the record.
    Many rows of one register missing the same signatures make one item."""
    found = []
    for ledger_key, ids in filed.items():
        declaration = registry()[ledger_key]
        if not declaration.signatures:
            continue
        table = declaration.model.__table__
        rows = []
        for start in range(0, len(ids), 500):
            rows += session.execute(select(table).where(table.c.id.in_(ids[start:start + 500]))).all()
        lines = signatures.lines_of_rows(session, declaration.model, rows)
        unsigned: dict[tuple[str, ...], list] = {}
        position = {row_id: n for n, row_id in enumerate(ids)}
        for row in sorted(rows, key=lambda r: position[r.id]):
            missing = tuple(line.meaning for line in lines[row.id] if line.state == "missing")
            invalid = [line for line in lines[row.id] if line.state == "invalid"]
            if missing:
                unsigned.setdefault(missing, []).append(row)
            if invalid:
                found.append(Blocker("resign", _resign_text(session, declaration, row.id, record_name(declaration, row),
                                                             invalid), ledger_key, row.id))
        for meanings, group in unsigned.items():
            found.append(_unsigned(declaration, meanings, group))
    return found


def _unsigned(declaration: Ledger, meanings: tuple[str, ...], rows: list) -> Blocker:
    wanted = "、".join(meanings)
    if len(rows) < GROUP_FROM:
        row = rows[0]
        return Blocker("signature", f"{record_name(declaration, row)}缺少「{wanted}」签名", declaration.key, row.id)
    names = [record_label(declaration, row) for row in rows[:3]]
    more = " 等" if len(rows) > 3 else ""
    return Blocker("signature", f"{declaration.title} {len(rows)} 条缺少「{wanted}」签名：{'、'.join(names)}{more}",
                   declaration.key, rows[0].id)


def _resign_text(session: Session, declaration: Ledger, row_id: int, name: str, invalid: list) -> str:
    meanings = "、".join(line.meaning for line in invalid)
    since = min(line.signed_at for line in invalid)
    amended = session.scalars(select(Amendment.field).where(
        Amendment.table_name == declaration.key, Amendment.row_id == row_id, Amendment.created_at >= since)).all()
    if amended:
        labels = {f.name: f.label for f in declaration.fields}
        fields = "、".join(dict.fromkeys(labels.get(f, f) for f in amended))
        return f"{name}签名后更正了「{fields}」，「{meanings}」签名已失效，需重新签名"
    return f"{name}签名后被修改，「{meanings}」签名已失效，需重新签名"


def record_label(declaration: Ledger, row) -> str:
    """A record within its ledger: its number, else its date, else its id."""
    if declaration.number_field and getattr(row, declaration.number_field, None):
        return str(getattr(row, declaration.number_field))
    if declaration.date_field and getattr(row, declaration.date_field, None) is not None:
        return declaration.field(declaration.date_field).display(getattr(row, declaration.date_field))
    return f"编号 {row.id}"


def record_name(declaration: Ledger, row) -> str:
    """How a user finds a record: its ledger and number (or date)."""
    label = record_label(declaration, row)
    if declaration.number_field and getattr(row, declaration.number_field, None):
        return f"{declaration.title}「{label}」"
    return f"{declaration.title}（{label}）"


def _cited(session: Session, archive: Archive) -> list[Blocker]:
    cited = archive.cites
    if cited is None or cited.status == "sealed" or not checklist(session, cited):
        return []
    return [Blocker("cited", f"引用的产品档案 {cited.archive_no} 尚不能封卷：请先处理它的待办事项", "archive", cited.id)]


# ------------------------------------------------------------------ sealing


def _sealers(session: Session, other_username: str, other_password: str, acting_as: str) -> tuple[User, User]:
    """(立卷人, 检查人): the logged-in user in the role ``acting_as`` and the
    other one, who confirms with the password. Both may seal; they are two
    people."""
    if acting_as not in PARTS:
        raise ValueError(acting_as)
    users.require(session, "seal")  # nobody, or a role without 封卷, stops here
    me = users.current_user(session)
    if me is None:
        raise PermissionDenied("封卷须由立卷人或检查人登录后操作，系统账户不能封卷")
    other_role = PARTS["checker" if acting_as == "filer" else "filer"]
    if not (other_username or "").strip():
        raise ValidationError(FieldError("other_username", f"{other_role}用户名", f"「{other_role}用户名」不能为空"))
    other = users.authenticate(session, other_username, other_password)
    _two_sealers(session, me, other, acting_as)
    return (me, other) if acting_as == "filer" else (other, me)


def _two_sealers(session: Session, me: User, other: User, acting_as: str) -> None:
    """Two different people, the other one allowed to seal (``me`` was checked as the actor)."""
    other_role = PARTS["checker" if acting_as == "filer" else "filer"]
    if other.id == me.id or (me.person_id is not None and me.person_id == other.person_id):
        raise ValidationError(FieldError(
            "other_username", f"{other_role}用户名",
            f"立卷人和检查人须是两个不同的人：{me.display_name}不能同时担任{PARTS[acting_as]}和{other_role}"))
    roles = users.roles_of(session, other)
    if not users.may(roles, "seal"):
        raise PermissionDenied(f"{other.display_name}（{users.role_labels(roles)}）无权封卷，不能担任{other_role}")


def seal_by(session: Session, archive: Archive, filer: User, checker: User,
            blockers: list[Blocker] | None = None) -> ArchiveSeal:
    """Seal ``archive`` with a 立卷人 and a 检查人 the caller has authenticated
    (a loader replaying recorded work: the demo factory). Both must be
    allowed to seal and be two people; refused while anything blocks it
    (``blockers``: the checklist the caller has just run, not run again)."""
    for user in (filer, checker):
        roles = users.roles_of(session, user)
        if not users.may(roles, "seal"):
            raise PermissionDenied(f"{user.display_name}（{users.role_labels(roles)}）无权封卷")
    _two_sealers(session, filer, checker, "filer")
    return _seal(session, archive, filer, checker, blockers)


def _seal(session: Session, archive: Archive, filer: User, checker: User,
          blockers: list[Blocker] | None = None) -> ArchiveSeal:
    users.require(session, "seal")
    if archive.status == "sealed":
        raise UserError(f"档案 {archive.archive_no} 已于 {archive.closed_at:%Y-%m-%d} 封卷")
    blockers = checklist(session, archive) if blockers is None else blockers
    if blockers:
        more = f"等 {len(blockers)} 项" if len(blockers) > 1 else ""
        raise UserError(f"档案 {archive.archive_no} 还不能封卷：{blockers[0].text}{more}")
    at = now(session)
    seal = ArchiveSeal(archive_id=archive.id, filer_id=filer.id, filer_name=filer.display_name,
                       checker_id=checker.id, checker_name=checker.display_name, sealed_at=at)
    session.add(seal)
    archive.status = "sealed"
    archive.closed_at = at
    session.flush()
    return seal


def seal(session: Session, archive_id: int, *, other_username: str, other_password: str,
         acting_as: str = "filer") -> ArchiveSeal:
    """Seal one archive. The logged-in user is its 立卷人 (``acting_as``
    "filer") or its 检查人 ("checker"); the other one gives user name and
    password. Refused, changing nothing, while anything blocks it."""
    filer, checker = _sealers(session, other_username, other_password, acting_as)
    archive = session.get(Archive, archive_id)
    if archive is None:
        raise UserError("档案不存在")
    return _seal(session, archive, filer, checker)


@dataclass
class PeriodArchive:
    archive_id: int
    archive_no: str
    title: str
    kind: str
    state: str  # open, ready, sealed
    blockers: list[Blocker] = field(default_factory=list)


@dataclass
class PeriodResult:
    sealed: list[PeriodArchive] = field(default_factory=list)  # sealed now
    blocked: list[PeriodArchive] = field(default_factory=list)  # still open
    already: list[PeriodArchive] = field(default_factory=list)  # sealed before


def _period(session: Session, first: dt.date, last: dt.date) -> list[Archive]:
    found = [session.get(Archive, archive_id) for archive_id, _no in archives.between(session, first, last)]
    return sorted(found, key=lambda a: (KIND_ORDER.get(a.kind, 9), a.archive_no))


def check_period(session: Session, first: dt.date, last: dt.date, report: Report | None = None) -> list[PeriodArchive]:
    """The checklist of every archive of the period, in sealing order."""
    found = _period(session, first, last)
    result = []
    for done, archive in enumerate(found):
        if report:
            report(done, len(found), archive.archive_no)
        blockers = checklist(session, archive)
        shown = "sealed" if archive.status == "sealed" else "open" if blockers else "ready"
        result.append(PeriodArchive(archive.id, archive.archive_no, archive.title, archive.kind, shown, blockers))
    if report:
        report(len(found), len(found), "")
    return result


def seal_period(sessions, first: dt.date, last: dt.date, *, other_username: str, other_password: str,
                acting_as: str = "filer", report: Report | None = None) -> PeriodResult:
    """Seal every ready archive of the period (a date range; a month is its
    first to last day). ``sessions`` acts as the logged-in user; each archive
    is sealed in a transaction of its own, so a cancelled run keeps those
    sealed so far, each complete. Product archives go first: a commodity or
    warning archive may then cite a sealed one."""
    with sessions() as session:
        filer, checker = _sealers(session, other_username, other_password, acting_as)
        people = filer.id, checker.id
        wanted = [(a.id, a.archive_no) for a in _period(session, first, last)]
    if not wanted:
        raise UserError(f"{first} 至 {last} 期间没有档案")
    result = PeriodResult()
    for done, (archive_id, archive_no) in enumerate(wanted):
        if report:
            report(done, len(wanted), archive_no)
        with sessions.begin() as session:
            archive = session.get(Archive, archive_id)
            row = PeriodArchive(archive.id, archive.archive_no, archive.title, archive.kind, archive.status)
            if archive.status == "sealed":
                row.state = "sealed"
                result.already.append(row)
                continue
            row.blockers = checklist(session, archive)
            if row.blockers:
                row.state = "open"
                result.blocked.append(row)
                continue
            _seal(session, archive, session.get(User, people[0]), session.get(User, people[1]), row.blockers)
            row.state = "sealed"
            result.sealed.append(row)
    if report:
        report(len(wanted), len(wanted), "")
    return result
