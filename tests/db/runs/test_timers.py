"""Durable timers against the real database: fired once by racing firers, late after downtime but
not early, never when cancelled, and their runs wait behind a run of their thread."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.clock import Clock
from db.runs.queue import claim_run, finish_run
from db.runs.timers import TimerLoop, fire_due
from tests.utils.factories import NewConversation, NewUser

NOW = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)
INSERT_TIMER = """
INSERT INTO timers (thread_id, user_id, key, purpose, due_at, payload) VALUES ($1, $2, $3, 'reminder', $4, $5)
RETURNING id
"""
TIMER_RUNS = "SELECT id, kind, status, input, idempotency_key FROM runs WHERE conversation_id = ANY($1::uuid[])"


@pytest.fixture(autouse=True)
async def quiet(pool: asyncpg.Pool) -> None:
    await pool.execute("DELETE FROM runs")
    await pool.execute("DELETE FROM timers")


async def arm(pool: asyncpg.Pool, thread: uuid.UUID, user: uuid.UUID, key: str, due: datetime) -> uuid.UUID:
    return await pool.fetchval(INSERT_TIMER, thread, user, key, due, {"days": 3})


async def test_racing_firers_fire_each_timer_once(pool: asyncpg.Pool, new_user: NewUser,
                                                  new_conversation: NewConversation) -> None:
    user = await new_user()
    threads = [await new_conversation(user) for _ in range(40)]
    timers = {await arm(pool, thread, user, "remind", NOW - timedelta(seconds=i)): thread
              for i, thread in enumerate(threads)}
    # Eight firers, small batches, at once: SKIP LOCKED hands every due row to exactly one of them.
    fired = [f for batch in await asyncio.gather(*(fire_due(pool, NOW, limit=3) for _ in range(8)))
             for f in batch]
    while more := await fire_due(pool, NOW, limit=3):
        fired += more
    assert sorted(f.timer_id for f in fired) == sorted(timers)
    runs = await pool.fetch(TIMER_RUNS, threads)
    assert len(runs) == len(timers)
    by_key = {r["idempotency_key"]: r for r in runs}
    for item in fired:
        run = by_key[f"timer:{item.timer_id}"]
        assert (run["id"], run["kind"], run["status"]) == (item.run_id, "timer", "pending")
        signal = run["input"]["signal"]
        assert (signal["type"], signal["timer_id"], signal["key"]) == ("timer", str(item.timer_id), "remind")
        assert datetime.fromisoformat(signal["at"]) == NOW and signal["payload"] == {"days": 3}
    assert await fire_due(pool, NOW + timedelta(days=365)) == []


async def test_late_but_never_early_and_never_when_cancelled(pool: asyncpg.Pool, new_user: NewUser,
                                                             new_conversation: NewConversation) -> None:
    user = await new_user()
    thread = await new_conversation(user)
    soon = await arm(pool, thread, user, "soon", NOW + timedelta(days=2))
    dropped = await arm(pool, thread, user, "dropped", NOW + timedelta(days=1))
    await pool.execute("UPDATE timers SET status = 'cancelled' WHERE id = $1", dropped)
    assert await fire_due(pool, NOW + timedelta(days=2) - timedelta(microseconds=1)) == []
    clock = Clock(NOW)
    loop = TimerLoop(pool, clock, poll_seconds=0.05)
    # Downtime: nothing ran for a week after the timer came due; the first loop to start fires it.
    clock.advance(timedelta(days=9))
    loop.start()
    try:
        for _ in range(100):
            if loop.fired:
                break
            await asyncio.sleep(0.05)
    finally:
        await loop.stop()
    rows = await pool.fetch("SELECT id, status, run_id, fired_at FROM timers WHERE thread_id = $1 ORDER BY key",
                            thread)
    assert [(r["id"], r["status"]) for r in rows] == [(dropped, "cancelled"), (soon, "fired")]
    assert rows[1]["fired_at"] >= NOW + timedelta(days=9) and loop.fired == 1
    assert len(await pool.fetch(TIMER_RUNS, [thread])) == 1


async def test_a_timer_waits_its_turn_behind_a_running_run(pool: asyncpg.Pool, new_user: NewUser,
                                                           new_conversation: NewConversation) -> None:
    user = await new_user()
    thread = await new_conversation(user)
    first = await pool.fetchrow("INSERT INTO runs (conversation_id, user_id, kind, input) "
                                "VALUES ($1, $2, 'event', '{}') RETURNING id", thread, user)
    running = await claim_run(pool, "w1", 30, 3)
    assert running is not None and running.id == first["id"]
    await arm(pool, thread, user, "remind", NOW)
    (fired,) = await fire_due(pool, NOW)
    assert await claim_run(pool, "w2", 30, 3) is None  # the case is running: the timer's run waits
    await finish_run(pool, running, "success", output={})
    after = await claim_run(pool, "w2", 30, 3)
    assert after is not None and after.id == fired.run_id and after.kind == "timer"
