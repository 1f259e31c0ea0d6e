"""Master data of the demo factory, entered through the ledgers and services:
enterprise, people, plant, materials, qualified suppliers, products (specs,
formulas, process steps, CCPs) and customers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from random import Random

from sqlalchemy.orm import Session
from stdnum import ean
from stdnum.cn import uscc

from app.models import (
    CriticalControlPoint, Customer, Equipment, Material, Person, Product, ProductionLine, ProductSpec, Supplier,
    Warehouse,
)
from app.services import quality, suppliers
from app.services.common import create

from . import data
from .clock import Clock


@dataclass
class Factory:
    """What the story needs to find again, by the codes of data.py."""

    people: dict[str, Person] = field(default_factory=dict)
    lines: dict[str, ProductionLine] = field(default_factory=dict)
    warehouses: dict[str, Warehouse] = field(default_factory=dict)
    equipment: dict[str, Equipment] = field(default_factory=dict)
    materials: dict[str, Material] = field(default_factory=dict)
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    specs: dict[str, list[ProductSpec]] = field(default_factory=dict)
    ccps: dict[str, list[CriticalControlPoint]] = field(default_factory=dict)
    customers: dict[str, list[Customer]] = field(default_factory=dict)  # by kind S, C, R

    def person(self, role: str) -> Person:
        return self.people[data.ROLES[role]]

    def crew(self, role: str) -> tuple[Person, ...]:
        return tuple(self.people[code] for code in data.ROLES[role])


def credit_code(stem: str) -> str:
    return stem + uscc.calc_check_digit(stem)


def gtin(item: str) -> str:
    body = data.GTIN_PREFIX + item
    return body + ean.calc_check_digit(body)


def build(session: Session, clock: Clock, rng: Random, anchor: dt.date) -> Factory:
    """Everything a factory has on file before its first recorded batch."""
    factory = Factory()
    clock.on(clock.start - dt.timedelta(days=30), 9, 0)  # the factory is set up a month before the story
    _enterprise(session)
    _people(session, factory, clock, anchor)
    _plant(session, factory)
    _materials(session, factory)
    _suppliers(session, factory, clock, rng, anchor)
    _products(session, factory)
    _standards(session, factory)
    _customers(session, factory)
    return factory


def _enterprise(session: Session) -> None:
    values = {k: v for k, v in data.ENTERPRISE.items() if k != "credit_stem"}
    manager = next(p for p in data.PEOPLE if p[0] == data.ROLES["quality_manager"])
    create(session, "enterprise", dict(
        values, credit_code=credit_code(data.ENTERPRISE["credit_stem"]), quality_manager=manager[1]))


def _people(session: Session, factory: Factory, clock: Clock, anchor: dt.date) -> None:
    for number, (employee_no, name, post, team, qualifications, valid_days) in enumerate(data.PEOPLE, start=1):
        factory.people[employee_no] = create(session, "person", {
            "employee_no": employee_no, "name": name, "post": post, "team": team,
            "qualifications": qualifications, "health_cert_no": f"沪松健 {anchor.year - 1}-{4100 + number * 37:05d}",
            "health_cert_valid_to": anchor + dt.timedelta(days=valid_days), "active": True,
        })
    for number, (topic, hours, result) in enumerate(data.TRAINING):
        on = clock.start - dt.timedelta(days=40 - 12 * number)
        for person in factory.people.values():
            create(session, "training_record", {
                "person_id": person.id, "trained_on": on, "topic": topic, "hours": hours, "result": result,
            })


def _plant(session: Session, factory: Factory) -> None:
    for code, name, automated in data.LINES:
        factory.lines[code] = create(session, "production_line", {"code": code, "name": name, "automated": automated})
    for code, name, kind, condition, t_min, t_max, humidity, device in data.WAREHOUSES:
        factory.warehouses[code] = create(session, "warehouse", {
            "code": code, "name": name, "kind": kind, "storage_condition": condition, "temperature_min": t_min,
            "temperature_max": t_max, "humidity_max": humidity, "monitoring_device": device,
        })
    for code, name, model, line, device in data.EQUIPMENT:
        factory.equipment[code] = create(session, "equipment", {
            "code": code, "name": name, "model": model, "monitoring_device": device,
            "line_id": factory.lines[line].id if line else None,
        })


def _materials(session: Session, factory: Factory) -> None:
    for code, name, category, spec, unit, standard, bulk, limit, shelf_life in data.MATERIALS:
        factory.materials[code] = create(session, "material", {
            "code": code, "name": name, "category": category, "spec": spec, "unit": unit, "standard": standard,
            "is_imported": False, "is_gmo": False, "needs_quarantine": False, "is_bulk": bulk,
            "additive_limit": limit, "shelf_life_days": shelf_life,
        })


def _suppliers(session: Session, factory: Factory, clock: Clock, rng: Random, anchor: dt.date) -> None:
    """Each supplier: business licence, the licence covering what it supplies,
    two platform checks, what it supplies, then admission as qualified."""
    admitted = clock.start - dt.timedelta(days=20)
    clock.on(admitted, 10, 0)
    buyer, manager = factory.person("buyer"), factory.person("quality_manager")
    for code, name, stem, address, contact, phone, supplied, licence, scope in data.SUPPLIERS:
        code_18 = credit_code(stem)
        supplier = suppliers.add_supplier(session, {
            "name": name, "credit_code": code_18, "address": address, "contact_person": contact, "phone": phone,
        })
        factory.suppliers[code] = supplier
        founded = anchor.replace(day=1) - dt.timedelta(days=365 * rng.randint(5, 15))
        suppliers.add_document(session, supplier, {
            "kind": "business_licence", "number": code_18, "issuer": _registry(address),
            "valid_from": founded, "valid_to": None, "scope": "长期有效",
        })
        kind, number, issuer, years = licence
        if years is None:  # the licence that runs out within two weeks of today
            valid_to = anchor + dt.timedelta(days=11)
            valid_from = valid_to.replace(year=valid_to.year - 5) + dt.timedelta(days=1)
        else:
            valid_from = admitted.replace(day=1) - dt.timedelta(days=365 * years + rng.randint(20, 200))
            valid_to = valid_from.replace(year=valid_from.year + 5) - dt.timedelta(days=1)
        materials = [factory.materials[m].id for m in supplied]
        suppliers.add_document(session, supplier, {
            "kind": kind, "number": number, "issuer": issuer, "valid_from": valid_from, "valid_to": valid_to,
            "scope": scope,
        }, materials)
        for platform, column, result in data.PLATFORMS:
            suppliers.record_platform_check(session, supplier, {
                "platform": platform, "column_name": column, "checked_on": admitted - dt.timedelta(days=2),
                "result": f"{name}：{result}", "checked_by": buyer.name,
            })
        for material_code in supplied:
            material = factory.materials[material_code]
            create(session, "supplier_material", {
                "supplier_id": supplier.id, "material_id": material.id, "spec": material.spec,
                "quality_requirements": f"符合 {material.standard}；每批附合格证明",
            })
        # The demo has no users, so nobody signs: the evaluations show their
        # approval as missing until a quality manager signs them.
        suppliers.evaluate(session, supplier, {
            "evaluated_on": admitted, "score": str(rng.randint(86, 97)), "verdict": "pass",
            "conclusion": "资质齐全、在有效期内，公示平台查询无异常，样品检验合格：评定为合格供方", "evaluator": manager.name,
        })


def _registry(address: str) -> str:
    """Who issued a business licence: the market-supervision bureau of the place."""
    for marker in ("区", "市", "县"):
        head, sep, _ = address.partition(marker)
        if sep and len(head) <= 12:
            return head + sep + "市场监督管理局"
    return "市场监督管理局"


def _products(session: Session, factory: Factory) -> None:
    for code, values in data.PRODUCTS.items():
        product = create(session, "product", dict(values, code=code))
        factory.products[code] = product
        factory.specs[code] = [
            create(session, "product_spec", {
                "product_id": product.id, "spec": spec, "net_content": net, "gtin": gtin(item),
            })
            for spec, net, item, _packaging, _carton in data.SPECS.get(code, [])
        ]
    for code, recipe in data.RECIPES.items():
        total = sum(Decimal(str(share)) for share in recipe.values())
        for component, share in recipe.items():
            proportion = (Decimal(str(share)) * 100 / total).quantize(Decimal("0.001"))
            create(session, "formula_item", {
                "product_id": factory.products[code].id,
                "material_id": factory.materials[component].id if component in factory.materials else None,
                "component_product_id": factory.products[component].id if component in factory.products else None,
                "proportion": max(proportion, Decimal("0.001")),
            })
    for code, steps in data.STEPS.items():
        product = factory.products[code]
        by_seq = {
            seq: create(session, "process_step", {
                "product_id": product.id, "seq": seq, "name": name, "description": requirement,
                "sterilisation_method": method,
            })
            for seq, name, requirement, method in steps
        }
        factory.ccps[code] = [
            create(session, "ccp", {
                "product_id": product.id, "step_id": by_seq[seq].id, "name": name, "controlled_item": item,
                "parameter": parameter, "lower_limit": lower, "upper_limit": upper, "unit": unit,
                "frequency": frequency, "corrective_action": action,
            })
            for seq, name, item, parameter, lower, upper, unit, frequency, action, _normal in data.CCPS[code]
        ]


def _standards(session: Session, factory: Factory) -> None:
    """The test items each product and material is inspected for (检验项目标准)."""
    for (kind, code), rows in data.STANDARDS.items():
        subject = ({"product_id": factory.products[code].id} if code in factory.products
                   else {"material_id": factory.materials[code].id})
        for seq, (item, method, requirement, low, high, unit, expected, basis, _normal) in enumerate(rows, start=1):
            quality.add_standard(session, dict(
                subject, kind=kind, seq=seq, item=item, method=method, requirement=requirement, limit_min=low,
                limit_max=high, unit=unit, expected=expected, basis=basis,
            ))


def test_items(session: Session, factory: Factory, kind: str, code: str, rng: Random,
               results: dict[str, str] | None = None) -> list[dict]:
    """The items of a demo inspection, prefilled from the standards as the entry
    screen does, with results drawn from their usual range (``results`` overrides
    by item name). Items without a checkable limit are judged conforming by the
    inspector; the others are judged by the service."""
    subject = ({"product_id": factory.products[code].id} if code in factory.products
               else {"material_id": factory.materials[code].id})
    normal = {row[0]: row[-1] for row in data.STANDARDS[(kind, code)]}
    items = []
    for standard in quality.standards_for(session, kind, **subject):
        drawn = _draw(normal[standard.item], standard.limit.unit, rng)  # drawn even when overridden: the story's
        result = (results or {}).get(standard.item) or drawn  # random numbers stay where they were
        items.append(dict(standard.as_item(), result=result,
                          verdict=None if standard.limit.checkable else "pass"))
    return items


def _draw(normal, unit: str | None, rng: Random) -> str:
    if not isinstance(normal, tuple):
        return normal
    low, high = normal
    decimals = max(len(str(v).partition(".")[2]) for v in (low, high))
    value = f"{rng.uniform(low, high):.{decimals}f}"
    return f"{value} {unit}" if unit else value


def _customers(session: Session, factory: Factory) -> None:
    for name, kind, address, contact, phone, stem in data.CUSTOMERS:
        customer = create(session, "customer", {
            "name": name, "address": address, "contact_person": contact, "phone": phone,
            "credit_code": credit_code(stem) if stem else None,
        })
        factory.customers.setdefault(kind, []).append(customer)
