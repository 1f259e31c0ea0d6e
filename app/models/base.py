"""Declarative base, shared column types and the mixins every ledger uses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from app import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Quantities are exact decimals: a mass balance must add up to the gram.
Quantity = Numeric(14, 3)

intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
str20 = Annotated[str, mapped_column(String(20))]
str40 = Annotated[str, mapped_column(String(40))]
str100 = Annotated[str, mapped_column(String(100))]
str200 = Annotated[str, mapped_column(String(200))]
text = Annotated[str, mapped_column(Text)]
qty = Annotated[Decimal, mapped_column(Quantity)]
date = Annotated[dt.date, mapped_column(Date)]
datetime = Annotated[dt.datetime, mapped_column(DateTime)]
flag = Annotated[bool, mapped_column(Boolean, default=False)]


def fk(target: str, *, nullable: bool = False, index: bool = True):
    return mapped_column(ForeignKey(target), nullable=nullable, index=index)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        str: String(200),
        Decimal: Quantity,
        dt.date: Date,
        dt.datetime: DateTime,
        bool: Boolean,
    }

    id: Mapped[intpk]

    # The Chinese name of one row of this table, used in messages.
    __label__ = ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


class Submittable:
    """A record that is locked once submitted (R5.1).

    After ``submitted_at`` is set, a change goes through an amendment that
    keeps the original value, who, when and why.
    """

    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    submitted_by: Mapped[str | None] = mapped_column(String(40), default=None)
    # Reference of the paper record a later entry was copied from (R5.1).
    paper_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    remarks: Mapped[str | None] = mapped_column(Text, default=None)

    # Columns the services keep current after submission (running stock,
    # status): they are bookkeeping, not the signed content of the record.
    live_columns: frozenset[str] = frozenset()

    @property
    def locked(self) -> bool:
        return self.submitted_at is not None


class Recorded:
    """Who entered a row and when, and the row's version (issue 19 §4).

    ``row_version`` is SQLAlchemy's version counter: every UPDATE names the
    version it read, so a save over a change another PC committed since
    updates nothing and fails (``StaleDataError``) instead of overwriting it.
    It is a concurrency token, not content: the audit hash leaves it out
    (``audit.NOT_CONTENT``)."""

    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.now)
    created_by: Mapped[str] = mapped_column(String(40), default="system")
    row_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.row_version}
