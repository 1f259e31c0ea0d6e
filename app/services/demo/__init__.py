"""The demo factory: twelve weeks of a small Shanghai bean-products plant.

上海松禾豆制品有限公司 makes fresh bean products in Songjiang district
(车墩镇香泾路 568 号; licence SC12531011700368; brand 松禾). It buys non-GM
soybeans from a grain company in Nenjiang and a cooperative in Keshan,
Heilongjiang, in 1.5-tonne bulk lots; coagulants (葡萄糖酸-δ-内酯, 氯化镁 卤片,
硫酸钙 石膏), a silicone defoamer, sugar, salt, soy sauce, oil and spices from
qualified suppliers; PET bottles and caps, tofu boxes and lidding film,
vacuum and PE bags, labels and cartons from licensed packaging makers; tap
water, treated on site, from the local water company (received as bulk
lots so that every batch's mass balance closes). Each supplier has its
business licence, the licence that covers what it supplies, two checks on
public platforms and an evaluation on file before it is admitted; the
defoamer maker's food production licence runs out eleven days after today,
so the expiry alert shows — as does one inspector's health certificate.

Every Monday and Thursday the soymilk line cooks two batches of 豆浆基料
(semi-finished, 2 days at 0–4 ℃; CCP 煮浆 ≥ 95 ℃) that wait in the chilled
intermediate store; the same morning both are MIXED into one batch of 原味豆浆
(sugar, water; pasteurised 85–90 ℃; 250 mL and 1 L bottles, 7 days chilled)
and the rest of both into one batch of 内酯豆腐 (GDL and gypsum, coagulated in
the sealed box at 85–90 ℃; 400 g). On Wednesdays the tofu line makes 五香豆腐干
straight from soybeans (煮浆 ≥ 95 ℃, 卤水, pressed, braised, vacuum packed,
pasteurised 85–90 ℃, metal detection; 200 g bags and 2.5 kg catering bags).
Each batch has its feeding records (additives also in the additive ledger),
CCP readings, sterilisation, process and cleaning records, inspections with
their items and retained samples; each commodity batch is packed with its
packaging-material records, put into the cold store, released after the
release inspection with its label check, and taken by refrigerated truck to
two or three of 22 supermarkets, school canteens and restaurants across
Shanghai the next day or the one after. Goods are ordered when stock runs
short and arrive the afternoon before they are needed; lots are issued
first-in, first-out, so bulk lots close their running ledger at zero.

Things go wrong, as they do: the second soybean delivery (from the
cooperative) fails moisture (15.6 % > 13.0 %), is rejected and written off
as returned; a lot of 花椒 bought near the end of its shelf life is sent back
for exchange two weeks before it expires; about nine weeks before the end
one 原味豆浆 batch reads 83.4 ℃ at pasteurisation — the deviation is
corrected (product re-pasteurised, valve repaired) and the batch released
normally; about six weeks before the end a supermarket reports swollen bags
of 五香豆腐干: the batch is recalled from every customer it reached, returns
are counted, the goods destroyed under the eye of the market-supervision
bureau, and the recall closed with the regulator's opinion and the factory's
corrective measures. Cold-store temperatures twice a day, production water
every Monday, stores every Wednesday, equipment upkeep and calibration,
workshop cleanliness every month: each month's safety-management records
are filed in that month's archive.

Everyone at a post has a user (staff.py, one password for all): records are
signed by the people who made them, reviewed and approved as G§43 asks, and
the archives of the months already over are sealed by a 立卷人 (the
technician, or the safety manager for the monthly safety archive) and the
quality manager as 检查人.

Everything goes through the services (master data through
``common.create``), so every rule, every archive and the audit log apply.
The story is anchored to the day it is loaded (production ends three days
before it, deliveries the day before it) and is otherwise deterministic:
``random.Random(20261122)``. The clock the services read
(``session.info["now"]`` / ``["today"]``) is moved along the story and put
back as the caller had it. Archives are filed once each when the story has
been told (``archives.filed_at_the_end``), not after every record. Loading
takes about 14 s on SQLite on a 2-core machine (bench/bench_demo.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.models import (
    Archive, CCPReading, CommodityBatch, Customer, Delivery, Destruction, Enterprise, Feeding, IncomingInspection,
    Inspection, Material, MaterialLot, Person, Product, ProductBatch, Recall, RetainedSample, Signature, Supplier,
    User,
)
from app.services import archives
from app.services.common import today

from . import masterdata, staff, story
from .clock import Clock

SEED = 20261122
ACTOR = "演示数据"  # the system account's name on every record the demo makes
STORY_DAYS = 83  # twelve full weeks of production (108 batches), ending three days before today

COUNTED = {
    "供应商": Supplier,
    "物料": Material,
    "产品": Product,
    "人员": Person,
    "购货者": Customer,
    "进货查验记录": IncomingInspection,
    "物料批次": MaterialLot,
    "产品批": ProductBatch,
    "投料记录": Feeding,
    "关键控制点监控记录": CCPReading,
    "检验报告": Inspection,
    "留样记录": RetainedSample,
    "商品批次": CommodityBatch,
    "出厂销售记录": Delivery,
    "召回": Recall,
    "销毁记录": Destruction,
    "档案": Archive,
    "用户": User,
    "签名": Signature,
}

__all__ = ["Examples", "Progress", "counts", "examples", "is_empty", "load"]

# done, total, what is being made (a day of the story); plain data, no Qt:
# the command line prints a line, the window moves its progress dialog.
Progress = Callable[[int, int, str], None]
# The demo users' login password; the command prints it with the users.
PASSWORD: str | None = staff.PASSWORD


def is_empty(session: Session) -> bool:
    """No enterprise yet: a new database, where the demo factory may be loaded."""
    return session.scalar(select(Enterprise.id).limit(1)) is None


def load(session: Session, progress: Progress | None = None) -> dict[str, int]:
    """Create the demo factory in an empty database; counts of what was made,
    by Chinese name. ``progress`` hears each day of the story as it is made."""
    if not is_empty(session):
        raise UserError("数据库中已有企业信息，不能载入演示数据；请在新的空数据库中载入演示工厂")
    clock = Clock(session, today(session), STORY_DAYS)
    rng = Random(SEED)
    report = progress or (lambda done, total, text: None)
    total = story.days_of(clock) + 3  # master data, the days of the story, signing, sealing
    try:
        report(0, total, "基础数据：企业、人员、用户、供应商、物料、产品、客户")
        factory = masterdata.build(session, clock, rng, clock.anchor)
        people = staff.hire(session, factory)
        # Each archive filed once, when the story is told, not after each of its records.
        with archives.filed_at_the_end(session):
            story.run(session, factory, clock, rng, progress=lambda done, total, text: report(done + 1, total + 3, text))
        report(total - 2, total, "各岗位人员在记录上签名")
        staff.sign_records(session, people, clock)
        report(total - 1, total, "立卷人和检查人封存已结束月份的档案")
        staff.seal_completed_months(session, people, clock)
        staff.sign_sealed_archives(session, people, clock)
        report(total, total, "")
    finally:
        clock.restore()
    session.flush()
    return counts(session)


def counts(session: Session) -> dict[str, int]:
    return {name: session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}



@dataclass(frozen=True)
class Examples:
    """Numbers to try after the load (the README's "Try it" uses them): the
    story is anchored to the day it is loaded, so they differ from day to day."""

    soybean_lot: str | None  # a soybean lot whose forward trace reaches customers
    product_batch: str | None  # the batch made from it
    commodity_lot: str | None  # a commodity lot of that batch, delivered
    archive_no: str | None  # that batch's archive
    users: list[tuple[str, str]] = field(default_factory=list)  # (user name, post), none until the demo has users
    password: str | None = None


def examples(session: Session) -> Examples:
    from app.models import UserRole
    from app.services.users import ROLES

    delivered = (
        select(CommodityBatch.lot_code, ProductBatch.batch_no, ProductBatch.id)
        .join(ProductBatch, ProductBatch.id == CommodityBatch.product_batch_id)
        .where(CommodityBatch.id.in_(select(Delivery.commodity_batch_id)), CommodityBatch.status == "released")
        .order_by(CommodityBatch.production_date.desc(), CommodityBatch.id)
    )
    soybean = (
        select(MaterialLot.lot_no, Feeding.batch_id)
        .join(Feeding, Feeding.material_lot_id == MaterialLot.id)
        .join(Material, Material.id == MaterialLot.material_id)
        .where(Material.name.endswith("大豆"))  # the soybeans (agricultural), not the soybean oil
    )
    fed = {batch_id: lot for lot, batch_id in session.execute(soybean)}
    lot = batch = commodity = archive = None
    for lot_code, batch_no, batch_id in session.execute(delivered):
        if batch_id in fed:
            commodity, batch, lot = lot_code, batch_no, fed[batch_id]
            archive = session.scalar(select(Archive.archive_no).where(
                Archive.kind == "product", Archive.product_batch_id == batch_id))
            break
    roles = {}
    for username, role in session.execute(
            select(User.username, UserRole.role).join(UserRole, UserRole.user_id == User.id)
            .where(User.active.is_(True)).order_by(User.id, UserRole.id)):
        roles.setdefault(username, []).append(ROLES.get(role, role))
    users = [(name, "、".join(posts)) for name, posts in roles.items()]
    return Examples(lot, batch, commodity, archive, users, PASSWORD if users else None)
