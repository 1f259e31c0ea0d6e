"""Users, their roles, and electronic signatures (21 CFR 11, EU GMP Annex 11).

A user is one member of staff (linked to the personnel record when there is
one). A Signature binds a signer, a meaning (编制, 复核, 审核, 批准 …) and a
moment to the hash of a record's exact content; its own hash also binds the
table and row, so a signature row copied onto another record no longer
verifies. The rules live in app.services.users and app.services.signatures.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from .base import Base


class User(Base):
    __tablename__ = "app_user"
    __label__ = "用户"
    username: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True, default=None)
    # The printed name a signature shows.
    display_name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.now)


class UserRole(Base):
    __tablename__ = "user_role"
    __label__ = "用户角色"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_role_user_id_role"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))


class Signature(Base):
    __tablename__ = "signature"
    __label__ = "电子签名"
    # A record's signatures by its row: the home page asks, for a month of a
    # ledger, which rows still lack one (issue 17).
    __table_args__ = (Index("ix_signature_row", "table_name", "row_id", "meaning"),)
    table_name: Mapped[str] = mapped_column(String(60), index=True)
    row_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    printed_name: Mapped[str] = mapped_column(String(40))
    meaning: Mapped[str] = mapped_column(String(20))
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # audit.row_hash of the record as stored when it was signed.
    content_hash: Mapped[str] = mapped_column(String(64))
    # sha256 over table_name, row_id, content_hash, user_id, meaning, signed_at
    # and, when there is a handwritten image, the image's own sha256.
    signature_hash: Mapped[str] = mapped_column(String(64))
    # The handwritten signature as shown and printed (PNG), and the pen strokes
    # it was drawn from (JSON: [[[x, y, pressure], ...], ...]).
    image_png: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    strokes: Mapped[str | None] = mapped_column(Text, default=None)


class SignatureSpecimen(Base):
    """A user's saved handwritten signature, reused only after the password."""

    __tablename__ = "signature_specimen"
    __label__ = "签名样式"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), unique=True)
    image_png: Mapped[bytes] = mapped_column(LargeBinary)
    strokes: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[dt.datetime] = mapped_column(DateTime)
