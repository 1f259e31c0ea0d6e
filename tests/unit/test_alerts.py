"""R7.3: each alert and to-do of the home page, with a record on each side of
its threshold — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from app.models import Archive, Person, RetainedSample
from app.platform import upload
from app.services import alerts, common, production, quality, reminders, settings, signatures, suppliers, todos

from .builders import NOW, TODAY, base_batch, lot, plant, sign_archive, staff


@pytest.fixture
def p(session):
    return plant(session)


def _ids(found, kind):
    return {a.record_id for a in found if a.kind == kind}


def _days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


def test_supplier_licences_are_mentioned_at_90_days_urged_at_30(session, p):
    def document(kind, number, days):  # one kind each: a newer one of a kind answers an older
        return suppliers.add_document(session, p.supplier, dict(
            kind=kind, number=number, valid_from="2020-01-01", valid_to=_days(days))).id

    outside = document("industrial_product_licence", "IP-91", 91)
    notice = document("slaughter_certificate", "SL-90", 90)
    due = document("food_trade_licence", "FT-30", 30)
    found = list(reminders.supplier_documents(session, TODAY))
    by_id = {a.record_id: a for a in found}
    assert outside not in by_id
    assert by_id[notice].severity == alerts.NOTICE and by_id[due].severity == alerts.DUE
    assert "将于" in by_id[due].title and "食品经营许可证" in by_id[due].title
    assert p.licence_id not in by_id  # ends 2027-06-30


def test_an_expired_licence_is_overdue_until_a_newer_one_is_filed(session, p):
    old = suppliers.add_document(session, p.supplier, dict(
        kind="food_trade_licence", number="FT-OLD", valid_from="2020-01-01", valid_to=_days(-1))).id
    assert next(a for a in reminders.supplier_documents(session, TODAY) if a.record_id == old).severity == alerts.OVERDUE
    suppliers.add_document(session, p.supplier, dict(
        kind="food_trade_licence", number="FT-NEW", valid_from=_days(-1), valid_to=_days(1000)))
    assert old not in _ids(reminders.supplier_documents(session, TODAY), "licence_expiring")


def test_health_certificates_of_active_staff_within_90_days(session, p):
    def person(no, days, active=True):
        return common.create(session, "person", dict(employee_no=no, name=f"员工{no}", post="production",
                                                     health_cert_no=f"HC-{no}", health_cert_valid_to=_days(days),
                                                     active=active)).id

    inside, outside, left = person("H1", 90), person("H2", 91), person("H3", 5, active=False)
    found = _ids(reminders.health_certificates(session, TODAY), "health_certificate_expiring")
    assert inside in found and outside not in found and left not in found


def test_material_in_stock_that_expires_within_30_days(session, p):
    soon = lot(session, p, p.sugar, supplier_lot="S-SOON", receipt_no="R-SOON", production_date="2026-06-01",
               shelf_life_days=None, expiry_date=_days(30))
    later = lot(session, p, p.sugar, supplier_lot="S-LATE", receipt_no="R-LATE", production_date="2026-06-01",
                shelf_life_days=None, expiry_date=_days(31))
    found = _ids(reminders.lots_near_expiry(session, TODAY), "lot_near_expiry")
    assert soon.id in found and later.id not in found
    soon.quantity_on_hand = 0  # used up: nothing left to expire
    session.flush()
    assert soon.id not in _ids(reminders.lots_near_expiry(session, TODAY), "lot_near_expiry")


def test_retained_samples_due_this_week_or_overdue(session, p):
    batch = base_batch(session, p, lot(session, p, p.soy))

    def sample(days):
        return common.create(session, "retained_sample", dict(
            batch_id=batch.id, name="豆浆基料", quantity="2", unit="瓶", production_date="2026-11-18",
            kept_on="2026-11-18", location="留样柜 A", disposal_date=_days(days), keeper_id=p.person.id)).id

    overdue, due, later = sample(-1), sample(reminders.SAMPLE_DUE_DAYS), sample(reminders.SAMPLE_DUE_DAYS + 1)
    found = {a.record_id: a for a in reminders.samples_for_disposal(session, TODAY)}
    assert found[overdue].severity == alerts.OVERDUE and found[due].severity == alerts.DUE
    assert later not in found and found[overdue].model == RetainedSample.__name__


def test_archives_whose_retention_ends_within_a_quarter(session, p):
    batch = base_batch(session, p, lot(session, p, p.soy))
    archive = session.query(Archive).filter_by(product_batch_id=batch.id).one()
    archive.retention_until = TODAY + dt.timedelta(days=reminders.ARCHIVE_RETENTION_DAYS + 1)
    session.flush()
    assert archive.id not in _ids(reminders.archives_retention_ending(session, TODAY), "archive_retention_ending")
    archive.retention_until = TODAY + dt.timedelta(days=reminders.ARCHIVE_RETENTION_DAYS)
    session.flush()
    assert archive.id in _ids(reminders.archives_retention_ending(session, TODAY), "archive_retention_ending")


def test_a_deviation_is_listed_until_its_corrective_action_is_written(session, p):
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    within = production.record_ccp(session, batch, p.boil_ccp, "98", operator_id=p.person.id)
    outside = production.record_ccp(session, batch, p.boil_ccp, "90", operator_id=p.person.id)
    assert _ids(reminders.unanswered_deviations(session, TODAY), "deviation_unanswered") == {outside.id}
    production.correct_deviation(session, outside, "延长煮浆时间至 10 分钟后复测 98℃", by=p.reviewer.id)
    assert within.id not in _ids(reminders.unanswered_deviations(session, TODAY), "deviation_unanswered")
    assert not _ids(reminders.unanswered_deviations(session, TODAY), "deviation_unanswered")


def test_the_upload_backlog_alerts_past_the_platforms_deadline(session, p, fixed_clock):
    lot(session, p, p.soy)  # a receipt: queued for the platform at NOW
    settings.put(session, "upload_alert_hours", 48)
    fixed_clock.freeze(NOW + dt.timedelta(hours=47))
    assert upload.backlog_alerts(session, TODAY) == []
    fixed_clock.freeze(NOW + dt.timedelta(hours=49))
    [alert] = upload.backlog_alerts(session, TODAY)
    assert alert.kind == "upload_backlog" and alert.severity == alerts.OVERDUE and "未上传" in alert.title


def test_a_failed_inspection_holds_the_batch_and_says_why(session, p):
    held = base_batch(session, p, lot(session, p, p.soy))
    fine = base_batch(session, p, lot(session, p, p.soy, supplier_lot="HLJ-2", receipt_no="R-2"))
    quality.inspect(session, dict(kind="semi_finished", batch_id=held.id, sampled_at="2026-11-18 12:00",
                                  inspector_id=p.person.id, reviewer_id=p.reviewer.id),
                    [dict(item="蛋白质", method="GB 5009.5", requirement="≥ 2.0 g/100g", result="1.2",
                          verdict="fail")])
    found = {a.record_id: a for a in todos.held_batches(session, TODAY)}
    assert held.id in found and fine.id not in found
    assert "不合格" in found[held.id].title and found[held.id].category == alerts.TODO


def test_records_of_the_last_month_wait_for_their_next_signature(session, p):
    staff(session, p)
    batch = base_batch(session, p, lot(session, p, p.soy))
    old = production.start_batch(session, dict(product_id=p.base.id, production_date=_days(-todos.SIGN_DAYS - 1)))
    waiting = {a.record_id: a for a in todos.awaiting_signature(session, TODAY) if a.model == "ProductBatch"}
    assert batch.id in waiting and old.id not in waiting
    assert "待「操作」签名" in waiting[batch.id].title and waiting[batch.id].role == "operator"
    signatures.sign(session, batch, "li", "correct-horse-9", "操作")
    mine = [a for a in todos.awaiting_signature(session, TODAY) if (a.model, a.record_id) == ("ProductBatch", batch.id)]
    assert mine and all("待「复核」签名" in a.title for a in mine)
    # Every post that may sign 复核 is told, and only those.
    assert {a.role for a in mine} == {
        "inspector", "technician", "safety_manager", "quality_manager"}


def test_an_archive_is_ready_to_seal_once_its_records_are_signed(session, p):
    batch = base_batch(session, p, lot(session, p, p.soy))
    archive = session.query(Archive).filter_by(product_batch_id=batch.id).one()
    staff(session, p)
    assert archive.id not in _ids(todos.archives_ready(session, TODAY), "archive_ready")
    sign_archive(session, archive)
    assert archive.id in _ids(todos.archives_ready(session, TODAY), "archive_ready")


def test_collect_puts_the_overdue_first(session, p):
    suppliers.add_document(session, p.supplier, dict(kind="food_trade_licence", number="FT-X",
                                                     valid_from="2020-01-01", valid_to=_days(60)))
    common.create(session, "person", dict(employee_no="H9", name="员工H9", post="production",
                                          health_cert_valid_to=_days(-3)))
    found = [a for a in alerts.collect(session, TODAY) if a.kind in ("licence_expiring", "health_certificate_expiring")]
    assert [a.severity for a in found] == [alerts.OVERDUE, alerts.NOTICE]
    assert session.query(Person).count() >= 3
