"""R4.1, R4.4: forward/backward trace with quantities, and the mass balance."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import UserError
from app.models import (
    CommodityBatch,
    Customer,
    Delivery,
    Feeding,
    IncomingInspection,
    Material,
    MaterialLot,
    Person,
    Product,
    ProductBatch,
    ProductSpec,
    StockMovement,
    Supplier,
)
from app.services import settings as app_settings
from app.services.trace import trace

DAY = dt.date(2024, 5, 6)
AT = dt.datetime(2024, 5, 6, 8, 0)
JSON_KEYS = {"material_lots", "product_batches", "commodity_batches", "deliveries", "customers",
             "suppliers", "mass_balance"}


class Build:
    """Rows with every non-nullable column filled; the caller flushes."""

    def __init__(self, session):
        self.session = session
        self.person = Person(employee_no="E001", name="张三", post="production")
        self.material = Material(code="M001", name="小麦粉", category="raw")
        self.product = Product(code="P001", name="馒头", kind="finished")
        self.spec = ProductSpec(product=self.product, spec="500g/袋", net_content=Decimal("0.5"))
        session.add_all([self.person, self.material, self.product, self.spec])
        session.flush()

    def add(self, obj):
        self.session.add(obj)
        return obj

    def supplier(self, name):
        return self.add(Supplier(name=name, address=f"{name}地址", contact_person="李四", phone="021-1000"))

    def customer(self, name):
        return self.add(Customer(name=name, address=f"{name}地址", contact_person="王五", phone="021-2000"))

    def lot(self, lot_no, supplier, supplier_lot, received, on_hand=None, material=None):
        material = material or self.material
        receipt = IncomingInspection(
            receipt_no=f"R-{lot_no}", material=material, supplier=supplier, quantity=received, unit="kg",
            production_date=DAY, supplier_lot=supplier_lot, receipt_date=DAY, decision="accepted",
            inspector_id=self.person.id)
        return self.add(MaterialLot(
            lot_no=lot_no, material=material, supplier=supplier, receipt=receipt, supplier_lot=supplier_lot,
            quantity_received=received, quantity_on_hand=received if on_hand is None else on_hand,
            unit="kg", production_date=DAY))

    def movement(self, lot, kind, quantity):
        """A stock-ledger line; StockMovement has no relationship, so the lot needs its id."""
        self.session.flush()
        return self.add(StockMovement(lot_id=lot.id, moved_at=AT, kind=kind, quantity=quantity, balance=Decimal(0)))

    def batch(self, batch_no, output=None, losses=None, on_hand=None, product=None):
        return self.add(ProductBatch(
            batch_no=batch_no, product=product or self.product, production_date=DAY, output_quantity=output,
            loss_quantity=losses, quantity_on_hand=on_hand))

    def feed(self, batch, quantity, lot=None, source=None):
        return self.add(Feeding(batch=batch, material_lot=lot, source_batch=source, quantity=quantity,
                                unit="kg", fed_at=AT, operator_id=self.person.id))

    def commodity(self, lot_code, batch, used, units):
        return self.add(CommodityBatch(
            lot_code=lot_code, product_batch=batch, spec=self.spec, packed_from=AT, packed_to=AT, units=units,
            product_quantity_used=used, units_on_hand=0, production_date=DAY, operator_id=self.person.id))

    def deliver(self, delivery_no, commodity, customer, units):
        return self.add(Delivery(delivery_no=delivery_no, commodity_batch=commodity, customer=customer,
                                 units=units, sale_date=DAY, certificate_no="HG-1", clerk_id=self.person.id))


def numbers(entries, key):
    return [entry[key] for entry in entries]


def links(entries, source_key, list_key, target_key):
    return Counter((e[source_key], link[target_key], Decimal(link["quantity"]))
                   for e in entries for link in e[list_key])


@pytest.fixture
def example(session):
    """L1 → semi-finished SB1 → mixed with L2 into FB1 → C1 → D1 (客户甲), D2 (客户乙); plus unrelated rows."""
    b = Build(session)
    sup_a, sup_b = b.supplier("面粉供应商"), b.supplier("白糖供应商")
    sugar = b.add(Material(code="M002", name="白砂糖", category="raw"))
    semi = b.add(Product(code="P002", name="面团", kind="semi_finished"))
    l1 = b.lot("L1", sup_a, "SA-1", Decimal("100"), on_hand=Decimal("70"))
    l2 = b.lot("L2", sup_b, "SB-7", Decimal("50"), on_hand=Decimal("40"), material=sugar)
    l3 = b.lot("L3", sup_b, "SB-8", Decimal("20"), on_hand=Decimal("20"), material=sugar)
    sb1 = b.batch("SB1", output=Decimal("29"), losses=Decimal("1"), on_hand=Decimal("0"), product=semi)
    fb1 = b.batch("FB1", output=Decimal("38.5"), losses=Decimal("0.5"), on_hand=Decimal("0"))
    other = b.batch("FB9", output=Decimal("20"), losses=Decimal("0"), on_hand=Decimal("0"))
    b.feed(sb1, Decimal("30"), lot=l1)
    b.feed(fb1, Decimal("29"), source=sb1)
    b.feed(fb1, Decimal("10"), lot=l2)
    b.feed(other, Decimal("20"), lot=l3)
    c1 = b.commodity("C1", fb1, Decimal("38.5"), 77)
    c9 = b.commodity("C9", other, Decimal("20"), 40)
    jia, yi, bing = b.customer("客户甲"), b.customer("客户乙"), b.customer("客户丙")
    b.deliver("D1", c1, jia, 40)
    b.deliver("D2", c1, yi, 37)
    b.deliver("D9", c9, bing, 40)
    b.movement(l1, "issue", Decimal("-30"))
    b.movement(l2, "issue", Decimal("-10"))
    session.flush()
    return session


def test_forward_from_material_lot(example):
    data = trace(example, "L1", "forward").to_json()
    assert JSON_KEYS <= set(data) and data["direction"] == "forward" and data["query"] == "L1"
    json.dumps(data, ensure_ascii=False)
    assert numbers(data["material_lots"], "lot_no") == ["L1"]
    assert numbers(data["product_batches"], "batch_no") == ["FB1", "SB1"]
    assert numbers(data["commodity_batches"], "lot_code") == ["C1"]
    assert numbers(data["deliveries"], "delivery_no") == ["D1", "D2"]
    assert [(c["name"], c["phone"], c["contact_person"], c["units_delivered"]) for c in data["customers"]] == [
        ("客户乙", "021-2000", "王五", 37), ("客户甲", "021-2000", "王五", 40)]
    assert data["customers"][0]["address"] == "客户乙地址"
    assert numbers(data["suppliers"], "name") == ["面粉供应商"]
    lot = data["material_lots"][0]
    assert (lot["supplier_lot"], lot["material"], lot["quantity_fed_into"]) == ("SA-1", "小麦粉", "30.000")
    assert lot["fed_into"] == [{"batch_no": "SB1", "quantity": "30.000", "unit": "kg"}]
    fb1 = data["product_batches"][0]
    # Only links inside the traced set: L2 did not come from L1.
    assert [(i["kind"], i["batch_no"], i["quantity"]) for i in fb1["inputs"]] == [("product_batch", "SB1", "29.000")]
    assert fb1["packed_into"] == [{"lot_code": "C1", "quantity": "38.500", "unit": "kg"}]
    assert (fb1["quantity_in"], data["product_batches"][1]["quantity_fed_into"]) == ("29.000", "29.000")
    sold = data["commodity_batches"][0]["deliveries"]
    assert [(d["delivery_no"], d["units"]) for d in sold] == [("D1", 40), ("D2", 37)]
    assert data["deliveries"][0]["customer"] == "客户甲" and data["deliveries"][0]["sale_date"] == "2024-05-06"


def test_backward_from_delivery(example):
    result = trace(example, "D1", "backward")
    data = result.to_json()
    assert numbers(data["deliveries"], "delivery_no") == ["D1"]
    assert numbers(data["customers"], "name") == ["客户甲"]
    assert numbers(data["commodity_batches"], "lot_code") == ["C1"]
    assert numbers(data["product_batches"], "batch_no") == ["FB1", "SB1"]
    assert numbers(data["material_lots"], "lot_no") == ["L1", "L2"]
    assert numbers(data["suppliers"], "name") == ["白糖供应商", "面粉供应商"]
    assert links(data["product_batches"], "batch_no", "fed_into", "batch_no") == Counter(
        {("SB1", "FB1", Decimal(29)): 1})
    assert links(data["material_lots"], "lot_no", "fed_into", "batch_no") == Counter(
        {("L1", "SB1", Decimal(30)): 1, ("L2", "FB1", Decimal(10)): 1})
    assert [s["lots"][0]["lot_no"] for s in data["suppliers"]] == ["L2", "L1"]
    # The example adds up: no mass-balance flag anywhere.
    assert result.flags() == []
    assert {m["lot_no"] for m in data["mass_balance"]["material_lots"]} == {"L1", "L2"}
    assert {m["batch_no"] for m in data["mass_balance"]["product_batches"]} == {"FB1", "SB1"}
    lines = result.summary_lines()
    assert lines[0].startswith("反向追溯「D1」") and "物料平衡：未发现异常" in lines
    assert any("客户甲" in line and "021-2000" in line for line in lines)
    assert any(line.startswith("……另有物料批次 1 条") for line in result.summary_lines(limit=1))


def test_backward_from_commodity_batch_and_forward_from_batch(example):
    back = trace(example, "C1", "backward").to_json()
    assert numbers(back["deliveries"], "delivery_no") == [] and back["customers"] == []
    assert numbers(back["material_lots"], "lot_no") == ["L1", "L2"]
    forward = trace(example, "SB1", "forward").to_json()
    assert numbers(forward["product_batches"], "batch_no") == ["FB1", "SB1"]
    assert forward["material_lots"] == [] and forward["suppliers"] == []
    assert numbers(forward["deliveries"], "delivery_no") == ["D1", "D2"]


def test_supplier_lot_matching_two_lots_traces_both(session):
    b = Build(session)
    sup_a, sup_b = b.supplier("甲厂"), b.supplier("乙厂")
    lot_a, lot_b = b.lot("L-A", sup_a, "SUP-42", Decimal("10")), b.lot("L-B", sup_b, "SUP-42", Decimal("5"))
    b.lot("L-C", sup_a, "SUP-43", Decimal("5"))
    batch_a, batch_b = b.batch("BA"), b.batch("BB")
    b.feed(batch_a, Decimal("4"), lot=lot_a)
    b.feed(batch_b, Decimal("5"), lot=lot_b)
    session.flush()
    data = trace(session, " SUP-42 ", "forward").to_json()
    assert data["query"] == "SUP-42"
    assert numbers(data["material_lots"], "lot_no") == ["L-A", "L-B"]
    assert numbers(data["product_batches"], "batch_no") == ["BA", "BB"]
    assert numbers(data["suppliers"], "name") == ["乙厂", "甲厂"]


def test_unknown_number_and_bad_direction(session):
    with pytest.raises(UserError, match="找不到批号或单号「NOPE」"):
        trace(session, "NOPE", "forward")
    with pytest.raises(UserError, match="追溯方向"):
        trace(session, "NOPE", "sideways")
    with pytest.raises(UserError, match="请输入"):
        trace(session, "  ", "backward")


def test_mass_balance_flags(session):
    b = Build(session)
    sup = b.supplier("甲厂")
    short = b.lot("L-SHORT", sup, "S1", Decimal("100"), on_hand=Decimal("80"))  # 100 − 30 − 5 ≠ 80
    b.movement(short, "issue", Decimal("-30"))
    b.movement(short, "write_off", Decimal("-5"))
    grown = b.batch("B-GROWN", output=Decimal("20"), losses=Decimal("0"), on_hand=Decimal("20"))
    close = b.batch("B-CLOSE", output=Decimal("29.75"), losses=Decimal("0"), on_hand=Decimal("29.75"))
    b.feed(grown, Decimal("10"), lot=short)
    b.feed(close, Decimal("20"), lot=short)
    b.feed(close, Decimal("10"), source=grown)  # B-GROWN: 20 produced, 10 fed onward, 20 on hand
    session.flush()
    result = trace(session, "L-SHORT", "forward")
    balance = result.to_json()["mass_balance"]
    lot = balance["material_lots"][0]
    assert (lot["received"], lot["issued"], lot["written_off"], lot["in_stock"], lot["discrepancy"]) == (
        "100.000", "30.000", "5.000", "80.000", "-15.000")
    assert lot["flagged"] and "账实不符" in lot["flags"][0]
    batches = {m["batch_no"]: m for m in balance["product_batches"]}
    grown_balance = batches["B-GROWN"]
    assert (grown_balance["fed"], grown_balance["produced"], grown_balance["fed_onward"]) == (
        "10.000", "20.000", "10.000")
    assert len(grown_balance["flags"]) == 2  # output > feeding, and 20 ≠ 0 + 10 + 20
    # 30 fed, 29.75 produced: within the default 1 % tolerance.
    assert batches["B-CLOSE"]["flags"] == [] and balance["tolerance"] == "0.01"
    app_settings.put(session, "mass_balance_tolerance", "0.001")
    tight = trace(session, "B-CLOSE", "forward").to_json()["mass_balance"]["product_batches"]
    assert tight[0]["flagged"] and "0.1%" in tight[0]["flags"][0]
    assert any(line.startswith("物料平衡异常") for line in result.summary_lines())


def test_cycle_in_batch_graph_ends(session):
    b = Build(session)
    lot = b.lot("L-CYC", b.supplier("甲厂"), "S1", Decimal("10"))
    first, second = b.batch("B-1"), b.batch("B-2")
    b.feed(first, Decimal("1"), lot=lot)
    b.feed(second, Decimal("1"), source=first)
    b.feed(first, Decimal("1"), source=second)  # wrong data, but the trace must still end
    session.flush()
    assert numbers(trace(session, "L-CYC", "forward").product_batches, "batch_no") == ["B-1", "B-2"]
    assert numbers(trace(session, "B-2", "backward").material_lots, "lot_no") == ["L-CYC"]


# ---------------------------------------------------------------- property test


@dataclass
class Drawn:
    lots: list  # (supplier index, supplier lot)
    batches: list  # per batch: [("lot" | "batch", source index, quantity)]
    commodities: list  # (batch index, quantity used)
    deliveries: list  # (commodity index, customer index, units)
    starts: list  # (number, direction)


NAMES = {"lot": "L{:02d}", "batch": "B{:02d}", "commodity": "C{:02d}", "delivery": "D{:02d}"}


def name(kind, index):
    return NAMES[kind].format(index)


quantities = st.integers(1, 400).map(lambda n: Decimal(n) / 8)


@st.composite
def graphs(draw):
    lots = draw(st.lists(st.tuples(st.integers(0, 1), st.sampled_from(["S1", "S2", "S3"])), min_size=1, max_size=8))
    batches = []
    for index in range(draw(st.integers(1, 10))):
        sources = [("lot", i) for i in range(len(lots))] + [("batch", j) for j in range(index)]
        chosen = draw(st.lists(st.sampled_from(sources), unique=True, max_size=4))
        batches.append([(kind, i, draw(quantities)) for kind, i in chosen])
    commodities = draw(st.lists(st.tuples(st.integers(0, len(batches) - 1), quantities), max_size=6))
    deliveries = draw(st.lists(
        st.tuples(st.integers(0, len(commodities) - 1), st.integers(0, 2), st.integers(1, 99)),
        max_size=8)) if commodities else []
    candidates = ([name("lot", i) for i in range(len(lots))] + sorted({s for _, s in lots})
                  + [name("batch", i) for i in range(len(batches))]
                  + [name("commodity", i) for i in range(len(commodities))]
                  + [name("delivery", i) for i in range(len(deliveries))])
    starts = draw(st.lists(st.tuples(st.sampled_from(candidates), st.sampled_from(["forward", "backward"])),
                           min_size=1, max_size=3))
    return Drawn(lots, batches, commodities, deliveries, starts)


def insert(session, g: Drawn) -> None:
    b = Build(session)
    suppliers = [b.supplier(f"供应商{i}") for i in range(2)]
    customers = [b.customer(f"客户{i}") for i in range(3)]
    lots = [b.lot(name("lot", i), suppliers[s], sl, Decimal(1000)) for i, (s, sl) in enumerate(g.lots)]
    batches = [b.batch(name("batch", i)) for i in range(len(g.batches))]
    for target, inputs in zip(batches, g.batches):
        for kind, i, quantity in inputs:
            b.feed(target, quantity, **({"lot": lots[i]} if kind == "lot" else {"source": batches[i]}))
    commodities = [b.commodity(name("commodity", i), batches[bi], q, 10) for i, (bi, q) in enumerate(g.commodities)]
    for i, (ci, cu, units) in enumerate(g.deliveries):
        b.deliver(name("delivery", i), commodities[ci], customers[cu], units)
    session.flush()


def brute_force(g: Drawn, number: str, direction: str) -> dict:
    """The expected trace, by fixpoint over the drawn lists (no database)."""
    feeds = [(kind, src, dst, q) for dst, inputs in enumerate(g.batches) for kind, src, q in inputs]
    lots = {i for i, (_s, sl) in enumerate(g.lots) if number in (name("lot", i), sl)}
    batches = {i for i in range(len(g.batches)) if name("batch", i) == number}
    cbs = {i for i in range(len(g.commodities)) if name("commodity", i) == number}
    dels = {i for i in range(len(g.deliveries)) if name("delivery", i) == number}
    if direction == "forward":
        while new := {dst for kind, src, dst, _q in feeds if src in (lots if kind == "lot" else batches)} - batches:
            batches |= new
        cbs |= {i for i, (bi, _q) in enumerate(g.commodities) if bi in batches}
        dels |= {i for i, (ci, _cu, _u) in enumerate(g.deliveries) if ci in cbs}
    else:
        cbs |= {g.deliveries[i][0] for i in dels}
        batches |= {g.commodities[i][0] for i in cbs}
        while new := {src for kind, src, dst, _q in feeds if kind == "batch" and dst in batches} - batches:
            batches |= new
        lots |= {src for kind, src, dst, _q in feeds if kind == "lot" and dst in batches}
    members = {"lot": lots, "batch": batches}
    return {
        "lots": sorted(name("lot", i) for i in lots),
        "batches": sorted(name("batch", i) for i in batches),
        "commodities": sorted(name("commodity", i) for i in cbs),
        "deliveries": sorted(name("delivery", i) for i in dels),
        "customers": sorted({f"客户{g.deliveries[i][1]}" for i in dels}),
        "suppliers": sorted({f"供应商{g.lots[i][0]}" for i in lots}),
        "feed_links": Counter((name(kind, src), name("batch", dst), q) for kind, src, dst, q in feeds
                              if src in members[kind] and dst in batches),
        "pack_links": Counter((name("batch", bi), name("commodity", i), q)
                              for i, (bi, q) in enumerate(g.commodities) if i in cbs and bi in batches),
        "fed": {name("batch", i): sum((q for *_x, dst, q in feeds if dst == i), Decimal(0)) for i in batches},
    }


def observed(data: dict) -> dict:
    lots, batches = data["material_lots"], data["product_batches"]
    return {
        "lots": numbers(lots, "lot_no"),
        "batches": numbers(batches, "batch_no"),
        "commodities": numbers(data["commodity_batches"], "lot_code"),
        "deliveries": numbers(data["deliveries"], "delivery_no"),
        "customers": numbers(data["customers"], "name"),
        "suppliers": numbers(data["suppliers"], "name"),
        "feed_links": (links(lots, "lot_no", "fed_into", "batch_no")
                       + links(batches, "batch_no", "fed_into", "batch_no")),
        "pack_links": links(batches, "batch_no", "packed_into", "lot_code"),
        "fed": {m["batch_no"]: Decimal(m["fed"]) for m in data["mass_balance"]["product_batches"]},
    }


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(g=graphs())
def test_trace_matches_brute_force(session, g):
    savepoint = session.begin_nested()  # each example sees only its own rows
    try:
        insert(session, g)
        for number, direction in g.starts:
            data = trace(session, number, direction).to_json()
            assert observed(data) == brute_force(g, number, direction), (number, direction)
            # Every input link seen from the target side matches the source side.
            inputs = Counter((i.get("lot_no") or i["batch_no"], e["batch_no"], Decimal(i["quantity"]))
                             for e in data["product_batches"] for i in e["inputs"])
            assert inputs == observed(data)["feed_links"]
    finally:
        savepoint.rollback()


def test_the_json_text_is_to_json(example):
    for number, direction in (("L1", "forward"), ("D1", "backward"), ("SB1", "forward")):
        result = trace(example, number, direction)
        assert json.loads(result.json_text()) == result.to_json()


# ---------------------------------------------------------------- property test on a generated factory


def expected_from_rows(f, number: str, direction: str) -> dict:
    """The trace of ``number`` by fixpoint over the generated rows (no database)."""
    lot_no = {r["id"]: r["lot_no"] for r in f.rows("material_lot")}
    batch_no = {r["id"]: r["batch_no"] for r in f.rows("product_batch")}
    feeds = [("lot" if r["material_lot_id"] else "batch", r["material_lot_id"] or r["source_batch_id"], r["batch_id"],
              Decimal(r["quantity"])) for r in f.rows("feeding")]
    packs = {r["id"]: r for r in f.rows("commodity_batch")}
    sales = {r["id"]: r for r in f.rows("delivery")}
    lots = {r["id"] for r in f.rows("material_lot") if number in (r["lot_no"], r["supplier_lot"])}
    batches = {i for i, n in batch_no.items() if n == number}
    cbs = {i for i, r in packs.items() if r["lot_code"] == number}
    dels = {i for i, r in sales.items() if r["delivery_no"] == number}
    if direction == "forward":
        while new := {dst for kind, src, dst, _q in feeds if src in (lots if kind == "lot" else batches)} - batches:
            batches |= new
        cbs |= {i for i, r in packs.items() if r["product_batch_id"] in batches}
        dels |= {i for i, r in sales.items() if r["commodity_batch_id"] in cbs}
    else:
        cbs |= {sales[i]["commodity_batch_id"] for i in dels}
        batches |= {packs[i]["product_batch_id"] for i in cbs}
        while new := {src for kind, src, dst, _q in feeds if kind == "batch" and dst in batches} - batches:
            batches |= new
        lots |= {src for kind, src, dst, _q in feeds if kind == "lot" and dst in batches}
    members = {"lot": lots, "batch": batches}
    source_name = {"lot": lot_no, "batch": batch_no}
    supplier_of = {r["id"]: r["supplier_id"] for r in f.rows("material_lot")}
    customers = {r["id"]: r["name"] for r in f.rows("customer")}
    suppliers = {r["id"]: r["name"] for r in f.rows("supplier")}
    return {
        "lots": sorted(lot_no[i] for i in lots),
        "batches": sorted(batch_no[i] for i in batches),
        "commodities": sorted(packs[i]["lot_code"] for i in cbs),
        "deliveries": sorted(sales[i]["delivery_no"] for i in dels),
        "customers": sorted({customers[sales[i]["customer_id"]] for i in dels}),
        "suppliers": sorted({suppliers[supplier_of[i]] for i in lots}),
        "feed_links": Counter((source_name[kind][src], batch_no[dst], q) for kind, src, dst, q in feeds
                              if src in members[kind] and dst in batches),
        "pack_links": Counter((batch_no[r["product_batch_id"]], r["lot_code"], Decimal(r["product_quantity_used"]))
                              for i, r in packs.items() if i in cbs and r["product_batch_id"] in batches),
        "fed": {batch_no[i]: sum((q for *_x, dst, q in feeds if dst == i), Decimal(0)) for i in batches},
    }


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), picks=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["forward", "backward"])),
                                                   min_size=1, max_size=4))
def test_trace_of_a_generated_factory_matches_brute_force(session, seed, picks):
    """Five levels, three of them mixing, shared supplier lots and a salt lot: the
    generator the benches use (bench/factory.py), at a few dozen rows."""
    from bench.factory import SALT_LOT, Plan, generate, load

    factory = generate(Plan.tiny(seed))
    candidates = ([SALT_LOT] + [r["lot_no"] for r in factory.rows("material_lot")]
                  + [r["supplier_lot"] for r in factory.rows("material_lot")]
                  + [r["batch_no"] for r in factory.rows("product_batch")]
                  + [r["lot_code"] for r in factory.rows("commodity_batch")]
                  + [r["delivery_no"] for r in factory.rows("delivery")])
    savepoint = session.begin_nested()
    try:
        load(session.connection(), factory)
        for pick, direction in picks:
            number = candidates[pick % len(candidates)]
            result = trace(session, number, direction)
            data = result.to_json()
            assert observed(data) == expected_from_rows(factory, number, direction), (number, direction)
            assert result.flags() == []  # the generated quantities add up
            assert json.loads(result.json_text()) == data
    finally:
        savepoint.rollback()
