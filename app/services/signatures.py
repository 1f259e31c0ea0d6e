"""Electronic signatures bound to a record's exact content (21 CFR 11, Annex 11).

Signing needs the signer's user name and password again. A signature keeps
the printed name, the meaning (编制, 操作, 复核, 审核, 批准), the moment and
``content_hash``: the audit hash of the signed row as stored, read through
the connection exactly as ``audit.verify`` reads it. Columns a model lists in
``live_columns`` (running stock, status) are bookkeeping the services keep
current after submission, not signed content, so they are left out of it.

``signature_hash`` binds the table, row, content hash, signer, printed name,
meaning and moment: a signature row copied onto another record no longer
recomputes. A record changed after signing (an amendment included) shows its
signature as invalid until it is signed again. Which meanings a record needs
is declared with its ledger (``Ledger.signatures``).

The hashes are not secret-keyed: someone who writes the database directly
could recompute them, but such a write is not in the audit log, and
``audit.verify`` reports it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import NamedTuple

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.errors import FieldError, PermissionDenied, UserError, ValidationError
from app.ledgers import ledger_for_model
from app.models import Base, Signature, SignatureSpecimen

from . import signature_ink, users
from .audit import Finding, canonical_row, canonical_value, row_hash, to_json
from .common import now
from .guards import describe


class SignatureStatus(NamedTuple):
    meaning: str
    signature: Signature | None  # None: the required signature is missing
    valid: bool


def _model_for(table_name: str) -> type | None:
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table_name:
            return mapper.class_
    return None


def _hash_of_row(table_name: str, row) -> str:
    model = _model_for(table_name)
    live = getattr(model, "live_columns", frozenset()) if model is not None else frozenset()
    content = {key: value for key, value in canonical_row(row, table_name).items() if key not in live}
    return row_hash(table_name, content)


def _stored_hash(connection: Connection, table: Table, row_id: int) -> str | None:
    row = connection.execute(select(table).where(table.c.id == row_id)).first()
    return None if row is None else _hash_of_row(table.name, row)


def content_hash(session: Session, obj) -> str:
    """The hash of ``obj``'s row as stored (pending changes flushed first)."""
    session.flush()
    digest = _stored_hash(session.connection(), obj.__table__, obj.id)
    if digest is None:
        raise UserError(f"{describe(obj)}尚未保存，不能签名")
    return digest


def signature_hash(
    table_name: str, row_id: int, content: str, user_id: int, printed_name: str, meaning: str, signed_at,
    image_png: bytes | None = None,
) -> str:
    fields = [table_name, row_id, content, user_id, printed_name, meaning, canonical_value(signed_at)]
    if image_png:
        # The handwritten image is part of what was signed: swapping it breaks the hash.
        fields.append(hashlib.sha256(image_png).hexdigest())
    return hashlib.sha256(to_json(fields).encode()).hexdigest()


def _recomputes(sig) -> bool:
    expected = signature_hash(
        sig.table_name, sig.row_id, sig.content_hash, sig.user_id, sig.printed_name, sig.meaning, sig.signed_at,
        sig.image_png,
    )
    return expected == sig.signature_hash


def required_meanings(model: type) -> tuple[str, ...]:
    declaration = ledger_for_model(model)
    return tuple(declaration.signatures) if declaration is not None else ()


def sign(
    session: Session, obj, username: str, password: str, meaning: str, strokes: str | None = None,
) -> Signature:
    """Sign ``obj`` with the meaning ``meaning`` as the user ``username``;
    ``strokes`` (signature_ink JSON) is the handwritten signature, kept with
    its PNG."""
    user = users.authenticate(session, username, password)
    image_png = None
    if strokes is not None:
        strokes = signature_ink.to_json(signature_ink.from_json(strokes))
        image_png = signature_ink.render_png(signature_ink.from_json(strokes))
    _may_sign(session, type(obj), user, meaning, describe(obj))
    _check_signer(session, obj, user, meaning)
    digest = content_hash(session, obj)
    signed_at = now(session)
    table_name = obj.__table__.name
    signature = Signature(
        table_name=table_name,
        row_id=obj.id,
        user_id=user.id,
        printed_name=user.display_name,
        meaning=meaning,
        signed_at=signed_at,
        content_hash=digest,
        signature_hash=signature_hash(
            table_name, obj.id, digest, user.id, user.display_name, meaning, signed_at, image_png
        ),
        image_png=image_png,
        strokes=strokes,
    )
    session.add(signature)
    session.flush()
    return signature


def _may_sign(session: Session, model: type, user, meaning: str, what: str) -> None:
    meanings = required_meanings(model)
    if meaning not in meanings:
        allowed = "、".join(meanings) or "无"
        raise ValidationError(FieldError("meaning", "签名含义", f"{what}不需要「{meaning}」签名（需要：{allowed}）"))
    roles = users.roles_of(session, user)
    if not users.may_sign(roles, meaning):
        raise PermissionDenied(f"{user.display_name}（{users.role_labels(roles)}）无权以「{meaning}」签名")


def sign_many(session: Session, model: type, row_ids: list[int], user, meaning: str,
              at: dict[int, dt.datetime] | None = None) -> list[Signature]:
    """Sign many records of one ledger with one meaning as ``user``, whom the
    caller has authenticated (a loader replaying recorded work: the demo
    factory). The rules of ``sign`` hold row by row — the meaning required,
    the role allowed to give it, a review by someone else, the named person
    signing for himself — and nothing is signed if one row fails. ``at``
    gives each record the moment it was signed (default: now); one query
    reads the rows, one their signatures, one flush writes them."""
    if not row_ids:
        return []
    session.flush()
    declaration = ledger_for_model(model)
    _may_sign(session, model, user, meaning, declaration.title if declaration else model.__tablename__)
    table = model.__table__
    rows = {}
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        rows.update((row.id, row) for row in session.connection().execute(select(table).where(table.c.id.in_(chunk))))
    signed = _signed_rows(session, table.name, row_ids)
    others = set(REVIEW_OF.get(meaning, ())) | {review for review, authored in REVIEW_OF.items() if meaning in authored}
    field = (declaration.extra.get("signed_by", {}) if declaration is not None else {}).get(meaning)
    moment = now(session)
    made = []
    for row_id in row_ids:
        row = rows.get(row_id)
        if row is None:
            raise UserError(f"{model.__label__}（编号 {row_id}）尚未保存，不能签名")
        newest = {sig.meaning: sig for sig in signed.get(row_id, [])}
        if any(m in newest and newest[m].user_id == user.id for m in others):
            raise PermissionDenied(f"{user.display_name}已签署{model.__label__}（编号 {row_id}），「{meaning}」须由另一人签名")
        wanted = getattr(row, field) if field else None
        if wanted is not None and user.person_id is not None and user.person_id != wanted:
            raise PermissionDenied(f"「{meaning}」应由{declaration.field(field).label}本人签名，"
                                   f"{user.display_name}不是{model.__label__}（编号 {row_id}）的{declaration.field(field).label}")
        digest = _hash_of_row(table.name, row)
        signed_at = (at or {}).get(row_id, moment)
        made.append(Signature(
            table_name=table.name, row_id=row_id, user_id=user.id, printed_name=user.display_name, meaning=meaning,
            signed_at=signed_at, content_hash=digest,
            signature_hash=signature_hash(table.name, row_id, digest, user.id, user.display_name, meaning, signed_at),
        ))
    session.add_all(made)
    session.flush()
    return made


# A record is reviewed by a second person (G§43): who wrote or did it does not
# also sign its review, nor the other way round.
REVIEW_OF = {"复核": ("编制", "操作")}


def _check_signer(session: Session, obj, user, meaning: str) -> None:
    others = set(REVIEW_OF.get(meaning, ()))
    others |= {review for review, authored in REVIEW_OF.items() if meaning in authored}
    newest = {sig.meaning: sig for sig in _signed(session, obj.__table__.name, [obj.id]).get(obj.id, [])}
    clash = sorted(m for m in others if m in newest and newest[m].user_id == user.id)
    if clash:
        raise PermissionDenied(f"{user.display_name}已以「{clash[0]}」签署{describe(obj)}，「{meaning}」须由另一人签名")
    declaration = ledger_for_model(type(obj))
    field = (declaration.extra.get("signed_by", {}) if declaration is not None else {}).get(meaning)
    wanted = getattr(obj, field) if field else None
    if wanted is not None and user.person_id is not None and user.person_id != wanted:
        from app.models import Person

        named = session.get(Person, wanted)
        label = declaration.field(field).label
        raise PermissionDenied(f"「{meaning}」应由{label}{named.name if named else ''}本人签名，"
                               f"{user.display_name}不是{describe(obj)}的{label}")


def save_specimen(session: Session, username: str, password: str, strokes: str) -> SignatureSpecimen:
    """Keep the user's handwritten signature for reuse (replacing an older one)."""
    user = users.authenticate(session, username, password)
    parsed = signature_ink.from_json(strokes)
    specimen = session.scalar(select(SignatureSpecimen).where(SignatureSpecimen.user_id == user.id))
    if specimen is None:
        specimen = SignatureSpecimen(user_id=user.id)
        session.add(specimen)
    specimen.strokes = signature_ink.to_json(parsed)
    specimen.image_png = signature_ink.render_png(parsed)
    specimen.saved_at = now(session)
    session.flush()
    return specimen


def specimen_strokes(session: Session, username: str, password: str) -> str:
    """The user's saved signature, handed out only against the password."""
    user = users.authenticate(session, username, password)
    strokes = session.scalar(select(SignatureSpecimen.strokes).where(SignatureSpecimen.user_id == user.id))
    if strokes is None:
        raise UserError(f"{user.display_name}还没有保存签名样式")
    return strokes


def status(session: Session, obj) -> list[SignatureStatus]:
    """One entry per meaning the record's ledger requires: its newest
    signature (None when missing) and whether that signature is valid."""
    digest = content_hash(session, obj)
    return _judge(required_meanings(type(obj)), _signed(session, obj.__table__.name, [obj.id]).get(obj.id, []), digest)


def _signed(session: Session, table_name: str, row_ids: list[int]) -> dict[int, list[Signature]]:
    """The signatures of these rows, oldest first, by row."""
    found: dict[int, list[Signature]] = {}
    for sig in session.scalars(
        select(Signature)
        .where(Signature.table_name == table_name, Signature.row_id.in_(row_ids))
        .order_by(Signature.signed_at, Signature.id)
    ):
        found.setdefault(sig.row_id, []).append(sig)
    return found


def _signed_rows(session: Session, table_name: str, row_ids: list[int]) -> dict[int, list]:
    """``_signed`` as plain rows (read-only, no ORM objects): what a register
    of many records and a sealing checklist read."""
    table = Signature.__table__
    found: dict[int, list] = {}
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        for sig in session.execute(select(table).where(table.c.table_name == table_name, table.c.row_id.in_(chunk))
                                   .order_by(table.c.signed_at, table.c.id)):
            found.setdefault(sig.row_id, []).append(sig)
    for sigs in found.values():
        sigs.sort(key=lambda sig: (sig.signed_at, sig.id))  # chunks read apart: oldest first overall
    return found


def _judge(meanings: tuple[str, ...], signed: list[Signature], digest: str) -> list[SignatureStatus]:
    newest = {sig.meaning: sig for sig in signed}  # later ones overwrite earlier ones
    result = []
    for meaning in meanings:
        sig = newest.get(meaning)
        valid = sig is not None and sig.content_hash == digest and _recomputes(sig)
        result.append(SignatureStatus(meaning, sig, valid))
    return result


class SignatureLine(NamedTuple):
    """One required signature as a screen or a page shows it."""

    meaning: str
    printed_name: str
    signed_at: dt.datetime | None
    valid: bool | None  # None: missing
    image_png: bytes | None

    @property
    def state(self) -> str:
        return "missing" if self.valid is None else "valid" if self.valid else "invalid"


def lines(session: Session, model: type, record_id: int) -> list[SignatureLine]:
    """The record's required signatures as the record window and the printed
    volume show them."""
    obj = session.get(model, record_id)
    if obj is None:
        return []
    return [_line(entry) for entry in status(session, obj)]


def lines_of_rows(session: Session, model: type, rows: list) -> dict[int, list[SignatureLine]]:
    """``lines`` for many rows at once, read as ``select(table)`` reads them
    (a printed register): one query for all their signatures."""
    table_name = model.__table__.name
    signed = _signed_rows(session, table_name, [row.id for row in rows])
    meanings = required_meanings(model)
    unsigned = [SignatureLine(meaning, "", None, None, None) for meaning in meanings]  # shared, read-only
    return {
        # A row nobody signed needs no hash of its content.
        row.id: [_line(entry) for entry in _judge(meanings, signed[row.id], _hash_of_row(table_name, row))]
        if row.id in signed else unsigned
        for row in rows
    }


def _line(entry: SignatureStatus) -> SignatureLine:
    sig = entry.signature
    if sig is None:
        return SignatureLine(entry.meaning, "", None, None, None)
    return SignatureLine(entry.meaning, sig.printed_name, sig.signed_at, entry.valid, sig.image_png)


def missing(session: Session, obj) -> list[str]:
    """The required meanings without a valid signature."""
    return [entry.meaning for entry in status(session, obj) if not entry.valid]


def verify_all(connection: Connection) -> list[Finding]:
    """Every signature that no longer holds: its record changed after signing,
    or the signature does not belong to the record it points at."""
    table = Signature.__table__
    findings: list[Finding] = []
    current: dict[tuple[str, int], str | None] = {}
    superseded: set[int] = set()
    rows = connection.execute(select(table).order_by(table.c.signed_at, table.c.id)).all()
    # A record amended and signed again: only the newest signature of each
    # meaning is expected to hold.
    newest: dict[tuple[str, int, str], int] = {}
    for sig in rows:
        key = (sig.table_name, sig.row_id, sig.meaning)
        if key in newest:
            superseded.add(newest[key])
        newest[key] = sig.id
    for sig in rows:
        model = _model_for(sig.table_name)
        label = (getattr(model, "__label__", "") or sig.table_name) if model is not None else sig.table_name
        what = f"{label}（编号 {sig.row_id}）的「{sig.meaning}」签名（{sig.printed_name}，{sig.signed_at:%Y-%m-%d %H:%M}）"
        if model is None or not _recomputes(sig):
            findings.append(Finding("signature", sig.id, f"{what}：签名与记录不符"))
            continue
        key = (sig.table_name, sig.row_id)
        if key not in current:
            current[key] = _stored_hash(connection, model.__table__, sig.row_id)
        if current[key] is None:
            findings.append(Finding("signature", sig.id, f"{what}：签名与记录不符（记录已不存在）"))
        elif current[key] != sig.content_hash and sig.id not in superseded:
            findings.append(Finding("signature", sig.id, f"{what}：签名后记录被修改，签名失效"))
    return findings
