"""The demo factory's people at their posts (issue 16): a user for each post,
linked to the person who holds it; every record signed by whoever made it
(operator, inspector, keeper…), reviewed by the technician or the safety
manager, approved by the quality manager where G§43 asks for it; and the
archives of the months already over sealed by a real 立卷人 and 检查人.

Signing and sealing go through the services (``signatures.sign_many``,
``sealing.seal_by``) with every rule of a signature typed in the window: the
meaning the ledger requires, a role that may give it, a review by someone
else, an inspector signing his own report. Each record is signed at the
moment it was made (a quarter of an hour after its time; at the end of the
shift for a record dated by day)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ledgers import Ledger, registry
from app.models import Archive, CommodityBatch, ProductBatch, Recall, User
from app.services import archives, sealing, signatures, users

from .clock import Clock
from .masterdata import Factory

PASSWORD = "songhe2026"  # every demo user's; the README and `foodarchive demo` print it
# user name, employee number (None: no person), posts (users.ROLES)
STAFF = (
    ("chenmeiqin", "E001", ("quality_manager",)),
    ("yangzhiming", "E002", ("safety_manager",)),
    ("gulixin", "E003", ("technician",)),
    ("zhouxiaoyan", "E004", ("inspector",)),
    ("wujiayi", "E005", ("inspector",)),
    ("xuguoping", "E006", ("warehouse_keeper",)),
    ("zhuyonggang", "E007", ("purchaser",)),
    ("zhangwei", "E008", ("operator",)),
    ("lihongmei", "E009", ("operator",)),
    ("wangjianguo", "E010", ("operator",)),
    ("liuhaijun", "E011", ("operator",)),
    ("zhaolei", "E012", ("operator",)),
    ("sunli", "E013", ("operator",)),
    ("qianzhiqiang", "E014", ("warehouse_keeper",)),
    ("xitongguanli", None, ("admin",)),
)
ADMIN_NAME = "系统管理员"
# Who writes a record that names nobody who made it.
AUTHOR = {"destruction": "keeper", "recall_progress": "clerk", "amendment": "quality_manager",
          "supplier_evaluation": "quality_manager"}
SHIFT_END = dt.time(17, 30)  # a record dated by day is signed at the end of the shift
SIGNED_AFTER = dt.timedelta(minutes=15)
REVIEW_DAY = 8  # archives of a month are checked and sealed on the 8th of the next


@dataclass
class Staff:
    by_person: dict[int, User] = field(default_factory=dict)
    by_post: dict[str, User] = field(default_factory=dict)  # a ROLES key of data.py -> its user
    roles: dict[int, set[str]] = field(default_factory=dict)  # user id -> posts

    def may_sign(self, user: User, meaning: str) -> bool:
        return users.may_sign(self.roles[user.id], meaning)


def hire(session: Session, factory: Factory) -> Staff:
    """A user for each post, linked to the person holding it; one password."""
    from . import data

    names = {code: name for code, name, *_ in data.PEOPLE}
    made = users.create_users(session, [
        (username, names[code] if code else ADMIN_NAME, posts, factory.people[code].id if code else None)
        for username, code, posts in STAFF], PASSWORD)
    staff = Staff()
    for user, (_, code, posts) in zip(made, STAFF):
        staff.roles[user.id] = set(posts)
        if code:
            staff.by_person[factory.people[code].id] = user
    for post, code in data.ROLES.items():
        if isinstance(code, str):
            staff.by_post[post] = staff.by_person[factory.people[code].id]
    staff.by_post["safety_manager"] = next(u for u in made if "safety_manager" in staff.roles[u.id])
    return staff


# ------------------------------------------------------------------ signing


def sign_records(session: Session, staff: Staff, clock: Clock) -> int:
    """Every record of every ledger that requires signatures, signed by its
    people; the number of signatures. An archive is signed once sealed
    (``sign_sealed_archives``): sealing changes it."""
    count = 0
    for declaration in registry().values():
        if declaration.signatures and declaration.key != "archive":
            table = declaration.model.__table__
            rows = session.connection().execute(select(table).order_by(table.c.id)).all()
            count += _sign_rows(session, staff, clock, declaration, rows)
    return count


def sign_sealed_archives(session: Session, staff: Staff, clock: Clock) -> int:
    declaration = registry()["archive"]
    table = declaration.model.__table__
    rows = session.connection().execute(select(table).where(table.c.status == "sealed").order_by(table.c.id)).all()
    return _sign_rows(session, staff, clock, declaration, rows)


def _sign_rows(session: Session, staff: Staff, clock: Clock, declaration: Ledger, rows) -> int:
    count = 0
    authors: dict[int, User] = {}
    at = {row.id: _moment(declaration, row, clock) for row in rows}
    for meaning in declaration.signatures:
        groups: dict[int, tuple[User, list[int]]] = {}
        for row in rows:
            user = _signer(declaration, row, meaning, staff, authors.get(row.id))
            if meaning in ("编制", "操作"):
                authors[row.id] = user
            groups.setdefault(user.id, (user, []))[1].append(row.id)
        for user, ids in groups.values():
            count += len(signatures.sign_many(session, declaration.model, ids, user, meaning, at))
    return count


def _signer(declaration: Ledger, row, meaning: str, staff: Staff, author: User | None) -> User:
    user = _chosen(declaration, row, meaning, staff, author)
    return user if staff.may_sign(user, meaning) else staff.by_post["quality_manager"]


def _chosen(declaration: Ledger, row, meaning: str, staff: Staff, author: User | None) -> User:
    named = declaration.extra.get("signed_by", {}).get(meaning)
    if named and getattr(row, named) in staff.by_person:
        return staff.by_person[getattr(row, named)]
    if meaning in ("编制", "操作"):
        for f in declaration.fields:
            if f.kind == "ref" and f.lookup.ledger == "person":
                user = staff.by_person.get(getattr(row, f.name))
                if user is not None and staff.may_sign(user, meaning):
                    return user
        return staff.by_post[AUTHOR.get(declaration.key, "quality_manager")]
    if declaration.key == "archive":  # 审核 by its 立卷人
        return staff.by_post[FILER[row.kind]]
    if meaning == "复核":
        reviewer = staff.by_post["safety_manager" if declaration.group == "安全管理" else
                                 "quality_manager" if declaration.key == "incoming_inspection" else "technician"]
        return staff.by_post["quality_manager"] if author is not None and author.id == reviewer.id else reviewer
    return staff.by_post["quality_manager"]  # 审核 and 批准: the quality manager (G§43)


def _moment(declaration: Ledger, row, clock: Clock) -> dt.datetime:
    value = getattr(row, declaration.date_field, None) if declaration.date_field else None
    if isinstance(value, dt.datetime):
        at = value + SIGNED_AFTER
    elif isinstance(value, dt.date):
        at = dt.datetime.combine(value, SHIFT_END)
    else:
        at = dt.datetime.combine(clock.anchor - dt.timedelta(days=1), SHIFT_END)
    return at.replace(microsecond=0)


# ------------------------------------------------------------------ sealing

# 立卷人 by kind of archive; the quality manager checks every one (检查人).
FILER = {"product": "technician", "commodity": "technician", "warning": "technician", "safety": "safety_manager"}


def seal_completed_months(session: Session, staff: Staff, clock: Clock) -> int:
    """Seal every archive of a month already over that nothing blocks, on the
    first working morning after its month; the number sealed. Product
    archives first: the others cite them."""
    this_month = clock.anchor.replace(day=1)
    first = clock.start.replace(day=1)
    wanted = [session.get(Archive, archive_id) for archive_id, _ in
              archives.between(session, first, this_month - dt.timedelta(days=1))]
    wanted.sort(key=lambda a: (sealing.KIND_ORDER.get(a.kind, 9), a.archive_no))
    checker = staff.by_post["quality_manager"]
    sealed = 0
    for archive in wanted:
        if archive.status == "sealed":
            continue
        clock.set(dt.datetime.combine(_sealing_day(session, archive, clock), dt.time(9, 0)))
        blockers = sealing.checklist(session, archive)
        if blockers:
            continue
        sealing.seal_by(session, archive, staff.by_post[FILER[archive.kind]], checker, blockers)
        sealed += 1
    clock.set(dt.datetime.combine(clock.anchor - dt.timedelta(days=1), SHIFT_END))
    return sealed


def _sealing_day(session: Session, archive: Archive, clock: Clock) -> dt.date:
    """The monthly review on the 8th of the month after the archive's month (its
    batch's, or its period) — once its deliveries are confirmed — or a
    recall's, ten days after it started; never after the story's last day."""
    if archive.kind == "safety":
        year, month = (int(part) for part in archive.period.split("-"))
    else:
        day = (session.get(CommodityBatch, archive.commodity_batch_id).production_date if archive.kind == "commodity"
               else session.get(ProductBatch, archive.product_batch_id).production_date)
        year, month = day.year, day.month
    on = dt.date(year + month // 12, month % 12 + 1, REVIEW_DAY)
    if archive.kind == "warning":
        started = session.scalar(select(Recall.started_on).where(Recall.product_batch_id == archive.product_batch_id))
        on = max(on, started + dt.timedelta(days=10)) if started else on
    return min(on, clock.anchor - dt.timedelta(days=1))
