"""GS1 EPCIS 2.0 export: every document validates against GS1's own JSON
schema, identifiers are GS1 Digital Link URIs where a GS1 key exists, event
IDs are stable, and a reader of the document alone finds every delivery of a
traced lot that app.services.trace finds."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest
from sqlalchemy import create_engine, func, select, text

from app.cli import main
from app.errors import UserError, ValidationError
from app.models import Delivery, IncomingInspection
from app.reports import epcis
from app.reports.epcis_ids import Identifiers, base_uri, digital_link_class, uom
from app.services import distribution, settings, trace

from .builders import TODAY, lot, plant, released_commodity

SCHEMA_NAME = "EPCIS-JSON-Schema.json"


def schema_path() -> Path:
    """GS1's schema, copied unchanged into tests/data/epcis/ (its README says
    from where), so a clone checks exports without the shared/ folder."""
    return Path(__file__).resolve().parents[1] / "data" / "epcis" / SCHEMA_NAME


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    # With the format checker, "uri" and "date-time" are checked too (by
    # rfc3986-validator and rfc3339-validator); without it they pass anything.
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def errors(validator, document) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(document)]


def events(document, **match) -> list[dict]:
    return [e for e in document["epcisBody"]["eventList"] if all(e.get(k) == v for k, v in match.items())]


def delivered(session, p, soy_lot, units=30):
    commodity = released_commodity(session, p, soy_lot)
    delivery = distribution.deliver(session, commodity, p.customer, units, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    return commodity, delivery


# ------------------------------------------------------------------ identifiers

def test_identifiers_use_gs1_keys_only_where_they_are_valid():
    assert digital_link_class("6901234567892", "DJ-01") == "https://id.gs1.org/01/06901234567892/10/DJ-01"
    assert digital_link_class("6901234567893", "DJ-01") is None  # wrong check digit
    assert digital_link_class("6901234567892", "批号一") is None  # not AI 10 characters
    assert digital_link_class("6901234567892", "X" * 21) is None  # longer than AI 10 allows
    ids = Identifiers("https://trace.example.cn/id/")
    assert ids.commodity_lot(None, "P02", "DJ-01") == "https://trace.example.cn/id/product/P02/lot/DJ-01"
    assert ids.party(None, "联华超市") == "https://trace.example.cn/id/party/name/%E8%81%94%E5%8D%8E%E8%B6%85%E5%B8%82"
    assert ids.event_id("shipping", "XS1") == ids.event_id("shipping", "XS1") != ids.event_id("shipping", "XS2")
    assert ids.event_id("shipping", "XS1").startswith("urn:uuid:")
    assert (uom("kg"), uom("mL"), uom("个"), uom("桶装"), uom(None)) == ("KGM", "MLT", "H87", None, None)


def test_the_format_checker_is_in_force(validator):
    """A document that only the formats make wrong is refused: the schema
    check below checks URIs and times, not just the shape."""
    bad = {"@context": [epcis.CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2026-11-22 10:00", "epcisBody": {"eventList": [{
               "type": "ObjectEvent", "eventID": "not a uri", "action": "OBSERVE", "epcList": [],
               "eventTime": "2026-11-22T10:00:00+08:00", "eventTimeZoneOffset": "+08:00"}]}}
    found = " ".join(errors(validator, bad))
    assert "date-time" in found and "uri" in found


# ------------------------------------------------------------------ one small plant

def test_a_trace_exports_every_kind_of_event_and_validates(session, validator, tmp_path):
    p = plant(session)
    soy = lot(session, p, p.soy)
    commodity, delivery = delivered(session, p, soy)
    result = trace.trace(session, soy.lot_no, "forward")
    summary = epcis.export_trace(session, result, tmp_path / "trace.jsonld")
    document = json.loads((tmp_path / "trace.jsonld").read_text(encoding="utf-8"))
    assert errors(validator, document) == []
    assert not list(tmp_path.glob("*.part"))
    counts = {kind: n for kind, n in summary.counts.items() if n}
    assert counts == {"receiving": 1, "production": 2, "packing": 1, "inspection": 1, "release": 1, "shipping": 1}

    digital_link = f"https://id.gs1.org/01/0{p.bottle.gtin}/10/{commodity.lot_code}"
    (shipping,) = events(document, bizStep="shipping")
    assert shipping["quantityList"] == [{"epcClass": digital_link, "quantity": 30}]
    assert shipping["eventTime"] == "2026-11-20T23:59:59+08:00"
    assert shipping["destinationList"][0]["type"] == "owning_party"
    assert delivery.delivery_no in shipping["bizTransactionList"][0]["bizTransaction"]
    (receiving,) = events(document, bizStep="receiving")
    assert receiving["action"] == "ADD" and receiving["disposition"] == "conformant"
    assert receiving["quantityList"][0]["uom"] == "KGM" and receiving["ilmd"]["fa:supplierLot"] == "HLJ-2611"
    assert "/party/uscc/" + p.supplier.credit_code in receiving["sourceList"][0]["source"]
    packing, = events(document, bizStep="packing")
    assert packing["outputQuantityList"] == [{"epcClass": digital_link, "quantity": 100}]
    milk = [e for e in events(document, type="TransformationEvent") if e["bizStep"] == "creating_class_instance"
            and e["ilmd"]["cbvmda:lotNumber"] == commodity.product_batch.batch_no][0]
    assert milk["inputQuantityList"][0]["epcClass"].endswith("/product/P01/batch/" + result.product_batches[0]["batch_no"])
    (inspection,) = events(document, bizStep="inspecting")
    assert inspection["disposition"] == "conformant" and inspection["fa:testItems"][0]["fa:item"] == "菌落总数"
    (release,) = events(document, disposition="sellable_not_accessible")
    assert commodity.certificate_no in release["bizTransactionList"][0]["bizTransaction"]
    names = {element["id"]: element["attributes"][0]["attribute"]
             for vocabulary in document["epcisHeader"]["epcisMasterData"]["vocabularyList"]
             for element in vocabulary["vocabularyElementList"]}
    assert names[digital_link] == "原味豆浆 250mL"
    assert p.customer.name in names.values() and "上海测试豆制品有限公司" in names.values()

    again, _ = epcis.build_document(session, epcis.trace_scope(session, result))
    assert [e["eventID"] for e in again["epcisBody"]["eventList"]] == [e["eventID"] for e in document["epcisBody"]["eventList"]]
    assert len({e["eventID"] for e in document["epcisBody"]["eventList"]}) == summary.events


def test_recall_returns_and_destruction(session, validator):
    p = plant(session)
    commodity, delivery = delivered(session, p, lot(session, p, p.soy), units=40)
    record = distribution.recall(session, commodity.product_batch, dict(
        started_on="2026-11-21", reason="菌落总数超标", manager_id=p.person.id))
    distribution.record_return(session, record.progress[0], 40, TODAY)
    distribution.destroy(session, dict(
        product_batch_id=commodity.product_batch_id, commodity_batch_id=commodity.id, destroyed_at="2026-11-21 15:00",
        place="厂区无害化处理点", method="粉碎", units=100, people="王质检"))
    document, summary = epcis.build_document(session, epcis.period_scope(TODAY, TODAY.replace(day=21)))
    assert errors(validator, document) == []
    recall, = events(document, disposition="recalled", bizStep=None)
    assert recall["fa:recallReason"] == "菌落总数超标"
    assert recall["quantityList"] == [{"epcClass": f"https://id.gs1.org/01/0{p.bottle.gtin}/10/{commodity.lot_code}"}]
    returned, = events(document, bizStep="receiving", disposition="recalled")
    assert returned["quantityList"][0]["quantity"] == 40
    assert returned["sourceList"][0]["source"].endswith("/party/name/" + quote(p.customer.name, safe=""))
    destroyed, = events(document, bizStep="destroying")
    assert destroyed["action"] == "DELETE" and destroyed["disposition"] == "destroyed"
    assert destroyed["quantityList"][0]["quantity"] == 100 and "王质检" not in json.dumps(document, ensure_ascii=False)


def test_our_base_and_a_unit_without_a_code(session, validator):
    p = plant(session)
    settings.put(session, "epcis_id_base", "https://trace.example.cn/id/")
    soy = lot(session, p, p.soy, unit="桶装")
    document, summary = epcis.build_document(session, epcis.period_scope(TODAY.replace(day=10), TODAY.replace(day=10)))
    assert errors(validator, document) == []
    receiving, = events(document, bizStep="receiving")
    assert receiving["quantityList"] == [{"epcClass": f"https://trace.example.cn/id/material/M001/lot/{soy.lot_no}"}]
    assert summary.warnings and "桶装" in summary.warnings[0]
    for bad in ("trace.example.cn", "https://trace.example.cn/?a=1", "https://追溯.cn", "ftp://x.cn"):
        with pytest.raises(ValidationError, match="EPCIS 自有标识前缀"):
            settings.put(session, "epcis_id_base", bad)
    settings.put(session, "epcis_id_base", "")
    assert epcis.build_document(session, epcis.period_scope(TODAY, TODAY))[0]["epcisBody"]["eventList"] == []


def test_a_period_must_run_forwards(session):
    plant(session)
    with pytest.raises(UserError, match="晚于"):
        epcis.period_scope(TODAY, TODAY.replace(day=1))


# ------------------------------------------------------------------ the demo factory

def read_back_deliveries(document: dict, start_class: str) -> set[str]:
    """What a buyer's system can find from the document alone: follow
    TransformationEvents from a lot's class to every class made from it, then
    the shipping events of those classes, to their delivery documents."""
    made_from: dict[str, set[str]] = {}
    for event in events(document, type="TransformationEvent"):
        for source in event.get("inputQuantityList", []):
            made_from.setdefault(source["epcClass"], set()).update(
                out["epcClass"] for out in event.get("outputQuantityList", []))
    reached, frontier = {start_class}, [start_class]
    while frontier:
        for product in made_from.get(frontier.pop(), ()):
            if product not in reached:
                reached.add(product)
                frontier.append(product)
    return {transaction["bizTransaction"].rsplit("/", 1)[1]
            for event in events(document, bizStep="shipping")
            if any(q["epcClass"] in reached for q in event["quantityList"])
            for transaction in event["bizTransactionList"] if transaction.get("type") == "desadv"}


@pytest.mark.slow
def test_the_demo_period_validates_and_a_reader_finds_every_delivery(demo_db_file, validator, tmp_path, capsys):
    db = str(demo_db_file[0])
    out = tmp_path / "demo.jsonld"
    assert main(["--db", db, "export-epcis", "--from", "2026-08-01", "--to", "2026-11-30", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    document = json.loads(out.read_text(encoding="utf-8"))
    assert errors(validator, document) == []
    engine = create_engine(f"sqlite:///{db}")
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        assert len(events(document, bizStep="receiving", action="ADD")) == session.scalar(select(func.count(IncomingInspection.id)))
        assert len(events(document, bizStep="shipping")) == session.scalar(select(func.count(Delivery.id)))
        assert f"{len(document['epcisBody']['eventList'])} 个事件" in said
        soy_lots = session.execute(text(
            "SELECT l.lot_no, m.code FROM material_lot l JOIN material m ON m.id = l.material_id "
            "WHERE m.name LIKE '%大豆%' AND EXISTS (SELECT 1 FROM feeding f WHERE f.material_lot_id = l.id) "
            "ORDER BY l.lot_no")).all()
        ids = Identifiers(base_uri("", session.scalar(text("SELECT credit_code FROM enterprise"))))
        checked = 0
        for lot_no, material_code in soy_lots[:3]:
            traced = {d["delivery_no"] for d in trace.trace(session, lot_no, "forward").deliveries}
            assert traced and read_back_deliveries(document, ids.material_lot(material_code, lot_no)) == traced
            checked += 1
        assert checked == 3
    engine.dispose()


def test_cli_refuses_bad_dates_in_one_line(demo_db_file, tmp_path, capsys):
    db = str(demo_db_file[0])
    for first, last, said in (("2026-13-01", "2026-11-30", "--from"), ("2026-11-30", "2026-11-01", "晚于")):
        assert main(["--db", db, "export-epcis", "--from", first, "--to", last, "--out", str(tmp_path / "x.jsonld")]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("错误：") and said in err and "\n" not in err
    assert not (tmp_path / "x.jsonld").exists()
