"""The worker side of the runs queue: claim, heartbeat, fence a step, finish, release.

Every write after the claim names the attempt it belongs to; when another
worker has claimed the run since (this one froze or lost its lease), the write
matches no row and `LeaseLost` is raised, so a late worker cannot overwrite the
new owner's work. The statements live in `db.runs.sql`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import asyncpg

from db.conversations import append_messages
from db.errors import NotFound
from db.runs.model import Event, FinalStatus, LeaseLost, Run, RunStatus, as_status, to_run
from db.runs.sql import (
    APPEND_FENCED_EVENTS,
    CHECK_FENCE,
    CLAIM_RUN,
    FENCE_STEP,
    FINISH_RUN,
    HEARTBEAT_RUN,
    RELEASE_RUN,
    SELECT_RUNS_TABLE_EXISTS,
)


def _event_columns(events: Sequence[Event]) -> tuple[list[str], list[str]]:
    return [name for name, _ in events], [json.dumps(data, default=str) for _, data in events]


async def claim_run(con: asyncpg.Connection | asyncpg.Pool, worker_id: str, lease_seconds: float,
                    max_attempts: int) -> Run | None:
    """Claim the next run for `worker_id`, or None when nothing is claimable.

    The returned run is usually `running` (attempt bumped); it is `error`
    (max_attempts_exceeded) or `cancelled` when the claim ended it instead.
    """
    try:
        row = await con.fetchrow(CLAIM_RUN, worker_id, lease_seconds, max_attempts)
    except asyncpg.UniqueViolationError:
        # Two runs of one conversation raced for "running"; the index let one through.
        return None
    return to_run(row) if row is not None else None


class LeaseState(NamedTuple):
    cancel_requested: bool
    steps: int


async def heartbeat(con: asyncpg.Connection | asyncpg.Pool, run_id: uuid.UUID, attempt: int,
                    lease_seconds: float) -> LeaseState:
    """Extend the lease and report the run's cancel flag and committed steps;
    LeaseLost when this attempt is no longer the owner."""
    row = await con.fetchrow(HEARTBEAT_RUN, run_id, attempt, lease_seconds)
    if row is None:
        raise LeaseLost(run_id, attempt)
    return LeaseState(bool(row["cancel_requested"]), int(row["steps"]))


async def runs_table_exists(con: asyncpg.Connection | asyncpg.Pool) -> bool:
    """Whether migration 005 is applied (workers refuse to start without it)."""
    return bool(await con.fetchval(SELECT_RUNS_TABLE_EXISTS))


async def fence_step(con: asyncpg.Connection, run_id: uuid.UUID, attempt: int, lease_seconds: float,
                     events: Sequence[Event]) -> bool:
    """Inside a checkpoint's transaction: prove ownership, count the step, log its events.
    Returns whether a cancel was requested; LeaseLost (rolling the step back) when not the owner."""
    names, data = _event_columns(events)
    row = await con.fetchrow(FENCE_STEP, run_id, attempt, lease_seconds, names, data)
    if row is None:
        raise LeaseLost(run_id, attempt)
    return bool(row["cancel_requested"])


async def check_fence(con: asyncpg.Connection, run_id: uuid.UUID, attempt: int) -> None:
    """Inside a transaction: LeaseLost (rolling it back) unless this attempt still owns the run."""
    if await con.fetchval(CHECK_FENCE, run_id, attempt) is None:
        raise LeaseLost(run_id, attempt)


async def append_events(con: asyncpg.Connection | asyncpg.Pool, run_id: uuid.UUID, attempt: int,
                        events: Sequence[Event]) -> None:
    """Log events that belong to no checkpoint (a node starting), fenced by the attempt."""
    names, data = _event_columns(events)
    if not await con.fetch(APPEND_FENCED_EVENTS, run_id, attempt, names, data):
        raise LeaseLost(run_id, attempt)


async def finish_run(pool: asyncpg.Pool, run: Run, status: FinalStatus, *,
                     output: Mapping[str, Any] | None = None, error: str | None = None,
                     events: Sequence[Event] = (), messages: Sequence[Mapping[str, Any]] = ()) -> RunStatus:
    """End the run (`success`, `interrupted` or `error`) with its final events and, in the same
    transaction, its conversation messages. Returns the stored status, which is `cancelled`
    when a cancel arrived after the last step (then nothing else is written)."""
    names, data = _event_columns(events)
    async with pool.acquire() as con, con.transaction():
        stored = await con.fetchval(FINISH_RUN, run.id, run.attempt, status, output, error, names, data)
        if stored is None:
            raise LeaseLost(run.id, run.attempt)
        if stored != "cancelled" and messages:
            try:
                async with con.transaction():  # a savepoint: the run ends even if the messages cannot go in
                    await append_messages(con, run.conversation_id, run.user_id, [dict(m) for m in messages])
            except NotFound:
                # The conversation expired (or was deleted) during the run: it is 404 to everyone now,
                # so its messages go nowhere; raising would leave the run `running` until its lease
                # expired, then fail the same way on every attempt.
                pass
    return as_status(stored)


async def release_run(con: asyncpg.Connection | asyncpg.Pool, run: Run) -> bool:
    """Give the run back to the queue (SIGTERM drain); False when it was no longer ours."""
    return await con.fetchval(RELEASE_RUN, run.id, run.attempt) is not None
