"""The demo factory (``foodarchive demo``): loaded through the services into an
empty SQLite file, it holds what the issue asks for, and it refuses a database
that already has an enterprise."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from stdnum import ean
from stdnum.cn import uscc

from app import clock
from app.db import open_database
from app.errors import UserError
from app.models import (
    Archive, CCPReading, CommodityBatch, Customer, Delivery, Destruction, Enterprise, Feeding, IncomingInspection,
    Inspection, Material, MaterialLot, NearExpiryHandling, Person, Product, ProductBatch, ProductSpec, Recall,
    RecallProgress, RetainedSample, StockMovement, SterilisationRecord, Supplier, SupplierDocument,
    CleaningRecord, FinishedGoodsMovement, WaterMonitoring, EquipmentUpkeep, WorkshopCleanliness,
    StorageConditionRecord, ArchiveSeal, Signature, User,
)
from app.reports import volume_data
from app.services import acting, audit, demo, sealing, signatures, suppliers, todos, users
from app.services.common import create
from app.services.trace import trace


STEM = "91310117MA1J00001"


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture(scope="module")
def loaded(demo_db_file):
    """The session's demo database (tests/conftest.py loads it once through
    demo.load and keeps what load returned); these tests only read it."""
    path, summary = demo_db_file
    engine, Session = open_database(f"sqlite:///{path}")
    yield engine, Session, summary
    engine.dispose()


def test_summary_counts_what_is_in_the_database(loaded):
    _, Session, summary = loaded
    with Session() as s:
        assert summary == demo.counts(s)
    assert all(isinstance(v, int) for v in summary.values())
    assert summary["供应商"] >= 10 and summary["产品批"] >= 100


def test_master_data(loaded):
    _, Session, _ = loaded
    with Session() as s:
        enterprise = s.scalar(select(Enterprise))
        assert uscc.is_valid(enterprise.credit_code) and enterprise.address.startswith("上海市")
        assert enterprise.licence_no.startswith("SC") and len(enterprise.licence_no) == 16
        assert enterprise.fonds_code == "0001"
        assert count(s, Supplier) >= 10 and count(s, Supplier, Supplier.status != "qualified") == 0
        for supplier in s.scalars(select(Supplier)):
            kinds = {d.kind for d in supplier.documents}
            assert "business_licence" in kinds and len(kinds) >= 2, supplier.name
        # One licence runs out within two weeks of today: the alert shows.
        expiring = suppliers.expiring_documents(s, within_days=14)
        assert len(expiring) == 1 and expiring[0].valid_to >= clock.today()
        assert count(s, Material) >= 30
        categories = set(s.scalars(select(Material.category).distinct()))
        assert {"raw", "additive", "packaging", "agricultural"} <= categories
        assert count(s, Material, Material.is_bulk.is_(True)) >= 3
        kinds = dict(s.execute(select(Product.code, Product.kind)).all())
        assert list(kinds.values()).count("finished") >= 3 and "semi_finished" in kinds.values()
        for spec in s.scalars(select(ProductSpec)):
            assert ean.is_valid(spec.gtin), spec.spec
        assert count(s, Customer) >= 20
        assert {p.post for p in s.scalars(select(Person))} >= {"quality", "inspection", "storage", "production", "process"}
        assert count(s, Person, Person.health_cert_valid_to.is_(None)) == 0


def test_history(loaded):
    _, Session, _ = loaded
    with Session() as s:
        assert count(s, ProductBatch) >= 100
        months = {d.strftime("%Y-%m") for d in s.scalars(select(ProductBatch.production_date))}
        assert len(months) >= 3
        last = s.scalar(select(func.max(ProductBatch.production_date)))
        assert clock.today() - dt.timedelta(days=7) <= last < clock.today()
        # Several receipts a month; the soybeans in bulk lots.
        assert count(s, IncomingInspection) >= 3 * len(months)
        batches = s.scalars(select(ProductBatch)).all()
        with_readings = set(s.scalars(select(CCPReading.batch_id).distinct()))
        assert {b.id for b in batches} == with_readings
        assert count(s, SterilisationRecord) > 0 and count(s, CleaningRecord) > 0
        assert count(s, Inspection, Inspection.kind == "finished") > 0
        assert count(s, Inspection, Inspection.kind == "release", Inspection.label_check_passed.is_(True)) > 0
        assert count(s, RetainedSample) > 0 and count(s, FinishedGoodsMovement) > 0 and count(s, Delivery) > 0
        # Mixing: finished batches fed from two semi-finished batches.
        mixed = s.execute(
            select(Feeding.batch_id).where(Feeding.source_batch_id.is_not(None))
            .group_by(Feeding.batch_id).having(func.count(func.distinct(Feeding.source_batch_id)) >= 2)
        ).all()
        assert len(mixed) >= 10
        # Bulk lots close their running ledger at zero.
        assert count(s, MaterialLot, MaterialLot.status == "closed") > 0


def test_the_one_deviation_and_the_recall(loaded):
    _, Session, _ = loaded
    with Session() as s:
        deviations = s.scalars(select(CCPReading).where(CCPReading.deviation.is_(True))).all()
        assert len(deviations) == 1 and deviations[0].corrective_action
        batch = s.get(ProductBatch, deviations[0].batch_id)
        assert batch.status == "completed"
        released = s.scalars(select(CommodityBatch).where(CommodityBatch.product_batch_id == batch.id)).all()
        assert released and all(c.status == "released" for c in released)

        recall = s.scalar(select(Recall))
        assert count(s, Recall) == 1 and recall.status == "closed"
        assert recall.regulator_opinion and recall.corrective_measures
        customers = s.scalars(
            select(Delivery.customer_id).join(RecallProgress, RecallProgress.delivery_id == Delivery.id)
            .where(RecallProgress.recall_id == recall.id).distinct()).all()
        assert len(customers) >= 2
        assert count(s, RecallProgress, RecallProgress.recall_id == recall.id, RecallProgress.units_returned > 0) >= 2
        assert count(s, Destruction, Destruction.recall_id == recall.id) >= 1
        assert s.scalar(select(Archive).where(Archive.kind == "warning", Archive.product_batch_id == recall.product_batch_id))


def test_rejected_lot_and_near_expiry(loaded):
    _, Session, _ = loaded
    with Session() as s:
        rejected = s.scalars(
            select(MaterialLot).join(IncomingInspection, IncomingInspection.id == MaterialLot.receipt_id)
            .where(IncomingInspection.decision == "rejected")).all()
        assert len(rejected) == 1 and rejected[0].quantity_on_hand == 0
        assert count(s, StockMovement, StockMovement.lot_id == rejected[0].id, StockMovement.kind == "write_off") == 1
        assert count(s, StockMovement, StockMovement.lot_id == rejected[0].id, StockMovement.kind == "issue") == 0
        assert count(s, NearExpiryHandling) >= 1


def test_archives(loaded):
    _, Session, _ = loaded
    with Session() as s:
        assert count(s, Archive, Archive.kind == "product") == count(s, ProductBatch)
        for commodity in s.scalars(select(CommodityBatch).where(CommodityBatch.released_at.is_not(None))):
            archive = s.scalar(select(Archive).where(Archive.kind == "commodity", Archive.commodity_batch_id == commodity.id))
            assert archive is not None and archive.cites is not None, commodity.lot_code
            assert archive.cites.kind == "product" and archive.cites.product_batch_id == commodity.product_batch_id
        periods = set(s.scalars(select(Archive.period).where(Archive.kind == "safety")))
        months = {d.strftime("%Y-%m") for d in s.scalars(select(ProductBatch.production_date))}
        assert months <= periods
        # Every month of the story has each kind of safety-management record.
        for model, column in ((WaterMonitoring, WaterMonitoring.sampled_at), (EquipmentUpkeep, EquipmentUpkeep.done_on),
                              (WorkshopCleanliness, WorkshopCleanliness.checked_on),
                              (StorageConditionRecord, StorageConditionRecord.checked_at)):
            assert months <= {d.strftime("%Y-%m") for d in s.scalars(select(column))}, model.__name__


def test_archives_of_months_over_are_sealed_by_two_real_people(loaded):
    """Issue 16: the months already over are sealed, each archive by a 立卷人 and
    the quality manager as 检查人 — users of the demo, never the system."""
    _, Session, _ = loaded
    with Session() as s:
        day = s.scalar(select(func.max(ProductBatch.production_date))) + dt.timedelta(days=3)
        this_month = day.replace(day=1)
        sealed = s.scalars(select(Archive).where(Archive.status == "sealed")).all()
        assert {a.kind for a in sealed} == {"product", "commodity", "safety", "warning"}
        for archive in sealed:
            seal = s.scalar(select(ArchiveSeal).where(ArchiveSeal.archive_id == archive.id))
            filer, checker = s.get(User, seal.filer_id), s.get(User, seal.checker_id)
            assert filer.id != checker.id and filer.person_id and checker.person_id
            assert checker.display_name == "陈美琴" and filer.display_name in ("顾立新", "杨志明")
            assert archive.closed_at.date() < day
        period_of = {a.id: a.period for a in s.scalars(select(Archive).where(Archive.kind == "safety"))}
        for archive_id, period in period_of.items():
            archive = s.get(Archive, archive_id)
            assert (archive.status == "sealed") == (period < f"{this_month:%Y-%m}"), period
        # this month's batches stay open: their month is not over
        batches = select(ProductBatch.id).where(ProductBatch.production_date >= this_month)
        assert count(s, Archive, Archive.kind == "product", Archive.product_batch_id.in_(batches),
                     Archive.status == "sealed") == 0


def test_a_demo_volume_has_no_missing_signature(loaded):
    """Every record in every archive signed by the people who made it, still
    valid: the checklist finds no signature missing anywhere, the printed
    volume's remarks list none, and no signature failed verification."""
    _, Session, _ = loaded
    with Session() as s:
        day = s.scalar(select(func.max(ProductBatch.production_date))) + dt.timedelta(days=3)
        s.info["today"] = day
        for archive in s.scalars(select(Archive).order_by(Archive.id)):
            blockers = sealing.checklist(s, archive)
            assert not [b.text for b in blockers if b.kind in ("signature", "resign")], archive.archive_no
            if archive.status != "sealed" and archive.kind == "safety" and archive.period == f"{day:%Y-%m}":
                assert blockers[0].kind == "unfinished"
        assert signatures.verify_all(s.connection()) == []
        # who signed: the operator of a feeding, the inspector of his report, the quality manager approving
        feeding = s.scalars(select(Feeding).order_by(Feeding.id)).first()
        by = {sig.meaning: sig for sig in s.scalars(select(Signature).where(
            Signature.table_name == "feeding", Signature.row_id == feeding.id))}
        operator = s.get(User, by["操作"].user_id)
        assert operator.person_id == feeding.operator_id and by["复核"].printed_name == "顾立新"
        report = s.scalars(select(Inspection).order_by(Inspection.id)).first()
        by = {sig.meaning: sig for sig in s.scalars(select(Signature).where(
            Signature.table_name == "inspection", Signature.row_id == report.id))}
        assert s.get(User, by["编制"].user_id).person_id == report.inspector_id
        assert by["批准"].printed_name == "陈美琴"
        # a volume of a sealed product archive prints no missing signature
        archive = s.scalars(select(Archive).where(Archive.kind == "product", Archive.status == "sealed")
                            .order_by(Archive.id)).first()
        volume = volume_data.read_volume(s, archive.id)
        assert [sig for m in volume.materials for r in m.records for sig in r.signatures if sig.state != "valid"] == []
        assert sum(len(r.signatures) for m in volume.materials for r in m.records) > 20


def test_the_sealing_checklist_runs_on_every_archive(loaded):
    """Every open archive says what still keeps it open, in the checklist's words."""
    _, Session, _ = loaded
    with Session() as s:
        day = s.scalar(select(func.max(ProductBatch.production_date))) + dt.timedelta(days=3)
        s.info["today"] = day  # the demo's "today", whatever day the test runs
        for archive in s.scalars(select(Archive).order_by(Archive.id)):
            blockers = sealing.checklist(s, archive)
            assert {b.kind for b in blockers} <= set(sealing.KINDS)
            if archive.kind == "safety" and archive.period == f"{day:%Y-%m}":
                assert blockers[0].kind == "unfinished"
            if archive.kind == "product":
                receipts = [e for e in archive.entries if e.ledger == "incoming_inspection"]
                assert len(receipts) == 1 and receipts[0].record_ids, archive.archive_no


def test_audit_log_and_mass_balance(loaded):
    engine, Session, _ = loaded
    with engine.connect() as connection:
        assert audit.verify(connection) == []
    with Session() as s:
        soybeans = s.scalars(
            select(MaterialLot.lot_no).join(Material).where(Material.code == "M101", MaterialLot.status == "closed")
            .order_by(MaterialLot.id)).first()
        result = trace(s, soybeans, "forward")
        assert result.flags() == []
        data = result.to_json()
        assert data["customers"] and any(b["batch_no"].startswith("DJ") for b in data["product_batches"])


def test_loading_twice_is_refused(loaded):
    _, Session, _ = loaded
    with pytest.raises(UserError, match="已有企业"):
        with Session.begin() as s:
            demo.load(s)
    with Session() as s:
        assert count(s, Enterprise) == 1


def test_refuses_any_database_with_an_enterprise(tmp_path):
    engine, Session = open_database(f"sqlite:///{tmp_path / 'demo.db'}", actor=acting.system("tester"))
    with Session.begin() as s:
        create(s, "enterprise", {
            "name": "上海某食品有限公司", "credit_code": STEM + uscc.calc_check_digit(STEM),
            "licence_no": "SC10631011700001", "address": "上海市松江区", "fonds_code": "0001",
        })
    with pytest.raises(UserError):
        with Session.begin() as s:
            demo.load(s)
    with Session() as s:
        assert count(s, Product) == 0
    engine.dispose()


def test_examples_are_numbers_worth_trying(loaded):
    """What ``foodarchive demo`` ends with (the README's "Try it")."""
    _, Session, _ = loaded
    with Session() as s:
        examples = demo.examples(s)
        lot = s.scalar(select(MaterialLot).where(MaterialLot.lot_no == examples.soybean_lot))
        assert lot.material.name == "非转基因大豆"
        forward = trace(s, examples.soybean_lot, "forward").to_json()
        assert examples.product_batch in {b["batch_no"] for b in forward["product_batches"]}
        assert examples.commodity_lot in {c["lot_code"] for c in forward["commodity_batches"]}
        assert forward["customers"]
        archive = s.scalar(select(Archive).where(Archive.archive_no == examples.archive_no))
        assert s.get(ProductBatch, archive.product_batch_id).batch_no == examples.product_batch
    # a user for each post, and the password the README prints
    posts = {post for _, posts in examples.users for post in posts.split("、")}
    assert posts == set(users.ROLES.values()) and examples.password == "songhe2026"
    assert ("chenmeiqin", "质量负责人") in examples.users


def test_many_archives_ready_to_seal_are_one_line_that_opens_the_browser(loaded):
    """The month's open archives of a kind, when many are complete, make one
    to-do line (no record id: the home page opens the archive browser)."""
    _, Session, _ = loaded
    with Session() as s:
        open_ready = [a for a in s.scalars(select(Archive).where(Archive.status != "sealed"))
                      if not sealing.checklist(s, a)]
        lines = [a for a in todos.archives_ready(s, clock.today()) if a.role == "quality_manager"]
    by_kind: dict[str, int] = {}
    for archive in open_ready:
        by_kind[archive.kind] = by_kind.get(archive.kind, 0) + 1
    grouped = [line for line in lines if line.record_id is None]
    singles = [line for line in lines if line.record_id is not None]
    assert grouped, by_kind  # the demo's current month: a product archive per batch
    assert len(grouped) == sum(1 for n in by_kind.values() if n >= todos.GROUP_FROM)
    assert len(singles) == sum(n for n in by_kind.values() if n < todos.GROUP_FROM)
    assert all("份材料齐全，可以封卷" in line.title for line in grouped)
