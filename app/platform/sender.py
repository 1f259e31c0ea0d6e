"""The sender: takes due outbox rows, sends them in batches, keeps receipts.

Each batch is three short steps, none of which holds a transaction open
during the HTTP call:

1. **claim** — in one transaction, pick due rows (pending and due, or sent
   with an expired lease: the sender that held them died) and mark them
   ``sent`` with a claim token and a lease. On PostgreSQL the pick is
   ``FOR UPDATE SKIP LOCKED``, so two PCs never take the same row; SQLite
   has one writer at a time anyway.
2. **send** — one POST of the batch, same idempotency keys as every earlier try.
3. **record** — acknowledged rows keep the receipt and are never sent again;
   rejected rows keep the platform's reason and wait for a correction;
   the rest go back to pending with exponential backoff and jitter.

A sender killed between 1 and 3 leaves rows ``sent``; when their lease ends
another run takes them and sends them again under the same keys, which the
platform recognises as repeats.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.models import OutboxEntry

from . import outbox
from .client import Client, Refused, Transient
from .profile import Profile

log = logging.getLogger("upload")
TABLE = OutboxEntry.__table__


# One statement each, executed for many rows at once (executemany).
_ACKNOWLEDGE = update(TABLE).where(TABLE.c.id == bindparam("row_id"), TABLE.c.status != "acknowledged").values(
    status="acknowledged", acknowledged_at=bindparam("at"), receipt_id=bindparam("rid"), receipt=bindparam("rcpt"),
    claim_token=None, claimed_until=None, reason=None,
)
_RELEASE = update(TABLE).where(
    TABLE.c.id == bindparam("row_id"), TABLE.c.claim_token == bindparam("token"), TABLE.c.status == "sent"
).values(status="pending", claim_token=None, claimed_until=None, reason=bindparam("reason"), next_attempt_at=bindparam("due"))


def utcnow() -> dt.datetime:
    return clock.now()


def backoff(attempts: int, base: float, cap: float, rng: random.Random = random._inst) -> float:
    """Seconds to wait after ``attempts`` failures: exponential, capped, with
    "equal jitter" (half fixed, half random) so many PCs do not retry in step."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


@dataclass
class Report:
    acknowledged: int = 0
    rejected: int = 0
    retried: int = 0
    batches: int = 0
    error: str | None = None  # why sending stopped early
    refused: bool = False  # the platform refused the connection (credentials, profile)

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        text = f"已确认 {self.acknowledged} 条，被拒 {self.rejected} 条，待重试 {self.retried} 条（{self.batches} 批）"
        return text + (f"；{self.error}" if self.error else "")


@dataclass
class Sender:
    sessions: sessionmaker[Session]
    client: Client
    profile: Profile
    clock: Callable[[], dt.datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)
    batch_size: int | None = None

    def claim(self) -> tuple[str, list]:
        now = self.clock()
        lease = dt.timedelta(seconds=self.profile.retry["lease_seconds"])
        token = uuid.uuid4().hex
        size = self.batch_size or self.profile.batch_size
        with self.sessions.begin() as session:
            due = or_(
                and_(TABLE.c.status == "pending", TABLE.c.next_attempt_at <= now),
                and_(TABLE.c.status == "sent", TABLE.c.claimed_until <= now),
            )
            query = select(TABLE.c.id).where(due).order_by(TABLE.c.next_attempt_at, TABLE.c.id).limit(size)
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = session.scalars(query).all()
            if not ids:
                return token, []
            ids = self._set_aside_edited(session, ids)
            if not ids:
                return token, []
            session.execute(
                update(TABLE).where(TABLE.c.id.in_(ids)).values(
                    status="sent", claim_token=token, claimed_until=now + lease, sent_at=now,
                    attempts=TABLE.c.attempts + 1,
                )
            )
            rows = session.execute(
                select(TABLE.c.id, TABLE.c.idempotency_key, TABLE.c.kind, TABLE.c.payload, TABLE.c.attempts)
                .where(TABLE.c.id.in_(ids)).order_by(TABLE.c.id)
            ).all()
        return token, rows

    @staticmethod
    def _set_aside_edited(session: Session, ids: list[int]) -> list[int]:
        """Never send a payload that differs from its audited record: reject it with the reason."""
        bad = outbox.edited(session.connection(), ids)
        if bad:
            log.warning("outbox rows %s differ from their records: not sent", sorted(bad))
            session.execute(update(TABLE).where(TABLE.c.id.in_(bad)).values(
                status="rejected", reason=outbox.EDITED, claim_token=None, claimed_until=None))
        return [row_id for row_id in ids if row_id not in bad]

    def _release(self, session: Session, token: str, ids: list[int], attempts: dict[int, int], reason: str) -> None:
        """Back to pending, each after its own backoff."""
        if not ids:
            return
        now = self.clock()
        retry = self.profile.retry
        session.execute(_RELEASE, [
            {"row_id": row_id, "token": token, "reason": reason,
             "due": now + dt.timedelta(seconds=backoff(attempts[row_id], retry["base_seconds"], retry["max_seconds"], self.rng))}
            for row_id in ids
        ])

    def send_batch(self, report: Report) -> bool:
        """One claim-send-record round; False when nothing was due or sending must stop."""
        token, rows = self.claim()
        if not rows:
            return False
        report.batches += 1
        attempts = {row.id: row.attempts for row in rows}
        by_key = {row.idempotency_key: row for row in rows}
        records, unusable = [], []
        for row in rows:
            if self.profile.message(row.kind) is None:
                unusable.append(row)
                continue
            records.append((row.idempotency_key, row.kind, self.profile.render(row.kind, json.loads(row.payload))))
        try:
            outcome = self.client.send(records) if records else None
        except (Transient, Refused) as exc:
            with self.sessions.begin() as session:
                self._release(session, token, [row.id for row in rows], attempts, str(exc))
            report.retried += len(rows)
            report.error = str(exc)
            report.refused = isinstance(exc, Refused)
            log.warning("upload batch of %d failed: %s", len(rows), exc)
            return False
        now = self.clock()
        with self.sessions.begin() as session:
            for row in unusable:
                self._reject(session, token, row.id, now, f"平台配置文件「{self.profile.name}」没有「{row.kind}」报文", None)
                report.rejected += 1
            if outcome is None:
                return True
            if outcome.acknowledged:
                # An acknowledgement is final whoever holds the row now: the platform has it.
                session.execute(_ACKNOWLEDGE, [
                    {"row_id": by_key[key].id, "at": now, "rid": receipt_id,
                     "rcpt": json.dumps(receipt, ensure_ascii=False, sort_keys=True)}
                    for key, (receipt_id, receipt) in outcome.acknowledged.items()
                ])
            for key, (reason, receipt) in outcome.rejected.items():
                self._reject(session, token, by_key[key].id, now, reason, receipt)
            self._release(session, token, [by_key[key].id for key in outcome.unsettled], attempts, "平台回执中没有这条记录")
        report.acknowledged += len(outcome.acknowledged)
        report.rejected += len(outcome.rejected)
        report.retried += len(outcome.unsettled)
        log.info("upload batch: %d acknowledged, %d rejected, %d unsettled",
                 len(outcome.acknowledged), len(outcome.rejected), len(outcome.unsettled))
        return True

    @staticmethod
    def _reject(session: Session, token: str, row_id: int, now: dt.datetime, reason: str, receipt: dict | None) -> None:
        session.execute(
            update(TABLE).where(TABLE.c.id == row_id, TABLE.c.claim_token == token, TABLE.c.status == "sent").values(
                status="rejected", reason=reason, claim_token=None, claimed_until=None,
                receipt=None if receipt is None else json.dumps(receipt, ensure_ascii=False, sort_keys=True),
            )
        )

    def drain(self, max_batches: int | None = None) -> Report:
        """Send everything that is due now (retries wait for their backoff)."""
        report = Report()
        while max_batches is None or report.batches < max_batches:
            if not self.send_batch(report) or report.error:
                break
        return report
