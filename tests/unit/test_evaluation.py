"""R7.2: the figures of a period, counted on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import ValidationError
from app.services import evaluation, production, quality

from .builders import base_batch, lot, plant


@pytest.fixture
def p(session):
    return plant(session)


NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_pass_rate_by_product_and_month(session, p):
    good = base_batch(session, p, lot(session, p, p.soy))
    bad = base_batch(session, p, lot(session, p, p.soy, supplier_lot="HLJ-2", receipt_no="R-2"))
    for batch, verdict in ((good, "pass"), (bad, "fail")):
        quality.inspect(session, dict(kind="semi_finished", batch_id=batch.id, sampled_at="2026-11-18 12:00",
                                      inspector_id=p.person.id, reviewer_id=p.reviewer.id),
                        [dict(item="蛋白质", method="GB 5009.5", requirement="≥ 2.0 g/100g", result="2.5",
                              verdict=verdict)])
    rates = evaluation.pass_rates(session, *NOVEMBER)
    assert rates.rows == ["豆浆基料"] and rates.columns == ["2026-11"] and rates.values == [[50.0]]
    assert evaluation.pass_rates(session, dt.date(2026, 10, 1), dt.date(2026, 10, 31)).empty


def test_deviations_by_point_and_month_and_the_unanswered_ones(session, p):
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    production.record_ccp(session, batch, p.boil_ccp, "98", operator_id=p.person.id)
    production.record_ccp(session, batch, p.boil_ccp, "90", operator_id=p.person.id)
    series = evaluation.ccp_deviations(session, *NOVEMBER)
    assert series.rows == ["煮浆"] and series.values == [[1.0]] and "尚无纠偏措施 1 次" in series.note


def test_supplier_performance_counts_receipts_and_rejections(session, p):
    lot(session, p, p.soy)
    lot(session, p, p.soy, supplier_lot="HLJ-R", receipt_no="R-R", decision="rejected")
    series = evaluation.supplier_performance(session, *NOVEMBER)
    assert series.rows == [p.supplier.name] and series.values[0][:3] == [2.0, 1.0, 0.0]
    assert series.values[0][3] == 90.0  # the evaluation's score


def test_a_period_that_ends_before_it_starts_is_refused(session, p):
    with pytest.raises(ValidationError, match="截止日期"):
        evaluation.evaluate(session, dt.date(2026, 11, 30), dt.date(2026, 11, 1))
