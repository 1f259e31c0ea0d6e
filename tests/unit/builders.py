"""A minimal factory built through the services, for rule tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from stdnum import ean
from stdnum.cn import uscc

from app.models import CriticalControlPoint, Customer, Material, Person, Product, ProductSpec, Supplier, Warehouse
from app.services import common, distribution, production, quality, receiving, suppliers

TODAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 16, 0)


def credit_code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def gtin13(body12: str) -> str:
    return body12 + ean.calc_check_digit(body12)


@dataclass
class Plant:
    person: Person
    reviewer: Person
    supplier: Supplier
    licence_id: int
    soy: Material
    sugar: Material
    additive: Material
    base: Product
    milk: Product
    bottle: ProductSpec
    boil_ccp: CriticalControlPoint
    customer: Customer
    store: Warehouse


def plant(session) -> Plant:
    session.info["today"], session.info["now"] = TODAY, NOW
    common.create(session, "enterprise", dict(
        name="上海测试豆制品有限公司", credit_code=credit_code("91310115MA1K4F8L3"), address="上海市浦东新区",
        licence_no="SC11131011500017", fonds_code="0001",
    ))
    person = common.create(session, "person", dict(employee_no="E001", name="王质检", post="inspection"))
    reviewer = common.create(session, "person", dict(employee_no="Q001", name="李复核", post="quality"))
    soy = common.create(session, "material", dict(code="M001", name="非转基因大豆", category="raw", unit="kg", is_bulk=True))
    sugar = common.create(session, "material", dict(code="M002", name="白砂糖", category="raw", unit="kg"))
    additive = common.create(session, "material", dict(code="M003", name="葡萄糖酸-δ-内酯", category="additive", unit="kg"))
    supplier = suppliers.add_supplier(session, dict(name="黑龙江某粮油有限公司", address="黑龙江省哈尔滨市", credit_code=credit_code("91230100MA1B2C3D4")))
    suppliers.add_document(session, supplier, dict(kind="business_licence", number="BL-1", valid_from="2020-01-01"))
    licence = suppliers.add_document(
        session, supplier, dict(kind="food_production_licence", number="SC10123010000011", valid_from="2022-01-01", valid_to="2027-06-30"),
        [soy.id, sugar.id, additive.id],
    )
    suppliers.record_platform_check(session, supplier, dict(platform="国家企业信用信息公示系统", checked_on="2026-01-05", result="正常"))
    suppliers.evaluate(session, supplier, dict(evaluated_on=TODAY, score="90", verdict="pass", conclusion="资质齐全，评定为合格供方", evaluator="王质检"))
    base = common.create(session, "product", dict(code="P01", name="豆浆基料", kind="semi_finished", shelf_life_days=2, storage_condition="chilled"))
    milk = common.create(session, "product", dict(code="P02", name="原味豆浆", kind="finished", shelf_life_days=7, storage_condition="chilled", brand="沪豆"))
    bottle = common.create(session, "product_spec", dict(product_id=milk.id, spec="250mL", net_content="0.25", gtin=gtin13("690123456789")))
    boil = common.create(session, "ccp", dict(product_id=base.id, name="煮浆", controlled_item="煮浆温度", parameter="温度", lower_limit="95", upper_limit="105", unit="℃"))
    customer = common.create(session, "customer", dict(name="联华超市浦东店", address="上海市浦东新区", phone="021-50000000"))
    store = common.create(session, "warehouse", dict(code="W2", name="成品冷库", kind="finished", storage_condition="chilled"))
    return Plant(person, reviewer, supplier, licence.id, soy, sugar, additive, base, milk, bottle, boil, customer, store)


def receipt_values(p: Plant, material: Material, **overrides) -> dict:
    values = dict(
        material_id=material.id, supplier_id=p.supplier.id, quantity="1000", unit="kg",
        production_date="2026-11-01", supplier_lot="HLJ-2611", shelf_life_days=180,
        receipt_date="2026-11-10", certificate_kind="第三方检验报告", certificate_no="R-001",
        decision="accepted", inspector_id=p.person.id,
    )
    values.update(overrides)
    return values


def lot(session, p: Plant, material: Material, **overrides):
    receipt = receiving.receive(session, receipt_values(p, material, **overrides))
    from sqlalchemy import select

    from app.models import MaterialLot

    return session.scalar(select(MaterialLot).where(MaterialLot.receipt_id == receipt.id))


def base_batch(session, p: Plant, soy_lot, quantity="100", *, day="2026-11-18"):
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date=day))
    production.feed_lot(session, batch, soy_lot, quantity, operator_id=p.person.id)
    production.record_ccp(session, batch, p.boil_ccp, "98", operator_id=p.person.id)
    production.complete_batch(session, batch, quantity)
    return batch


def packed_commodity(session, p: Plant, base, units=100):
    """Soy milk made from a completed base batch, packed and not yet released."""
    milk = production.start_batch(session, dict(product_id=p.milk.id, production_date="2026-11-19"))
    production.feed_batch(session, milk, base, "50", operator_id=p.person.id)
    production.complete_batch(session, milk, "50")
    return distribution.pack(session, milk, p.bottle, units, dict(
        packed_from="2026-11-19 09:00", packed_to="2026-11-19 11:00", label_checked=True, operator_id=p.person.id,
    ))


def released_commodity(session, p: Plant, soy_lot, units=100):
    commodity = packed_commodity(session, p, base_batch(session, p, soy_lot), units)
    release_inspection(session, p, commodity)
    distribution.release(session, commodity, by=p.person.id)
    return commodity


def release_inspection(session, p: Plant, commodity, *, verdict="pass", label_ok=True):
    return quality.inspect(session, dict(
        kind="release", commodity_batch_id=commodity.id, sampled_at="2026-11-19 12:00",
        label_check_passed=label_ok, inspector_id=p.person.id, reviewer_id=p.reviewer.id,
    ), [dict(item="菌落总数", method="GB 4789.2", requirement="≤ 30000 CFU/mL", result="1200", verdict=verdict)])


# ------------------------------------------------------------------ sealing

PASSWORD = "correct-horse-9"
# Who signs which meaning (users.SIGN_MEANINGS) and who may seal (quality
# manager and technician may; the inspector and the operator may not).
STAFF = {
    "qian": ("钱经理", ["quality_manager"]),
    "sun": ("孙技术", ["technician"]),
    "wang": ("王质检", ["inspector"]),
    "fu": ("李复核", ["inspector"]),
    "li": ("李操作", ["operator"]),
}
# 复核 is a second person's (an inspection's by the reviewer it names).
SIGNERS = {"操作": "li", "编制": "wang", "复核": "fu", "审核": "sun", "批准": "qian"}


def staff(session, p: Plant | None = None) -> dict:
    """The users above (王质检 is the plant's inspector, 李复核 its reviewer); username -> User."""
    from app.services import users

    people = {"wang": p.person.id, "fu": p.reviewer.id} if p is not None else {}
    return {
        name: users.create_user(session, name, shown, PASSWORD, roles, person_id=people.get(name))
        for name, (shown, roles) in STAFF.items()
    }


def sign_archive(session, archive) -> int:
    """Sign every signature the archive's records still need (missing or no
    longer valid), each meaning by its signer; how many were signed."""
    from app.ledgers import registry
    from app.models import CatalogueEntry
    from app.services import signatures

    count = 0
    session.flush()
    for entry in session.scalars(select(CatalogueEntry).where(CatalogueEntry.archive_id == archive.id)):
        model = registry()[entry.ledger].model
        for record_id in entry.record_ids.split(","):
            record = session.get(model, int(record_id))
            for meaning in signatures.missing(session, record):
                signatures.sign(session, record, SIGNERS[meaning], PASSWORD, meaning)
                count += 1
    return count


def act_as(session, user) -> None:
    """The session acts as this user from now on (as after a login)."""
    from app.services import acting

    acting.bind(session, acting.user_of(session, user.id))
