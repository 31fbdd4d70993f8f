"""Durable timers (this module owns `timers`): rows in PostgreSQL, fired once, by any worker.

A workflow step arms a timer by naming it in its projection (the case graph's `timers`): a
trigger (migration `cases`) inserts it in the step's own transaction, once per (thread, key),
and cancels the pending timers the step no longer wants. Firing is one statement: the due
rows are locked with SKIP LOCKED, marked fired and turned into a queued run of kind `timer`
on their thread, whose idempotency key (`timer:<id>`) makes a second run for one timer
impossible. The run then waits its turn behind any run of that thread, like a message does,
and executes on any executor. A crash before the commit leaves the timer pending (the next
worker fires it); after it, the run is durable. Timers due while no worker ran fire when one
starts: late, never lost, never twice.

`TimerLoop` fires due timers in a loop beside the run executors (API lifespan, `navigator
worker`). "Now" is the service clock's (`db.clock.Clock`), passed as a parameter, so tests
move days forward without waiting.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from db.clock import Clock
from db.connection import Connection
from db.runs.polling import PollingLoop

log = logging.getLogger(__name__)

TIMER_COLUMNS = "id, thread_id, key, purpose, due_at, payload, status, fired_at, run_id, created_at"

# Up to $2 due timers ($1: the clock's now): fired, and a run queued for each, in one statement.
# Run ids are drawn in the UPDATE so the timer names its run; the run's 'created' event goes in
# with it (the trigger runs_created_event writes it, as for every run). The INSERT into runs
# wakes idle executors.
FIRE_DUE_TIMERS = """
WITH due AS (
    SELECT t.id FROM timers t
     WHERE t.status = 'pending' AND t.due_at <= $1
     ORDER BY t.due_at, t.id
     LIMIT $2
       FOR UPDATE SKIP LOCKED
), fired AS (
    UPDATE timers t SET status = 'fired', fired_at = $1, run_id = gen_random_uuid(), updated_at = now()
      FROM due WHERE t.id = due.id
    RETURNING t.id, t.thread_id, t.user_id, t.key, t.purpose, t.due_at, t.payload, t.run_id
), queued AS (
    INSERT INTO runs (id, conversation_id, user_id, kind, input, idempotency_key, last_event_id)
    SELECT f.run_id, f.thread_id, f.user_id, 'timer',
           jsonb_build_object('signal', jsonb_build_object(
               'type', 'timer', 'at', $1::timestamptz, 'timer_id', f.id, 'key', f.key, 'purpose', f.purpose,
               'due_at', f.due_at, 'payload', f.payload)),
           'timer:' || f.id::text, 1
      FROM fired f
    ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
)
SELECT f.id, f.thread_id, f.key, f.run_id, EXISTS (SELECT 1 FROM queued q WHERE q.id = f.run_id) AS queued
  FROM fired f
"""
SELECT_NEXT_DUE = "SELECT min(due_at) FROM timers WHERE status = 'pending'"
_SELECT_TIMER_COLUMNS = "\nSELECT " + TIMER_COLUMNS
SELECT_THREAD_TIMERS = _SELECT_TIMER_COLUMNS + """
  FROM timers WHERE thread_id = $1 AND user_id = $2 ORDER BY due_at, key
"""
# Before a thread is deleted: its timers locked first, in the order a firing takes them
# (timers, then the thread's conversation row), so the two never deadlock.
LOCK_THREAD_TIMERS = "SELECT id FROM timers WHERE thread_id = $1 ORDER BY due_at, id FOR UPDATE"
COUNT_TIMERS_BY_STATUS = "SELECT status, count(*) AS n FROM timers GROUP BY status"
# The account export and import (db/lifecycle): the timers of the user's threads ($3 on import).
# A pending one fires when due, here as where it was exported; fired ones stay fired.
EXPORT_TIMERS = """
SELECT id, thread_id, key, purpose, due_at, payload, status, fired_at, run_id, created_at, updated_at
  FROM timers WHERE user_id = $1 ORDER BY thread_id, key
"""
IMPORT_TIMERS = """
INSERT INTO timers (user_id, id, thread_id, key, purpose, due_at, payload, status, fired_at, run_id, created_at,
                    updated_at)
SELECT $1, r.id, r.thread_id, r.key, r.purpose, r.due_at, r.payload, r.status, r.fired_at, r.run_id, r.created_at,
       r.updated_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id uuid, thread_id uuid, key text, purpose text, due_at timestamptz,
                                     payload jsonb, status text, fired_at timestamptz, run_id uuid,
                                     created_at timestamptz, updated_at timestamptz)
 WHERE r.thread_id = ANY($3::uuid[])
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""

FIRE_BATCH = 100


@dataclass(frozen=True)
class Timer:
    id: uuid.UUID
    thread_id: uuid.UUID
    key: str
    purpose: str
    due_at: datetime
    payload: dict[str, Any]
    status: str
    fired_at: datetime | None
    run_id: uuid.UUID | None
    created_at: datetime


def to_timer(row: asyncpg.Record) -> Timer:
    return Timer(**{name: row[name] for name in Timer.__dataclass_fields__})


@dataclass(frozen=True)
class Fired:
    timer_id: uuid.UUID
    thread_id: uuid.UUID
    key: str
    run_id: uuid.UUID
    queued: bool


async def fire_due(con: asyncpg.Connection | asyncpg.Pool, now: datetime, limit: int = FIRE_BATCH) -> list[Fired]:
    """Fire up to `limit` timers due at `now`; each queues exactly one run on its thread."""
    rows = await con.fetch(FIRE_DUE_TIMERS, now, limit)
    return [Fired(r["id"], r["thread_id"], r["key"], r["run_id"], r["queued"]) for r in rows]


async def thread_timers(con: Connection | asyncpg.Pool, thread_id: uuid.UUID,
                        user_id: uuid.UUID) -> list[Timer]:
    return [to_timer(row) for row in await con.fetch(SELECT_THREAD_TIMERS, thread_id, user_id)]


async def lock_thread_timers(con: Connection, thread_id: uuid.UUID) -> None:
    await con.execute(LOCK_THREAD_TIMERS, thread_id)


async def counts_by_status(con: asyncpg.Connection | asyncpg.Pool) -> dict[str, int]:
    return {row["status"]: row["n"] for row in await con.fetch(COUNT_TIMERS_BY_STATUS)}


class TimerLoop(PollingLoop):
    """Fires due timers every `poll_seconds` (sooner when the next one is due sooner)."""

    name = "timers"

    def __init__(self, pool: asyncpg.Pool, clock: Clock, *, poll_seconds: float = 1.0,
                 batch: int = FIRE_BATCH) -> None:
        super().__init__(poll_seconds)
        self.pool = pool
        self.clock = clock
        self.batch = batch
        self.fired = 0

    async def fire_now(self) -> int:
        """Fire everything due now, in batches; returns how many fired."""
        total = 0
        while True:
            fired = await fire_due(self.pool, self.clock.now(), self.batch)
            total += len(fired)
            for item in fired:
                log.debug("timer %s (%s) fired: run %s", item.timer_id, item.key, item.run_id)
            if len(fired) < self.batch:
                self.fired += total
                return total

    async def round(self) -> float:
        await self.fire_now()
        next_due = await self.pool.fetchval(SELECT_NEXT_DUE)
        if next_due is None:
            return self.poll_seconds
        # A little past the due time, so a round never wakes just before it.
        return min(self.poll_seconds, max((next_due - self.clock.now()).total_seconds(), 0.0) + 0.001)
