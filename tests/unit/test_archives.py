"""R3: archives, numbers, retention, catalogue, the retention guard."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.errors import RetentionError, ValidationError
from app.models import Archive, Feeding
from app.services import archives, settings

from .builders import base_batch, lot, plant, released_commodity


def test_retention_rule_of_article_49():
    # Six months after the shelf life ends; two years without a shelf life.
    assert archives.legal_minimum(dt.date(2026, 1, 1), dt.date(2026, 8, 31)) == dt.date(2027, 2, 28)
    assert archives.legal_minimum(dt.date(2026, 1, 1), None) == dt.date(2028, 1, 1)
    # Never shorter than the archive's 保管期限 (D10 from filing), nor than the law.
    assert archives.retention_until("D10", dt.date(2026, 1, 2), dt.date(2026, 1, 1), dt.date(2026, 1, 8)) == dt.date(2036, 1, 2)
    assert archives.retention_until("Y", dt.date(2026, 1, 2), dt.date(2026, 1, 1), None) is None


def test_every_batch_has_a_numbered_product_archive_with_catalogue(session):
    p = plant(session)
    batch = base_batch(session, p, lot(session, p, p.soy))
    archive = archives.product_archive(session, batch)
    assert archive.archive_no == "0001-2026-D10-001"
    assert archive.retention_until >= archives.legal_minimum(batch.production_date, batch.expiry_date)
    ledgers = [e.ledger for e in archive.entries]
    # The receipt of every lot used is filed right after the issue report (docs/printing.md).
    assert ledgers[:5] == ["product_batch", "stock_movement", "incoming_inspection", "feeding", "ccp_reading"]
    assert [e.seq for e in archive.entries] == list(range(1, len(ledgers) + 1))
    feeding = next(e for e in archive.entries if e.ledger == "feeding")
    assert feeding.responsible == "王质检" and feeding.date == dt.date(2026, 11, 20) and feeding.pages == 1


def test_commodity_archive_cites_its_product_archive(session):
    p = plant(session)
    commodity = released_commodity(session, p, lot(session, p, p.soy))
    archive = session.scalar(select(Archive).where(Archive.commodity_batch_id == commodity.id, Archive.kind == "commodity"))
    assert archive.cites is not None and archive.cites.product_batch_id == commodity.product_batch_id
    assert [e.ledger for e in archive.entries] == ["commodity_batch", "inspection"]
    numbers = session.scalars(select(Archive.archive_no)).all()
    assert len(numbers) == len(set(numbers)) == 3


def test_archive_number_pattern_is_configurable_and_checked(session):
    p = plant(session)
    settings.put(session, "archive_no_pattern", "{全宗号}·{类别}{年度}-{案卷号:04d}")
    batch = base_batch(session, p, lot(session, p, p.soy))
    assert archives.product_archive(session, batch).archive_no == "0001·CP2026-0001"
    with pytest.raises(ValidationError, match="案卷号"):
        settings.put(session, "archive_no_pattern", "{全宗号}-{年度}")
    with pytest.raises(ValidationError, match="档号规则"):
        settings.put(session, "archive_no_pattern", "{全宗号}-{批号}-{案卷号}")


def test_nothing_is_deleted_before_retention_ends(session):
    p = plant(session)
    batch = base_batch(session, p, lot(session, p, p.soy))
    archive = archives.product_archive(session, batch)
    feeding = session.scalars(select(Feeding).where(Feeding.batch_id == batch.id)).first()
    number = archive.archive_no
    for victim in (feeding, archive):
        savepoint = session.begin_nested()
        session.delete(victim)
        with pytest.raises(RetentionError) as err:
            session.flush()
        assert number in err.value.message and "期满前不能删除" in err.value.message
        savepoint.rollback()
    assert session.get(Feeding, feeding.id) is not None


def test_deletion_allowed_after_retention(session):
    p = plant(session)
    batch = base_batch(session, p, lot(session, p, p.soy))
    archive = archives.product_archive(session, batch)
    session.info["today"] = archive.retention_until + dt.timedelta(days=1)
    session.delete(archive.entries[-1])
    session.flush()  # a catalogue line is not itself a filed record


def test_safety_archive_per_month(session):
    from app.services import common

    p = plant(session)
    common.create(session, "water_monitoring", dict(
        sampled_at="2026-10-05 08:00", sampling_point="车间总进水口", ph="7.2", conclusion="pass", inspector_id=p.person.id,
    ))
    archive = archives.file_safety_month(session, 2026, 10)
    assert archive.period == "2026-10" and [e.ledger for e in archive.entries] == ["water_monitoring"]
    assert archives.file_safety_month(session, 2026, 10).id == archive.id


def test_environment_alarm_and_monthly_filing(session):
    from app.services import safety

    p = plant(session)
    base = dict(location="成品冷库", warehouse_id=p.store.id, parameter="温度", unit="℃", alarm_low="0", alarm_high="4")
    normal = safety.record(session, "environment_reading", dict(base, measured_at="2026-11-03 08:00", value="3.1"))
    warm = safety.record(session, "environment_reading", dict(base, measured_at="2026-11-03 20:00", value="6.5"))
    assert (normal.alarm, warm.alarm) == (False, True)
    archive = session.scalar(select(Archive).where(Archive.kind == "safety", Archive.period == "2026-11"))
    assert archive.entries[0].ledger == "environment_reading" and archive.entries[0].record_ids == f"{normal.id},{warm.id}"
