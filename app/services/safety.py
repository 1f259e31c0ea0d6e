"""R2.9–R2.10: environment readings with their alarms, and the safety-management
records, filed month by month in the safety-management archive (R3.8)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from app.ledgers import ledger
from app.models import EnvironmentReading

from . import archives
from .common import create

SAFETY_LEDGERS = archives.SAFETY_LEDGERS


def record_reading(session: Session, values: Mapping[str, object]) -> EnvironmentReading:
    """A reading outside its alarm limits is flagged as an alarm (R2.9),
    decided before it is saved: a saved reading is locked."""
    cleaned = ledger("environment_reading").clean(dict(values, alarm=False))
    low, high, value = cleaned.get("alarm_low"), cleaned.get("alarm_high"), cleaned["value"]
    alarm = (low is not None and value < low) or (high is not None and value > high)
    return create(session, "environment_reading", values, alarm=alarm)


def record(session: Session, ledger_key: str, values: Mapping[str, object]):
    """Any safety-management record, filed in its month's archive."""
    if ledger_key not in SAFETY_LEDGERS:
        raise ValueError(ledger_key)
    row = record_reading(session, values) if ledger_key == "environment_reading" else create(session, ledger_key, values)
    day = getattr(row, ledger(ledger_key).date_field)
    archives.file_safety_month(session, day.year, day.month)
    return row
