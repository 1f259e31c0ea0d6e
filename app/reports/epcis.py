"""GS1 EPCIS 2.0 export (JSON-LD): what happened to our lots, in the event
language buyers' traceability systems read (R4.2; standards.md).

One document holds the events of a period (``export_period``, the command
``foodarchive export-epcis``) or of one trace (``export_trace``, the trace
view): receipts, production, packing, inspections, releases, deliveries,
recall returns and destructions, each mapped as docs/epcis.md tabulates.
Identifiers come from ``epcis_ids``; event IDs are stable name-based URNs,
so the same record gives the same eventID in every export.

Records that keep only a date (receipt, sale, recall) get a time on that day
in China Standard Time: receipts at 00:00, recalls and returns at 12:00,
sales at 23:59:59, so one day's events keep their order (received, made,
released, shipped). Qt-free; the document validates against GS1's JSON
schema (tests/unit/test_epcis.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from app.errors import UserError
from app.models import (
    CommodityBatch,
    Delivery,
    Destruction,
    Enterprise,
    Customer,
    Feeding,
    IncomingInspection,
    Inspection,
    Material,
    MaterialLot,
    PackagingRecord,
    Product,
    ProductBatch,
    ProductionLine,
    ProductSpec,
    Recall,
    RecallProgress,
    Supplier,
    Warehouse,
)
from app.services import common, settings, users
from app.services.trace import TraceResult

from .epcis_ids import Identifiers, base_uri, uom

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
OWN_PREFIX, OWN_VOCABULARY = "fa", "urn:foodarchive:epcis:"
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
OFFSET = "+08:00"
CHUNK = 500
# The Chinese name of each kind of event, in the order of a day.
KINDS = {
    "receiving": "收货", "production": "生产", "packing": "包装", "inspection": "检验", "release": "放行",
    "shipping": "发货", "recall": "召回", "return": "召回退货", "destruction": "销毁",
}
VTYPE = "urn:epcglobal:epcis:vtype:"


def _fa(name: str) -> str:
    return f"{OWN_PREFIX}:{name}"


def _time(moment: dt.datetime | dt.date, at: dt.time = dt.time(0, 0)) -> str:
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, at)
    return moment.replace(microsecond=0, tzinfo=CHINA).isoformat()


def _number(value) -> int | float:
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


# ---------------------------------------------------------------- scope

@dataclass
class Scope:
    """Which records become events: those of a period (both days included),
    or the members of one trace (ids of its lots, batches, commodity lots and
    deliveries)."""

    first: dt.date | None = None
    last: dt.date | None = None
    lots: set[int] = field(default_factory=set)
    batches: set[int] = field(default_factory=set)
    commodities: set[int] = field(default_factory=set)
    deliveries: set[int] = field(default_factory=set)
    label: str = ""

    @property
    def is_period(self) -> bool:
        return self.first is not None

    def dates(self, column) -> list:
        return [column.between(self.first, self.last)]

    def moments(self, column) -> list:
        start = dt.datetime.combine(self.first, dt.time.min)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min)
        return [and_(column >= start, column < end)]

    def members(self, column, ids: set[int]) -> list:
        return [column.in_(chunk) for chunk in _chunks(ids)]


def period_scope(first: dt.date, last: dt.date) -> Scope:
    if first > last:
        raise UserError(f"起始日期 {first} 晚于截止日期 {last}")
    return Scope(first=first, last=last, label=f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}")


def trace_scope(session: Session, result: TraceResult) -> Scope:
    """A sale line of a trace carries its number, not its id (it holds only what
    is shown): the ids are read by number."""
    direction = "正向" if result.direction == "forward" else "反向"
    numbers = sorted({e["delivery_no"] for e in result.deliveries})
    deliveries: set[int] = set()
    for chunk in _chunks(numbers):
        deliveries.update(session.scalars(select(Delivery.id).where(Delivery.delivery_no.in_(chunk))))
    return Scope(
        lots={e["id"] for e in result.material_lots}, batches={e["id"] for e in result.product_batches},
        commodities={e["id"] for e in result.commodity_batches}, deliveries=deliveries,
        label=f"{direction}追溯「{result.query}」",
    )


# ---------------------------------------------------------------- the builder

@dataclass
class Summary:
    path: str
    counts: Counter
    warnings: list[str]

    @property
    def events(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        parts = "，".join(f"{KINDS[k]} {n}" for k, n in self.counts.items() if n)
        return f"{self.events} 个事件" + (f"（{parts}）" if parts else "")


class _Builder:
    def __init__(self, session: Session, scope: Scope):
        self.session, self.scope = session, scope
        self.enterprise = session.scalar(select(Enterprise).limit(1))
        if self.enterprise is None:
            raise UserError("还没有填写企业信息，无法导出 EPCIS 数据")
        credit = self.enterprise.credit_code
        self.ids = Identifiers(base_uri(settings.get(session, "epcis_id_base"), credit))
        self.us = self.ids.party(credit, self.enterprise.name)
        self.site = self.ids.place("site")
        self.events: list[tuple[str, str, str, dict]] = []
        self.names: dict[str, tuple[str, dict[str, str]]] = {}
        self.warnings: list[str] = []
        self.counts: Counter = Counter({kind: 0 for kind in KINDS})
        self._name(self.us, "SourceDest", self.enterprise.name, self.enterprise.address)
        self._name(self.site, "BusinessLocation", self.enterprise.name, self.enterprise.address)
        # Master data is small: loaded once, every many-to-one lookup below is
        # then answered from the session's identity map instead of a query.
        self._loaded = [session.scalars(select(model)).all()
                        for model in (Product, ProductSpec, Material, Supplier, Customer, Warehouse, ProductionLine)]

    def _preload(self, model, ids: Iterable[int]) -> None:
        for chunk in _chunks(i for i in ids if i):
            self._loaded.append(self.session.scalars(select(model).where(model.id.in_(chunk))).all())

    # ------------------------------------------------------------ helpers

    def _name(self, uri: str, vtype: str, name: str, address: str | None = None) -> str:
        attributes = {"cbvmda:name": name}
        if address:
            attributes["cbvmda:streetAddressOne"] = address
        self.names.setdefault(uri, (vtype, attributes))
        return uri

    def _quantity(self, cls: str, amount, unit: str | None, what: str) -> dict:
        """A quantity element; a unit without a UN/ECE code gives the class alone."""
        element: dict = {"epcClass": cls}
        if amount is None:
            return element
        if unit is None:  # a count of packs
            return element | {"quantity": _number(amount)}
        code = uom(unit)
        if code is None:
            self.warnings.append(f"{what} 的单位「{unit}」没有对应的 UN/ECE 计量单位代码，EPCIS 中只写明批次、未写数量")
            return element
        return element | {"quantity": _number(amount), "uom": code}

    def _add(self, kind: str, key: str, moment: str, event: dict) -> None:
        self.counts[kind] += 1
        self.events.append((moment, list(KINDS).index(kind), key, event))

    def _event(self, kind: str, event_type: str, key: tuple, moment: str, **fields) -> dict:
        event = {"type": event_type, "eventID": self.ids.event_id(kind, *key), "eventTime": moment,
                 "eventTimeZoneOffset": OFFSET}
        event.update({k: v for k, v in fields.items() if v not in (None, [], {})})
        self._add(kind, "|".join(map(str, key)), moment, event)
        return event

    def _doc(self, kind: str, number: str | None, transaction_type: str | None = None) -> list[dict]:
        if not number:
            return []
        entry = {"bizTransaction": self.ids.document(kind, number)}
        return [({"type": transaction_type} | entry) if transaction_type else entry]

    def _where(self, period: list, members: list) -> list:
        """The conditions to query with: one for a period, one per chunk of ids for a trace."""
        return period if self.scope.is_period else members

    def _rows(self, stmt, conditions: list) -> list:
        rows, seen = [], set()
        for condition in conditions:
            for row in self.session.scalars(stmt.where(condition)):
                if row.id not in seen:
                    seen.add(row.id)
                    rows.append(row)
        return rows

    def _place(self, warehouse: Warehouse | None) -> dict | None:
        if warehouse is None:
            return None
        return {"id": self._name(self.ids.place("warehouse", warehouse.code), "BusinessLocation", warehouse.name)}

    def _material_lot(self, lot: MaterialLot) -> str:
        name = lot.material.name + (f" {lot.material.spec}" if lot.material.spec else "")
        return self._name(self.ids.material_lot(lot.material.code, lot.lot_no), "EPCClass", name)

    def _batch(self, batch: ProductBatch) -> str:
        return self._name(self.ids.product_batch(batch.product.code, batch.batch_no), "EPCClass", batch.product.name)

    def _commodity(self, commodity: CommodityBatch) -> str:
        product = commodity.product_batch.product
        uri = self.ids.commodity_lot(commodity.spec.gtin, product.code, commodity.lot_code)
        return self._name(uri, "EPCClass", f"{product.name} {commodity.spec.spec}")

    def _party(self, party) -> str:
        return self._name(self.ids.party(party.credit_code, party.name), "SourceDest", party.name, party.address)

    def _ours(self, party_uri: str, kind: str = "source") -> list[dict]:
        return [{"type": t, kind: party_uri} for t in ("owning_party", "possessing_party")]

    # ------------------------------------------------------------ events

    def receipts(self) -> None:
        stmt = (select(MaterialLot).join(IncomingInspection, IncomingInspection.id == MaterialLot.receipt_id)
                .options(selectinload(MaterialLot.material), selectinload(MaterialLot.supplier),
                         selectinload(MaterialLot.receipt)))
        where = self._where(self.scope.dates(IncomingInspection.receipt_date),
                            self.scope.members(MaterialLot.id, self.scope.lots))
        for lot in self._rows(stmt, where):
            receipt = lot.receipt
            cls = self._material_lot(lot)
            supplier = self._party(lot.supplier)
            ilmd = {"cbvmda:lotNumber": lot.lot_no, _fa("supplierLot"): lot.supplier_lot,
                    _fa("productionDate"): lot.production_date.isoformat()}
            if lot.expiry_date:
                ilmd["cbvmda:itemExpirationDate"] = lot.expiry_date.isoformat()
            if receipt.trace_code:
                ilmd[_fa("supplierTraceCode")] = receipt.trace_code
            place = self._place(self.session.get(Warehouse, receipt.warehouse_id) if receipt.warehouse_id else None)
            self._event(
                "receiving", "ObjectEvent", (receipt.receipt_no,), _time(receipt.receipt_date),
                action="ADD", bizStep="receiving",
                disposition="conformant" if receipt.decision == "accepted" else "non_conformant",
                quantityList=[self._quantity(cls, lot.quantity_received, lot.unit, f"物料批次「{lot.lot_no}」")],
                readPoint=place or {"id": self.site}, bizLocation=place or {"id": self.site},
                bizTransactionList=self._doc("receipt", receipt.receipt_no, "recadv")
                + self._doc("certificate", receipt.certificate_no, "cert"),
                sourceList=self._ours(supplier), destinationList=self._ours(self.us, "destination"),
                ilmd=ilmd,
            )

    def production(self) -> None:
        stmt = (select(ProductBatch).where(ProductBatch.output_quantity.is_not(None))
                .options(selectinload(ProductBatch.product),
                         selectinload(ProductBatch.feedings).selectinload(Feeding.material_lot)
                         .selectinload(MaterialLot.material),
                         selectinload(ProductBatch.feedings).selectinload(Feeding.source_batch)
                         .selectinload(ProductBatch.product)))
        period = or_(and_(ProductBatch.finished_at.is_not(None), *self.scope.moments(ProductBatch.finished_at)),
                     and_(ProductBatch.finished_at.is_(None), *self.scope.dates(ProductBatch.production_date))) \
            if self.scope.is_period else None
        batches = self._rows(stmt, self._where([period], self.scope.members(ProductBatch.id, self.scope.batches)))
        packaging: dict[int, list[PackagingRecord]] = {}
        for chunk in _chunks(b.id for b in batches):
            for record in self.session.scalars(select(PackagingRecord).where(PackagingRecord.batch_id.in_(chunk))
                                               .order_by(PackagingRecord.id)):
                packaging.setdefault(record.batch_id, []).append(record)
        self._preload(MaterialLot, (r.material_lot_id for records in packaging.values() for r in records))
        for batch in batches:
            inputs = []
            for feeding in batch.feedings:
                if feeding.material_lot is not None:
                    source, what = self._material_lot(feeding.material_lot), f"物料批次「{feeding.material_lot.lot_no}」"
                else:
                    source, what = self._batch(feeding.source_batch), f"产品批「{feeding.source_batch.batch_no}」"
                inputs.append(self._quantity(source, feeding.quantity, feeding.unit, what))
            for record in packaging.get(batch.id, ()):
                lot = self.session.get(MaterialLot, record.material_lot_id)
                inputs.append(self._quantity(self._material_lot(lot), record.used + record.wasted, lot.unit,
                                             f"包装材料批次「{lot.lot_no}」"))
            ilmd = {"cbvmda:lotNumber": batch.batch_no, _fa("productionDate"): batch.production_date.isoformat()}
            if batch.expiry_date:
                ilmd["cbvmda:itemExpirationDate"] = batch.expiry_date.isoformat()
            line = self.session.get(ProductionLine, batch.line_id) if batch.line_id else None
            read_point = self._name(self.ids.place("line", line.code), "ReadPoint", line.name) if line else self.site
            self._event(
                "production", "TransformationEvent", (batch.batch_no,), _time(batch.finished_at or batch.production_date),
                inputQuantityList=inputs,
                outputQuantityList=[self._quantity(self._batch(batch), batch.output_quantity, batch.unit,
                                                   f"产品批「{batch.batch_no}」")],
                bizStep="creating_class_instance", disposition="in_progress",
                readPoint={"id": read_point}, bizLocation={"id": self.site},
                bizTransactionList=self._doc("production-order", batch.production_order, "prodorder"),
                ilmd=ilmd,
            )

    def _commodities(self, period: list, ids: set[int]) -> list[CommodityBatch]:
        stmt = select(CommodityBatch).options(
            selectinload(CommodityBatch.product_batch).selectinload(ProductBatch.product),
            selectinload(CommodityBatch.spec))
        return self._rows(stmt, self._where(period, self.scope.members(CommodityBatch.id, ids)))

    def packing(self) -> None:
        for commodity in self._commodities(self.scope.moments(CommodityBatch.packed_to) if self.scope.is_period else [],
                                           self.scope.commodities):
            batch = commodity.product_batch
            ilmd = {"cbvmda:lotNumber": commodity.lot_code, _fa("productionDate"): commodity.production_date.isoformat()}
            if commodity.expiry_date:
                ilmd["cbvmda:itemExpirationDate"] = commodity.expiry_date.isoformat()
            self._event(
                "packing", "TransformationEvent", (commodity.lot_code,), _time(commodity.packed_to),
                inputQuantityList=[self._quantity(self._batch(batch), commodity.product_quantity_used, batch.unit,
                                                  f"产品批「{batch.batch_no}」")],
                outputQuantityList=[self._quantity(self._commodity(commodity), commodity.units, None, "")],
                bizStep="packing", disposition="in_progress", readPoint={"id": self.site}, bizLocation={"id": self.site},
                ilmd=ilmd,
            )

    def releases(self) -> None:
        period = [CommodityBatch.released_at.is_not(None), *self.scope.moments(CommodityBatch.released_at)] \
            if self.scope.is_period else []
        for commodity in self._commodities([and_(*period)] if period else [], self.scope.commodities):
            if commodity.released_at is None:
                continue
            self._event(
                "release", "ObjectEvent", (commodity.lot_code,), _time(commodity.released_at),
                action="OBSERVE", disposition="sellable_not_accessible",
                quantityList=[self._quantity(self._commodity(commodity), commodity.units, None, "")],
                readPoint={"id": self.site}, bizLocation={"id": self.site},
                bizTransactionList=self._doc("inspection-report", commodity.certificate_no, "cert"),
            )

    def inspections(self) -> None:
        scope = self.scope
        stmt = select(Inspection).options(selectinload(Inspection.items))
        if scope.is_period:
            where = scope.moments(Inspection.sampled_at)
        else:
            receipts = select(MaterialLot.receipt_id)
            where = (scope.members(Inspection.batch_id, scope.batches)
                     + scope.members(Inspection.commodity_batch_id, scope.commodities)
                     + [Inspection.receipt_id.in_(receipts.where(MaterialLot.id.in_(chunk)))
                        for chunk in _chunks(scope.lots)])
        inspections = self._rows(stmt, where)
        self._preload(CommodityBatch, (i.commodity_batch_id for i in inspections))
        self._preload(ProductBatch, (i.batch_id for i in inspections))
        receipts = [i.receipt_id for i in inspections if i.receipt_id]
        for chunk in _chunks(receipts):
            self._loaded.append(self.session.scalars(select(MaterialLot).where(MaterialLot.receipt_id.in_(chunk))).all())
        self._lot_of_receipt = {lot.receipt_id: lot for group in self._loaded for lot in group
                                if isinstance(lot, MaterialLot)}
        for inspection in inspections:
            cls = self._inspected(inspection)
            if cls is None:
                continue  # water or environment checks name no lot
            items = [{_fa("item"): i.item, _fa("method"): i.method or "", _fa("requirement"): i.requirement or "",
                      _fa("result"): i.result, _fa("verdict"): i.verdict} for i in inspection.items]
            self._event(
                "inspection", "ObjectEvent", (inspection.report_no,), _time(inspection.sampled_at),
                action="OBSERVE", bizStep="inspecting",
                disposition="conformant" if inspection.conclusion == "pass" else "non_conformant",
                quantityList=[{"epcClass": cls}], readPoint={"id": self.site}, bizLocation={"id": self.site},
                bizTransactionList=self._doc("inspection-report", inspection.report_no, "testres"),
                **{_fa("inspectionKind"): inspection.kind, _fa("testItems"): items},
            )

    def _inspected(self, inspection: Inspection) -> str | None:
        if inspection.commodity_batch_id:
            return self._commodity(self.session.get(CommodityBatch, inspection.commodity_batch_id))
        if inspection.batch_id:
            return self._batch(self.session.get(ProductBatch, inspection.batch_id))
        if inspection.receipt_id:
            lot = self._lot_of_receipt.get(inspection.receipt_id)
            return self._material_lot(lot) if lot else None
        return None

    def deliveries(self) -> None:
        stmt = select(Delivery).options(
            selectinload(Delivery.customer),
            selectinload(Delivery.commodity_batch).selectinload(CommodityBatch.spec),
            selectinload(Delivery.commodity_batch).selectinload(CommodityBatch.product_batch)
            .selectinload(ProductBatch.product))
        where = self._where(self.scope.dates(Delivery.sale_date) if self.scope.is_period else [],
                            self.scope.members(Delivery.id, self.scope.deliveries))
        for delivery in self._rows(stmt, where):
            customer = self._party(delivery.customer)
            place = self._place(self.session.get(Warehouse, delivery.warehouse_id) if delivery.warehouse_id else None)
            self._event(
                "shipping", "ObjectEvent", (delivery.delivery_no,), _time(delivery.sale_date, dt.time(23, 59, 59)),
                action="OBSERVE", bizStep="shipping", disposition="in_transit",
                quantityList=[self._quantity(self._commodity(delivery.commodity_batch), delivery.units, None, "")],
                readPoint=place or {"id": self.site}, bizLocation={"id": self.site},
                bizTransactionList=self._doc("delivery", delivery.delivery_no, "desadv")
                + self._doc("inspection-report", delivery.certificate_no, "cert"),
                sourceList=self._ours(self.us), destinationList=self._ours(customer, "destination"),
                **({_fa("coldChain"): delivery.cold_chain} if delivery.cold_chain else {}),
            )

    def recalls(self) -> None:
        stmt = select(Recall).options(selectinload(Recall.product_batch).selectinload(ProductBatch.product))
        where = self._where(self.scope.dates(Recall.started_on) if self.scope.is_period else [],
                            self.scope.members(Recall.product_batch_id, self.scope.batches))
        for record in self._rows(stmt, where):
            commodities = self.session.scalars(select(CommodityBatch).where(
                CommodityBatch.product_batch_id == record.product_batch_id).order_by(CommodityBatch.lot_code)).all()
            classes = [{"epcClass": self._commodity(c)} for c in commodities] or [{"epcClass": self._batch(record.product_batch)}]
            self._event(
                "recall", "ObjectEvent", (record.recall_no,), _time(record.started_on, dt.time(12, 0)),
                action="OBSERVE", disposition="recalled", quantityList=classes, readPoint={"id": self.site},
                bizTransactionList=self._doc("recall", record.recall_no),
                **{_fa("recallReason"): record.reason}, **({_fa("recallLevel"): record.level} if record.level else {}),
            )

    def returns(self) -> None:
        stmt = (select(RecallProgress).join(Recall, Recall.id == RecallProgress.recall_id)
                .where(RecallProgress.units_returned > 0))
        if self.scope.is_period:
            where = [and_(RecallProgress.returned_on.is_not(None), *self.scope.dates(RecallProgress.returned_on))]
        else:
            where = self.scope.members(RecallProgress.delivery_id, self.scope.deliveries)
        for progress in self._rows(stmt, where):
            delivery = self.session.get(Delivery, progress.delivery_id)
            record = self.session.get(Recall, progress.recall_id)
            self._event(
                "return", "ObjectEvent", (record.recall_no, delivery.delivery_no),
                _time(progress.returned_on or progress.notified_on, dt.time(12, 0)),
                action="OBSERVE", bizStep="receiving", disposition="recalled",
                quantityList=[self._quantity(self._commodity(delivery.commodity_batch), progress.units_returned, None, "")],
                readPoint={"id": self.site}, bizLocation={"id": self.site},
                bizTransactionList=self._doc("recall", record.recall_no) + self._doc("delivery", delivery.delivery_no, "desadv"),
                sourceList=self._ours(self._party(delivery.customer)), destinationList=self._ours(self.us, "destination"),
            )

    def destructions(self) -> None:
        stmt = select(Destruction).order_by(Destruction.destroyed_at)
        where = self._where(self.scope.moments(Destruction.destroyed_at) if self.scope.is_period else [],
                            self.scope.members(Destruction.product_batch_id, self.scope.batches))
        for record in self._rows(stmt, where):
            batch = self.session.get(ProductBatch, record.product_batch_id)
            if record.commodity_batch_id:
                commodity = self.session.get(CommodityBatch, record.commodity_batch_id)
                quantity = self._quantity(self._commodity(commodity), record.units, None, "")
                key = commodity.lot_code
            else:
                quantity = self._quantity(self._batch(batch), record.quantity, batch.unit, f"产品批「{batch.batch_no}」")
                key = batch.batch_no
            self._event(
                "destruction", "ObjectEvent", (key, record.destroyed_at.isoformat()), _time(record.destroyed_at),
                action="DELETE", bizStep="destroying", disposition="destroyed", quantityList=[quantity],
                readPoint={"id": self.site},
                **{_fa("place"): record.place, _fa("method"): record.method},
            )

    # ------------------------------------------------------------ document

    def build(self) -> dict:
        for step in (self.receipts, self.production, self.packing, self.inspections, self.releases,
                     self.deliveries, self.recalls, self.returns, self.destructions):
            step()
        self.events.sort(key=lambda e: (e[0], e[1], e[2]))
        created = common.now(self.session).replace(microsecond=0, tzinfo=CHINA)
        vocabularies: dict[str, list] = {}
        for uri, (vtype, attributes) in sorted(self.names.items()):
            vocabularies.setdefault(vtype, []).append(
                {"id": uri, "attributes": [{"id": k, "attribute": v} for k, v in attributes.items()]})
        return {
            "@context": [CONTEXT, {OWN_PREFIX: OWN_VOCABULARY}],
            "id": self.ids.event_id("document", self.scope.label, created.isoformat()),
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": created.isoformat(),
            "epcisHeader": {"epcisMasterData": {"vocabularyList": [
                {"type": VTYPE + vtype, "vocabularyElementList": elements}
                for vtype, elements in sorted(vocabularies.items())]}},
            "epcisBody": {"eventList": [event for *_key, event in self.events]},
        }


def build_document(session: Session, scope: Scope) -> tuple[dict, Summary]:
    """The EPCIS document of ``scope``, and what it holds."""
    builder = _Builder(session, scope)
    document = builder.build()
    return document, Summary("", builder.counts, builder.warnings)


def write_document(document: dict, path: str | os.PathLike) -> None:
    """Under a temporary name first: a failed export leaves no half file."""
    from app.files import written_atomically

    with written_atomically(path) as partial, open(partial, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False, indent=1)
        out.write("\n")


def export(session: Session, scope: Scope, path: str | os.PathLike) -> Summary:
    from app.files import output_file

    users.require(session, "export")
    output_file(path, ".jsonld", "EPCIS JSON-LD")  # before the slow part
    document, summary = build_document(session, scope)
    write_document(document, path)
    summary.path = str(path)
    return summary


def export_period(session: Session, first: dt.date, last: dt.date, path: str | os.PathLike) -> Summary:
    return export(session, period_scope(first, last), path)


def export_trace(session: Session, result: TraceResult, path: str | os.PathLike) -> Summary:
    return export(session, trace_scope(session, result), path)
