"""The outbox against the real database: retries spaced by backoff with jitter, a dead letter
with the reason, a send lost with its worker sent again with the same key (and the lost
attempt's late record refused), the email channel skipped when SMTP is off."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from api.notify import EmailSender
from db.clock import Clock
from db.runs.outbox import (
    CLAIM_DELIVERIES,
    RECORD_DELIVERED,
    Delivery,
    DeliveryFailed,
    OutboxDeliverer,
    backoff_delay,
)
from db.settings import Settings
from tests.conftest import make_settings
from tests.utils.factories import NewUser

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MAX_ATTEMPTS = 3
INSERT_NOTIFICATION = """
INSERT INTO notifications (user_id, idempotency_key, kind, title, body, created_at)
VALUES ($1, $2, 'reminder', 'Your appeal is due in 3 days', 'File it by June 4.', $3) RETURNING id
"""
INSERT_DELIVERY = """
INSERT INTO outbox (notification_id, user_id, channel, next_attempt_at) VALUES ($1, $2, 'email', $3) RETURNING id
"""
DELIVERY = "SELECT status, attempts, last_error, next_attempt_at FROM outbox WHERE id = $1"


class Recorder:
    """A sender that records what it was asked to send and fails the first `failures` times."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[Delivery] = []

    async def __call__(self, delivery: Delivery) -> None:
        self.sent.append(delivery)
        if len(self.sent) <= self.failures:
            raise DeliveryFailed("the mail server answered 451")


@pytest.fixture
def outbox_settings(migrated_dsn: str) -> Settings:
    return make_settings(migrated_dsn, notify_max_attempts=MAX_ATTEMPTS, notify_backoff_seconds=60,
                         notify_backoff_max_seconds=600)


async def queue_delivery(pool: asyncpg.Pool, user: uuid.UUID) -> tuple[int, str]:
    key = f"test:{uuid.uuid4()}"
    notification = await pool.fetchval(INSERT_NOTIFICATION, user, key, NOW)
    return await pool.fetchval(INSERT_DELIVERY, notification, user, NOW), key


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        full = min(600, 30 * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt, 30, 600, rng) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 10  # jittered, not one value


async def test_failed_attempts_are_spaced_then_dead_with_the_reason(pool: asyncpg.Pool, new_user: NewUser,
                                                                   outbox_settings: Settings) -> None:
    user = await new_user()
    delivery_id, key = await queue_delivery(pool, user)
    clock = Clock(NOW)
    sender = Recorder(failures=99)
    deliverer = OutboxDeliverer(pool, outbox_settings, clock, {"email": sender}, rng=random.Random(1))
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        await deliverer.deliver_due()
        row = await pool.fetchrow(DELIVERY, delivery_id)
        assert row["attempts"] == attempt and row["last_error"] == "the mail server answered 451"
        if attempt < MAX_ATTEMPTS:
            assert row["status"] == "pending"
            wait = row["next_attempt_at"] - clock.now()
            waits.append(wait)
            await deliverer.deliver_due()  # not due yet: nothing sent
            assert len(sender.sent) == attempt
            clock.advance(wait + timedelta(seconds=1))
    assert row["status"] == "dead" and row["next_attempt_at"] is not None
    assert timedelta(seconds=29) <= waits[0] <= timedelta(seconds=61)  # half to all of 60 s, the first time
    assert timedelta(seconds=59) <= waits[1] <= timedelta(seconds=121)  # then of 120 s
    assert {d.idempotency_key for d in sender.sent} == {key} and len(sender.sent) == MAX_ATTEMPTS
    clock.advance(timedelta(days=1))
    assert await deliverer.deliver_due() == 0  # the dead letter stays dead


async def test_a_send_lost_with_its_worker_goes_again_with_the_same_key(pool: asyncpg.Pool, new_user: NewUser,
                                                                         outbox_settings: Settings) -> None:
    user = await new_user()
    delivery_id, key = await queue_delivery(pool, user)
    # A worker claims it (a 5 s lease) and dies before it records anything.
    (claimed,) = await pool.fetch(CLAIM_DELIVERIES, NOW, 10, 5.0, MAX_ATTEMPTS)
    assert (claimed["status"], claimed["attempts"]) == ("sending", 1)
    clock = Clock(NOW + timedelta(seconds=2))
    sender = Recorder()
    deliverer = OutboxDeliverer(pool, outbox_settings, clock, {"email": sender})
    assert await deliverer.deliver_due() == 0  # its lease holds
    clock.advance(timedelta(seconds=4))
    assert await deliverer.deliver_due() == 1
    (sent,) = sender.sent
    assert (sent.idempotency_key, sent.attempt, sent.email) == (key, 2, await _email(pool, user))
    row = await pool.fetchrow(DELIVERY, delivery_id)
    assert (row["status"], row["attempts"]) == ("delivered", 2)
    # The lost worker wakes and records its attempt: refused, the row is the newer attempt's.
    assert await pool.fetchval(RECORD_DELIVERED, delivery_id, 1, NOW) is None


async def test_a_last_attempt_that_never_reported_back_is_dead(pool: asyncpg.Pool, new_user: NewUser,
                                                               outbox_settings: Settings) -> None:
    user = await new_user()
    delivery_id, _ = await queue_delivery(pool, user)
    await pool.execute("UPDATE outbox SET status = 'sending', attempts = $2, lease_expires_at = $3 WHERE id = $1",
                       delivery_id, MAX_ATTEMPTS, NOW)
    sender = Recorder()
    await OutboxDeliverer(pool, outbox_settings, Clock(NOW + timedelta(seconds=1)), {"email": sender}).deliver_due()
    row = await pool.fetchrow(DELIVERY, delivery_id)
    assert row["status"] == "dead" and "never reported back" in row["last_error"] and sender.sent == []


async def test_email_is_skipped_with_the_reason_when_smtp_is_off(pool: asyncpg.Pool, new_user: NewUser,
                                                                 outbox_settings: Settings) -> None:
    user = await new_user()
    delivery_id, _ = await queue_delivery(pool, user)
    assert outbox_settings.smtp_host is None
    await OutboxDeliverer(pool, outbox_settings, Clock(NOW), {"email": EmailSender(outbox_settings)}).deliver_due()
    row = await pool.fetchrow(DELIVERY, delivery_id)
    assert row["status"] == "skipped" and "SMTP_HOST" in row["last_error"]


async def _email(pool: asyncpg.Pool, user: uuid.UUID) -> str:
    return str(await pool.fetchval("SELECT email FROM users WHERE id = $1", user))
