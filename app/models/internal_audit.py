"""R7.4: the internal audit of the traceability system (S§5(1), S§5(4)):
checklist runs and drills, incidents, corrective actions and their follow-up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Recorded, fk


class InternalAudit(Recorded, Base):
    """A checklist run of the traceability system, or a recall drill."""

    __tablename__ = "internal_audit"
    __label__ = "追溯体系内部审核记录"
    audit_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # checklist, drill
    audited_at: Mapped[dt.datetime] = mapped_column(index=True)
    records_complete: Mapped[bool | None]
    codes_ok: Mapped[bool | None]  # codes and carriers readable and unique
    platform_ok: Mapped[bool | None]  # records reach the platform
    drills_done: Mapped[bool | None]
    staff_trained: Mapped[bool | None]
    drill_query: Mapped[str | None] = mapped_column(String(40))
    drill_seconds: Mapped[Decimal | None]
    drill_summary: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[str | None] = mapped_column(Text)
    auditor_id: Mapped[int | None] = fk("person.id", nullable=True)


class Incident(Recorded, Base):
    """A label mix-up, lost or damaged information, a platform outage."""

    __tablename__ = "incident"
    __label__ = "追溯事故记录"
    incident_no: Mapped[str] = mapped_column(String(40), unique=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    handling: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[int] = fk("person.id")


class CorrectiveAction(Recorded, Base):
    """A corrective action with its owner, due date and follow-up verification."""

    __tablename__ = "corrective_action"
    __label__ = "纠正措施跟踪记录"
    action_no: Mapped[str] = mapped_column(String(40), unique=True)
    raised_on: Mapped[dt.date] = mapped_column(index=True)
    audit_id: Mapped[int | None] = fk("internal_audit.id", nullable=True)
    incident_id: Mapped[int | None] = fk("incident.id", nullable=True)
    recall_id: Mapped[int | None] = fk("recall.id", nullable=True)
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = fk("person.id")
    due_on: Mapped[dt.date]
    done_on: Mapped[dt.date | None]
    verification: Mapped[str | None] = mapped_column(Text)
    verified_on: Mapped[dt.date | None]
    verified_by: Mapped[int | None] = fk("person.id", nullable=True)
