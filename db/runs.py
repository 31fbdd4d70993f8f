"""Durable runs: the `runs` queue and each run's `run_events` log (this module owns both tables).

A run is one pass of the graph for one user message, or one resume of an
interrupted pass. The API creates, cancels and resumes runs and replays their
events (`RunService`); workers claim, heartbeat, fence and finish them
(`db.run_queue`, which uses the statements below). PostgreSQL is the only
broker: ordering, idempotency and "one resume per interrupt" are unique
indexes, not Python checks.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from db.conversations import as_uuid, get_owned
from db.errors import Conflict, NotFound
from db.run_notify import RunEventNotifier

RUN_COLUMNS = (
    "id, seq, conversation_id, user_id, kind, resumes_run_id, status, input, output, error, "
    "idempotency_key, attempt, lost_attempts, steps, worker_id, lease_expires_at, cancel_requested, "
    "created_at, updated_at, started_at, finished_at"
)

# --- runs: creation (the 'created' event goes in with the row) ---------------

INSERT_RUN = """
WITH inserted AS (
    INSERT INTO runs (conversation_id, user_id, kind, resumes_run_id, input, idempotency_key, last_event_id)
    VALUES ($1, $2, $3, $4, $5, $6, 1)
    ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *
), created_event AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT id, 1, 'created', jsonb_build_object('kind', kind, 'input', input), 0 FROM inserted
)
SELECT id, seq, conversation_id, user_id, kind, resumes_run_id, status, input, output, error,
       idempotency_key, attempt, lost_attempts, steps, worker_id, lease_expires_at, cancel_requested,
       created_at, updated_at, started_at, finished_at
  FROM inserted
"""
SELECT_RUN_BY_IDEMPOTENCY_KEY = """
SELECT id, seq, conversation_id, user_id, kind, resumes_run_id, status, input, output, error,
       idempotency_key, attempt, lost_attempts, steps, worker_id, lease_expires_at, cancel_requested,
       created_at, updated_at, started_at, finished_at
  FROM runs WHERE user_id = $1 AND idempotency_key = $2
"""
# A run is the user's only while its conversation is: past `expires_at` it is 404 at once too
# (the statements below that the API uses all check it).
SELECT_OWNED_RUN = """
SELECT id, seq, conversation_id, user_id, kind, resumes_run_id, status, input, output, error,
       idempotency_key, attempt, lost_attempts, steps, worker_id, lease_expires_at, cancel_requested,
       created_at, updated_at, started_at, finished_at
  FROM runs
 WHERE id = $1 AND user_id = $2
   AND EXISTS (SELECT 1 FROM conversations c
                WHERE c.id = runs.conversation_id AND c.user_id = runs.user_id AND c.expires_at > now())
"""
SELECT_OWNED_RUN_FOR_UPDATE = SELECT_OWNED_RUN + " FOR UPDATE"
SELECT_LATER_RUN_EXISTS = "SELECT EXISTS (SELECT 1 FROM runs WHERE conversation_id = $1 AND seq > $2)"
SELECT_RUN_STATUS = """
SELECT status FROM runs
 WHERE id = $1 AND user_id = $2
   AND EXISTS (SELECT 1 FROM conversations c
                WHERE c.id = runs.conversation_id AND c.user_id = runs.user_id AND c.expires_at > now())
"""
SELECT_RUNS_TABLE_EXISTS = "SELECT to_regclass('runs') IS NOT NULL"
COUNT_RUNS_BY_STATUS = "SELECT status, count(*) AS n FROM runs GROUP BY status"

# --- runs: cancel -------------------------------------------------------------

# A pending (or interrupted) run ends at once; a running one is flagged and its
# worker stops at the next step boundary. Terminal runs are left as they are.
CANCEL_RUN = """
WITH target AS (
    SELECT id, status FROM runs
     WHERE id = $1 AND user_id = $2
       AND EXISTS (SELECT 1 FROM conversations c
                    WHERE c.id = runs.conversation_id AND c.user_id = runs.user_id AND c.expires_at > now())
       FOR UPDATE
), updated AS (
    UPDATE runs r SET
        status = CASE WHEN t.status IN ('pending', 'interrupted') THEN 'cancelled' ELSE r.status END,
        cancel_requested = CASE WHEN t.status = 'running' THEN true ELSE r.cancel_requested END,
        finished_at = CASE WHEN t.status IN ('pending', 'interrupted') THEN now() ELSE r.finished_at END,
        last_event_id = r.last_event_id + 1,
        updated_at = now()
      FROM target t
     WHERE r.id = t.id AND t.status IN ('pending', 'interrupted', 'running')
    RETURNING r.id, r.status, r.last_event_id, r.attempt
), cancel_event AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT id, last_event_id,
           CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'cancel_requested' END,
           '{}'::jsonb, attempt
      FROM updated
)
SELECT id FROM target
"""

# --- worker side: claim, heartbeat, step fence, finish, release ----------------

# One statement: pick the oldest claimable run (an expired lease first, else the
# oldest pending run of a conversation with nothing running or queued before it),
# lock it with SKIP LOCKED so concurrent claimers never take the same row, bump
# the attempt (the fence), and log the claim. An expired run that already lost
# $3 leases, or was cancelled meanwhile, is ended instead of being run again.
CLAIM_RUN = """
WITH expired AS (
    SELECT id FROM runs
     WHERE status = 'running' AND lease_expires_at < now()
     ORDER BY lease_expires_at LIMIT 1 FOR UPDATE SKIP LOCKED
), next_pending AS (
    SELECT r.id FROM runs r
     WHERE r.status = 'pending'
       AND NOT EXISTS (SELECT 1 FROM expired)
       AND NOT EXISTS (SELECT 1 FROM runs o
                        WHERE o.conversation_id = r.conversation_id AND o.id <> r.id
                          AND (o.status = 'running' OR (o.status = 'pending' AND o.seq < r.seq)))
     ORDER BY r.seq LIMIT 1 FOR UPDATE OF r SKIP LOCKED
), candidate AS (
    SELECT id FROM expired UNION ALL SELECT id FROM next_pending
), claimed AS (
    UPDATE runs r SET
        status = CASE WHEN r.cancel_requested THEN 'cancelled'
                      WHEN r.status = 'running' AND r.lost_attempts + 1 >= $3 THEN 'error'
                      ELSE 'running' END,
        error = CASE WHEN NOT r.cancel_requested AND r.status = 'running' AND r.lost_attempts + 1 >= $3
                     THEN 'max_attempts_exceeded' ELSE r.error END,
        lost_attempts = r.lost_attempts + (r.status = 'running')::int,
        attempt = CASE WHEN r.cancel_requested OR (r.status = 'running' AND r.lost_attempts + 1 >= $3)
                       THEN r.attempt ELSE r.attempt + 1 END,
        worker_id = $1,
        lease_expires_at = now() + make_interval(secs => $2),
        started_at = coalesce(r.started_at, now()),
        finished_at = CASE WHEN r.cancel_requested OR (r.status = 'running' AND r.lost_attempts + 1 >= $3)
                           THEN now() END,
        last_event_id = r.last_event_id + 1,
        updated_at = now()
      FROM candidate c
     WHERE r.id = c.id
    RETURNING r.*
), claim_event AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT id, last_event_id,
           CASE status WHEN 'running' THEN 'started' WHEN 'error' THEN 'error' ELSE 'cancelled' END,
           CASE status WHEN 'running' THEN jsonb_build_object('worker_id', worker_id, 'recovered', steps > 0,
                                                              'lost_attempts', lost_attempts)
                       WHEN 'error' THEN jsonb_build_object('error', error, 'lost_attempts', lost_attempts)
                       ELSE '{}'::jsonb END,
           attempt
      FROM claimed
)
SELECT id, seq, conversation_id, user_id, kind, resumes_run_id, status, input, output, error,
       idempotency_key, attempt, lost_attempts, steps, worker_id, lease_expires_at, cancel_requested,
       created_at, updated_at, started_at, finished_at
  FROM claimed
"""

HEARTBEAT_RUN = """
UPDATE runs SET lease_expires_at = now() + make_interval(secs => $3)
 WHERE id = $1 AND attempt = $2 AND status = 'running'
RETURNING cancel_requested, steps
"""

# Inside the checkpoint's transaction: fail unless this attempt still owns the run,
# count the step, extend the lease, and append the step's events ($4 names, $5 JSON texts).
FENCE_STEP = """
WITH fenced AS (
    UPDATE runs SET steps = steps + 1,
                    lease_expires_at = now() + make_interval(secs => $3),
                    last_event_id = last_event_id + cardinality($4::text[]),
                    updated_at = now()
     WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING last_event_id, cancel_requested
), step_events AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT $1, f.last_event_id - cardinality($4::text[]) + e.ord, e.event, e.data::jsonb, $2
      FROM fenced f, unnest($4::text[], $5::text[]) WITH ORDINALITY AS e (event, data, ord)
)
SELECT cancel_requested FROM fenced
"""

# Inside the transaction of a task's pending writes: this attempt still owns the run.
# FOR SHARE holds off a new claim (an UPDATE) until the writes commit.
CHECK_FENCE = "SELECT true FROM runs WHERE id = $1 AND attempt = $2 AND status = 'running' FOR SHARE"

# Events outside a checkpoint (node started, released), fenced by the attempt.
APPEND_FENCED_EVENTS = """
WITH fenced AS (
    UPDATE runs SET last_event_id = last_event_id + cardinality($3::text[]), updated_at = now()
     WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING last_event_id
)
INSERT INTO run_events (run_id, id, event, data, attempt)
SELECT $1, f.last_event_id - cardinality($3::text[]) + e.ord, e.event, e.data::jsonb, $2
  FROM fenced f, unnest($3::text[], $4::text[]) WITH ORDINALITY AS e (event, data, ord)
RETURNING id
"""

# The end of a run ($3 'success' | 'interrupted' | 'error'), fenced by the attempt.
# A cancel that arrived after the last step wins: the run ends cancelled, without output.
FINISH_RUN = """
WITH finished AS (
    UPDATE runs SET
        status = CASE WHEN cancel_requested THEN 'cancelled' ELSE $3 END,
        output = CASE WHEN cancel_requested THEN NULL ELSE $4::jsonb END,
        error = CASE WHEN cancel_requested THEN NULL ELSE $5 END,
        worker_id = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now(),
        last_event_id = last_event_id + CASE WHEN cancel_requested THEN 1 ELSE cardinality($6::text[]) END
     WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING id, status, last_event_id
), final_events AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT $1, f.last_event_id - cardinality($6::text[]) + e.ord, e.event, e.data::jsonb, $2
      FROM finished f, unnest($6::text[], $7::text[]) WITH ORDINALITY AS e (event, data, ord)
     WHERE f.status <> 'cancelled'
    UNION ALL
    SELECT $1, f.last_event_id, 'cancelled', '{}'::jsonb, $2 FROM finished f WHERE f.status = 'cancelled'
)
SELECT status FROM finished
"""

# SIGTERM drain: the step in flight has committed; hand the run back to the queue.
RELEASE_RUN = """
WITH released AS (
    UPDATE runs SET status = 'pending', worker_id = NULL, lease_expires_at = NULL,
                    last_event_id = last_event_id + 1, updated_at = now()
     WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING id, last_event_id
)
INSERT INTO run_events (run_id, id, event, data, attempt)
SELECT id, last_event_id, 'released', '{}'::jsonb, $2 FROM released
RETURNING run_id
"""

# --- run_events ---------------------------------------------------------------

SELECT_EVENTS_AFTER = """
SELECT e.run_id, e.id, e.event, e.data, e.attempt, e.created_at
  FROM run_events e JOIN runs r ON r.id = e.run_id
  JOIN conversations c ON c.id = r.conversation_id AND c.user_id = r.user_id AND c.expires_at > now()
 WHERE e.run_id = $1 AND r.user_id = $2 AND e.id > $3
 ORDER BY e.id
 LIMIT $4
"""

RUN_STATUSES = ("pending", "running", "interrupted", "success", "error", "cancelled")
# Statuses after which a run writes nothing more (interrupted waits for a new, separate run).
SETTLED_STATUSES = frozenset({"interrupted", "success", "error", "cancelled"})
MAX_INPUT_CHARS = 32_000
MAX_EVENTS_PAGE = 1000
STREAM_POLL_SECONDS = 1.0


class LeaseLost(Conflict):
    """This worker's attempt no longer owns the run (its lease expired and another claimed it)."""

    def __init__(self, run_id: object, attempt: int) -> None:
        super().__init__(f"run {run_id} attempt {attempt} no longer holds the lease", run_id)
        self.attempt = attempt


@dataclass(frozen=True)
class Run:
    id: uuid.UUID
    seq: int
    conversation_id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    resumes_run_id: uuid.UUID | None
    status: str
    input: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None
    idempotency_key: str | None
    attempt: int
    lost_attempts: int
    steps: int
    worker_id: str | None
    lease_expires_at: datetime | None
    cancel_requested: bool
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def settled(self) -> bool:
        """True once the run writes nothing more (finished, or waiting for the person)."""
        return self.status in SETTLED_STATUSES


@dataclass(frozen=True)
class RunEvent:
    id: int
    run_id: uuid.UUID
    event: str
    data: dict[str, Any]
    attempt: int
    created_at: datetime


def to_run(row: asyncpg.Record | Mapping[str, Any] | None) -> Run:
    assert row is not None
    return Run(**{name: row[name] for name in Run.__dataclass_fields__})


def to_event(row: asyncpg.Record | Mapping[str, Any]) -> RunEvent:
    return RunEvent(id=row["id"], run_id=row["run_id"], event=row["event"], data=row["data"],
                    attempt=row["attempt"], created_at=row["created_at"])


def message_input(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """Validate a run's input: a non-empty message (a string or `{"message": str}`)."""
    message = value.get("message") if isinstance(value, Mapping) else value
    if not isinstance(message, str) or not message.strip():
        raise ValueError("input must be a non-empty message")
    if len(message) > MAX_INPUT_CHARS:
        raise ValueError(f"message is longer than {MAX_INPUT_CHARS} characters")
    return {"message": message}


def resume_input(value: Any) -> dict[str, Any]:
    """Validate the answer to an interrupt: any JSON value, not empty, of bounded size."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("the answer must not be empty")
    try:
        encoded = json.dumps(value)
    except (TypeError, ValueError):
        raise ValueError("the answer must be JSON") from None
    if len(encoded) > MAX_INPUT_CHARS:
        raise ValueError(f"the answer is longer than {MAX_INPUT_CHARS} characters")
    return {"resume": value}


class RunService:
    """Runs for the API: every method takes the acting user's id, and another user's run is NotFound."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.notifier = RunEventNotifier(pool)

    async def counts_by_status(self) -> dict[str, int]:
        """Totals over every user's runs, for the admin /stats view."""
        return {row["status"]: row["n"] for row in await self.pool.fetch(COUNT_RUNS_BY_STATUS)}

    async def create(self, user_id: object, conversation_id: object, input: str | Mapping[str, Any],
                     idempotency_key: str | None = None) -> Run:
        """Queue a run for one user message; a key this user already used returns that run."""
        uid, cid = as_uuid(user_id, "user"), as_uuid(conversation_id, "conversation")
        payload = message_input(input)
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            raise ValueError("idempotency key must be 1 to 255 characters")
        try:
            async with self.pool.acquire() as con, con.transaction():
                await get_owned(con, cid, uid)
                row = await con.fetchrow(INSERT_RUN, cid, uid, "message", None, payload, idempotency_key)
                if row is None:  # the key was used before: that run, if it is the same request
                    row = await con.fetchrow(SELECT_RUN_BY_IDEMPOTENCY_KEY, uid, idempotency_key)
                    assert row is not None
                    if row["conversation_id"] != cid or row["input"] != payload:
                        raise Conflict("idempotency key already used for a different request", idempotency_key)
        except asyncpg.ForeignKeyViolationError:
            # The conversation was deleted between get_owned and the insert.
            raise NotFound("conversation", conversation_id) from None
        return to_run(row)

    async def get(self, run_id: object, user_id: object) -> Run:
        row = await self.pool.fetchrow(SELECT_OWNED_RUN, as_uuid(run_id, "run"), as_uuid(user_id, "user"))
        if row is None:
            raise NotFound("run", run_id)
        return to_run(row)

    async def cancel(self, run_id: object, user_id: object) -> Run:
        """Cancel a pending or interrupted run now, a running one at its next step boundary."""
        rid, uid = as_uuid(run_id, "run"), as_uuid(user_id, "user")
        async with self.pool.acquire() as con, con.transaction():
            if await con.fetchrow(CANCEL_RUN, rid, uid) is None:
                raise NotFound("run", run_id)
            row = await con.fetchrow(SELECT_OWNED_RUN, rid, uid)
        return to_run(row)

    async def resume(self, run_id: object, user_id: object, value: Any) -> Run:
        """Queue the continuation of an interrupted run with the person's answer.

        Exactly one resume per interrupt: the row lock serialises concurrent
        resumes and the unique `resumes_run_id` backs it, so the loser gets
        Conflict, as does a resume after a newer message superseded the question.
        """
        rid, uid = as_uuid(run_id, "run"), as_uuid(user_id, "user")
        payload = resume_input(value)
        try:
            async with self.pool.acquire() as con, con.transaction():
                run = await con.fetchrow(SELECT_OWNED_RUN_FOR_UPDATE, rid, uid)
                if run is None:
                    raise NotFound("run", run_id)
                if run["status"] != "interrupted":
                    raise Conflict(f"run {rid} is {run['status']}, not waiting for an answer", rid)
                if await con.fetchval(SELECT_LATER_RUN_EXISTS, run["conversation_id"], run["seq"]):
                    raise Conflict(f"run {rid} was already resumed or superseded by a newer message", rid)
                await get_owned(con, run["conversation_id"], uid)
                row = await con.fetchrow(INSERT_RUN, run["conversation_id"], uid, "resume", rid, payload, None)
        except asyncpg.UniqueViolationError:
            raise Conflict(f"run {rid} was already resumed", rid) from None
        except asyncpg.ForeignKeyViolationError:
            raise NotFound("run", run_id) from None  # its conversation was deleted meanwhile
        return to_run(row)

    async def list_events(self, run_id: object, user_id: object, after_id: int = 0,
                          limit: int = 100) -> list[RunEvent]:
        """Events with id > after_id in order (NotFound for a run that is not the user's)."""
        rid, uid = as_uuid(run_id, "run"), as_uuid(user_id, "user")
        if after_id < 0:
            raise ValueError("after_id must be >= 0")
        limit = max(1, min(limit, MAX_EVENTS_PAGE))
        rows = await self.pool.fetch(SELECT_EVENTS_AFTER, rid, uid, after_id, limit)
        if not rows and await self.pool.fetchval(SELECT_RUN_STATUS, rid, uid) is None:
            raise NotFound("run", run_id)
        return [to_event(row) for row in rows]

    async def stream_events(self, run_id: object, user_id: object, after_id: int = 0) -> AsyncIterator[RunEvent]:
        """Yield events after `after_id` as they are written; end once the run is settled and
        everything it wrote was yielded. Woken by NOTIFY, polling when that is unavailable."""
        rid, uid = as_uuid(run_id, "run"), as_uuid(user_id, "user")
        last = after_id
        async with self.notifier.subscribe(rid) as wake:
            while True:
                wake.clear()
                # Status first: the final events commit with the final status, so a settled
                # status read before the events guarantees the events read next are complete.
                status = await self.pool.fetchval(SELECT_RUN_STATUS, rid, uid)
                if status is None:
                    raise NotFound("run", run_id)
                while True:
                    rows = await self.pool.fetch(SELECT_EVENTS_AFTER, rid, uid, last, MAX_EVENTS_PAGE)
                    for row in rows:
                        event = to_event(row)
                        last = event.id
                        yield event
                    if len(rows) < MAX_EVENTS_PAGE:
                        break
                if status in SETTLED_STATUSES:
                    return
                await _wait(wake, STREAM_POLL_SECONDS)

    # `timeout` is part of the API contract, and unlike asyncio.timeout it returns the run, not raises.
    async def wait(self, run_id: object, user_id: object, timeout: float) -> Run:  # noqa: ASYNC109
        """The run once settled, or as it is when `timeout` seconds have passed."""
        rid = as_uuid(run_id, "run")
        deadline = time.monotonic() + timeout
        async with self.notifier.subscribe(rid) as wake:
            while True:
                wake.clear()
                run = await self.get(rid, user_id)
                remaining = deadline - time.monotonic()
                if run.settled or remaining <= 0:
                    return run
                await _wait(wake, min(remaining, STREAM_POLL_SECONDS))


async def _wait(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        pass
