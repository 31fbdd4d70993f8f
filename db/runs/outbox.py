"""The notification outbox (this module owns `outbox`): deliveries of notifications to webhooks
and email, each sent with the notification's stable idempotency key, retried with exponential
backoff and jitter, and dead-lettered after NOTIFY_MAX_ATTEMPTS with the reason kept.

Rows are written in the transaction of the workflow step that decided the notification (a
trigger of migration `cases`, one row per webhook of the person and one for email when the
server sends email), so a crash either keeps the step and its deliveries, or neither.

`OutboxDeliverer` runs beside the run executors in every worker process. A delivery is claimed
with SKIP LOCKED under a lease (a worker that dies mid-send leaves it to be claimed again when
the lease expires), sent with no database connection held, then recorded, fenced by its attempt
number so a late worker cannot overwrite a newer attempt's result. Exactly once *in effect*: a
crash between the receiver's acceptance and the record sends again, with the same key, which
the receiver uses to recognise it (a webhook's `Idempotency-Key` header, an email's Message-ID).
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg

from db.clock import Clock
from db.connection import Connection
from db.errors import Undecryptable
from db.runs.polling import PollingLoop
from db.settings import Settings
from db.webhooks import open_secret

log = logging.getLogger(__name__)

Channel = Literal["webhook", "email"]
DeliveryStatus = Literal["pending", "sending", "delivered", "dead", "skipped"]

# Up to $2 deliveries due at $1 (the clock's now): pending ones whose time came, and sending ones
# whose worker's lease expired. Each claim is an attempt; one that would exceed $4 attempts is
# dead-lettered instead (its last attempt never reported back).
CLAIM_DELIVERIES = """
WITH due AS (
    SELECT o.id FROM outbox o
     WHERE (o.status = 'pending' AND o.next_attempt_at <= $1)
        OR (o.status = 'sending' AND o.lease_expires_at < $1)
     ORDER BY o.next_attempt_at, o.id
     LIMIT $2
       FOR UPDATE SKIP LOCKED
)
UPDATE outbox o SET
    status = CASE WHEN o.attempts >= $4 THEN 'dead' ELSE 'sending' END,
    attempts = CASE WHEN o.attempts >= $4 THEN o.attempts ELSE o.attempts + 1 END,
    lease_expires_at = CASE WHEN o.attempts >= $4 THEN NULL ELSE $1 + make_interval(secs => $3) END,
    last_error = CASE WHEN o.attempts >= $4
                      THEN 'attempt ' || o.attempts || ' never reported back (its worker stopped); no attempts left'
                      ELSE o.last_error END,
    updated_at = now()
  FROM due WHERE o.id = due.id
RETURNING o.id, o.status, o.attempts
"""
# What a claimed delivery sends: the notification, and the webhook or the address.
SELECT_DELIVERIES = """
SELECT o.id, o.attempts, o.channel, o.webhook_id, n.id AS notification_id, n.idempotency_key, n.kind, n.title,
       n.body, n.data, n.case_id, n.created_at, w.url, w.secret, w.key_id, u.email
  FROM outbox o
  JOIN notifications n ON n.id = o.notification_id
  JOIN users u ON u.id = o.user_id
  LEFT JOIN webhooks w ON w.id = o.webhook_id
 WHERE o.id = ANY($1::bigint[])
"""
RECORD_DELIVERED = """
UPDATE outbox SET status = 'delivered', delivered_at = $3, lease_expires_at = NULL, updated_at = now()
 WHERE id = $1 AND attempts = $2 AND status = 'sending'
RETURNING id
"""
# A failed attempt: retried at $3, or dead when it was the last of $4 attempts; $5 says why.
RECORD_FAILED = """
UPDATE outbox SET status = CASE WHEN attempts >= $4 THEN 'dead' ELSE 'pending' END,
                  next_attempt_at = $3, last_error = $5, lease_expires_at = NULL, updated_at = now()
 WHERE id = $1 AND attempts = $2 AND status = 'sending'
RETURNING status
"""
RECORD_SKIPPED = """
UPDATE outbox SET status = 'skipped', last_error = $3, lease_expires_at = NULL, updated_at = now()
 WHERE id = $1 AND attempts = $2 AND status = 'sending'
RETURNING id
"""
SELECT_NOTIFICATION_DELIVERIES = """
SELECT o.notification_id, o.channel, o.webhook_id, o.status, o.attempts, o.last_error, o.next_attempt_at,
       o.delivered_at, o.updated_at
  FROM outbox o
 WHERE o.notification_id = ANY($1::uuid[]) AND o.user_id = $2
 ORDER BY o.notification_id, o.id
"""
COUNT_WEBHOOK_DELIVERIES = """
SELECT o.webhook_id, o.status, count(*) AS n FROM outbox o
 WHERE o.user_id = $1 AND o.webhook_id = ANY($2::uuid[])
 GROUP BY o.webhook_id, o.status
"""
COUNT_DELIVERIES_BY_STATUS = "SELECT channel, status, count(*) AS n FROM outbox GROUP BY channel, status"

CLAIM_BATCH = 16
MAX_ERROR_CHARS = 300


class DeliveryFailed(Exception):
    """An attempt failed; the message (no secrets, no bodies) is kept as the delivery's last error."""


class DeliverySkipped(Exception):
    """The channel is off here (no SMTP configured): the delivery ends `skipped`, with the reason."""


@dataclass(frozen=True)
class Delivery:
    """One attempt at one delivery, as a sender needs it."""

    id: int
    attempt: int
    channel: Channel
    idempotency_key: str
    notification_id: uuid.UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    case_id: uuid.UUID | None
    created_at: datetime
    url: str | None  # webhook
    secret: str | None  # webhook signing secret (decrypted for this attempt only)
    email: str | None  # the person's address

    def payload(self) -> dict[str, Any]:
        """The JSON a webhook receives (and what an email says)."""
        return {"id": str(self.notification_id), "idempotency_key": self.idempotency_key, "type": self.kind,
                "title": self.title, "body": self.body, "case_id": str(self.case_id) if self.case_id else None,
                "created_at": self.created_at.isoformat(), "data": self.data}


# Sends one delivery; raises DeliveryFailed (retry) or DeliverySkipped (channel off).
Sender = Callable[[Delivery], Awaitable[None]]


@dataclass(frozen=True)
class DeliveryView:
    """A delivery's state, as the person sees it under their notification."""

    channel: str
    webhook_id: uuid.UUID | None
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempt + 1`: base x 2^(attempt-1), capped, with "equal jitter"
    (a random half of it), so receivers that failed together are not retried together."""
    full = min(cap, base * 2 ** max(attempt - 1, 0))
    return full / 2 + (rng or random).uniform(0, full / 2)


async def deliveries_of(con: Connection | asyncpg.Pool, notification_ids: list[uuid.UUID],
                        user_id: uuid.UUID) -> dict[uuid.UUID, list[DeliveryView]]:
    found: dict[uuid.UUID, list[DeliveryView]] = {nid: [] for nid in notification_ids}
    for row in await con.fetch(SELECT_NOTIFICATION_DELIVERIES, notification_ids, user_id):
        found[row["notification_id"]].append(DeliveryView(
            channel=row["channel"], webhook_id=row["webhook_id"], status=row["status"], attempts=row["attempts"],
            last_error=row["last_error"], next_attempt_at=row["next_attempt_at"] if row["status"] == "pending"
            else None, delivered_at=row["delivered_at"]))
    return found


async def webhook_delivery_counts(con: asyncpg.Connection | asyncpg.Pool, user_id: uuid.UUID,
                                  webhook_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    counts: dict[uuid.UUID, dict[str, int]] = {wid: {} for wid in webhook_ids}
    for row in await con.fetch(COUNT_WEBHOOK_DELIVERIES, user_id, webhook_ids):
        counts[row["webhook_id"]][row["status"]] = row["n"]
    return counts


async def counts_by_status(con: asyncpg.Connection | asyncpg.Pool) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in await con.fetch(COUNT_DELIVERIES_BY_STATUS):
        counts.setdefault(row["channel"], {})[row["status"]] = row["n"]
    return counts


class OutboxDeliverer(PollingLoop):
    """Claims due deliveries, sends them with the channel's sender, records the outcome."""

    name = "outbox"

    def __init__(self, pool: asyncpg.Pool, settings: Settings, clock: Clock, senders: Mapping[str, Sender], *,
                 poll_seconds: float | None = None, batch: int = CLAIM_BATCH, rng: random.Random | None = None) -> None:
        super().__init__(poll_seconds if poll_seconds is not None else settings.notify_poll_seconds)
        self.pool = pool
        self.clock = clock
        self.senders = dict(senders)
        self.document_key = settings.document_key()
        self.max_attempts = settings.notify_max_attempts
        self.base = settings.notify_backoff_seconds
        self.cap = settings.notify_backoff_max_seconds
        self.timeout = settings.notify_timeout_seconds
        self.batch = batch
        self.rng = rng or random.Random()

    async def deliver_due(self) -> int:
        """Claim and send one batch of due deliveries; returns how many were claimed."""
        now = self.clock.now()
        # The lease outlives a send that times out, with room for recording it.
        lease = self.timeout * 2 + 5
        claimed = await self.pool.fetch(CLAIM_DELIVERIES, now, self.batch, lease, self.max_attempts)
        sending = [row["id"] for row in claimed if row["status"] == "sending"]
        for row in claimed:
            if row["status"] == "dead":
                log.warning("outbox delivery %s dead: its last attempt never reported back", row["id"])
        if sending:
            rows = await self.pool.fetch(SELECT_DELIVERIES, sending)
            await asyncio.gather(*(self._attempt(row) for row in rows))
        return len(claimed)

    def _delivery(self, row: asyncpg.Record) -> Delivery:
        secret = None
        if row["channel"] == "webhook" and row["secret"] is not None:
            secret = open_secret(self.document_key, row["secret"], webhook_id=row["webhook_id"],
                                 stored_key_id=row["key_id"])
        return Delivery(id=row["id"], attempt=row["attempts"], channel=row["channel"],
                        idempotency_key=row["idempotency_key"], notification_id=row["notification_id"],
                        kind=row["kind"], title=row["title"], body=row["body"], data=row["data"],
                        case_id=row["case_id"], created_at=row["created_at"], url=row["url"], secret=secret,
                        email=row["email"])

    async def _attempt(self, row: asyncpg.Record) -> None:
        ident, attempt = row["id"], row["attempts"]
        sender = self.senders.get(row["channel"])
        try:
            if sender is None:
                raise DeliverySkipped(f"no {row['channel']} sender in this process")
            delivery = self._delivery(row)
            await asyncio.wait_for(sender(delivery), self.timeout)
        except DeliverySkipped as exc:
            await self.pool.execute(RECORD_SKIPPED, ident, attempt, str(exc)[:MAX_ERROR_CHARS])
            return
        except Exception as exc:
            if isinstance(exc, (DeliveryFailed, TimeoutError, Undecryptable)):
                reason = str(exc) or f"no answer within {self.timeout:g} s (NOTIFY_TIMEOUT_SECONDS)"
            else:
                log.exception("outbox delivery %s attempt %d failed unexpectedly", ident, attempt)
                reason = f"{type(exc).__name__}"
            retry_at = self.clock.now() + timedelta(seconds=backoff_delay(attempt, self.base, self.cap, self.rng))
            status = await self.pool.fetchval(RECORD_FAILED, ident, attempt, retry_at, self.max_attempts,
                                              reason[:MAX_ERROR_CHARS])
            log.info("outbox delivery %s attempt %d failed (%s): %s", ident, attempt, reason, status)
            return
        if await self.pool.fetchval(RECORD_DELIVERED, ident, attempt, self.clock.now()) is None:
            log.warning("outbox delivery %s attempt %d: delivered, but a newer attempt owns the row", ident, attempt)

    async def round(self) -> float:
        # A full batch means more may be due right now.
        return 0.0 if await self.deliver_due() >= self.batch else self.poll_seconds
