"""The worker side of the runs queue: claim, heartbeat, fenced events, finish, release.

Every write after the claim names the attempt it belongs to; when another
worker has claimed the run since (this one froze or lost its lease), the write
matches no row and `LeaseLost` is raised, so a late worker cannot overwrite the
new owner's work. A step's own fence goes into the checkpointer's statement
(`db.runs.fence`). The statements live in `db.runs.sql`.

`QueueWrites` sends the frequent writes of many runs (node events, finishes)
as one batch per event-loop iteration: one round trip and one commit for all
the runs that reached that point together.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import asyncpg

from db.batch import BatchStats, StatementBatcher
from db.conversations import message_columns
from db.runs.model import Event, FinalStatus, LeaseLost, Run, RunStatus, as_status, to_run
from db.runs.sql import (
    APPEND_FENCED_EVENTS,
    CLAIM_RUN,
    EXPIRE_LEASE,
    FINISH_RUN,
    HEARTBEAT_RUN,
    HEARTBEAT_RUNS,
    RELEASE_RUN,
    SELECT_RUNS_TABLE_EXISTS,
)

Connection = asyncpg.Connection | asyncpg.Pool
# json.dumps(data, default=str), without building a new encoder for every event (the fast path
# of json.dumps is only for calls without options).
event_json = json.JSONEncoder(default=str).encode


def event_columns(events: Sequence[Event]) -> tuple[list[str], list[str]]:
    return [name for name, _ in events], [event_json(data) for _, data in events]


async def claim_runs(con: Connection, worker_id: str, lease_seconds: float, max_attempts: int,
                     limit: int) -> list[tuple[Run, str | None]]:
    """Claim up to `limit` runs for `worker_id` in one statement (empty when nothing is claimable),
    each with the graph of its thread (`conversations.graph_id`).

    A claimed run is usually `running` (attempt bumped); it is `error`
    (max_attempts_exceeded) or `cancelled` when the claim ended it instead.
    """
    try:
        rows = await con.fetch(CLAIM_RUN, worker_id, lease_seconds, max_attempts, limit)
    except asyncpg.UniqueViolationError:
        # Two runs of one conversation raced for "running"; the index let one through.
        return []
    return [(to_run(row), row["graph_id"]) for row in rows]


async def claim_run(con: Connection, worker_id: str, lease_seconds: float, max_attempts: int) -> Run | None:
    """Claim the next run for `worker_id`, or None when nothing is claimable."""
    runs = await claim_runs(con, worker_id, lease_seconds, max_attempts, 1)
    return runs[0][0] if runs else None


class LeaseState(NamedTuple):
    cancel_requested: bool
    steps: int


async def heartbeat(con: Connection, run_id: uuid.UUID, attempt: int, lease_seconds: float) -> LeaseState:
    """Extend the lease and report the run's cancel flag and committed steps;
    LeaseLost when this attempt is no longer the owner."""
    row = await con.fetchrow(HEARTBEAT_RUN, run_id, attempt, lease_seconds)
    if row is None:
        raise LeaseLost(run_id, attempt)
    return LeaseState(bool(row["cancel_requested"]), int(row["steps"]))


async def heartbeat_runs(con: Connection, held: Sequence[tuple[uuid.UUID, int]],
                         lease_seconds: float) -> dict[uuid.UUID, LeaseState]:
    """Extend every lease in `held` ((run id, attempt) pairs) in one statement. The runs
    missing from the answer are no longer this process's (LeaseLost for each)."""
    if not held:
        return {}
    rows = await con.fetch(HEARTBEAT_RUNS, [run_id for run_id, _ in held], [attempt for _, attempt in held],
                           lease_seconds)
    return {row["id"]: LeaseState(bool(row["cancel_requested"]), int(row["steps"])) for row in rows}


async def runs_table_exists(con: Connection) -> bool:
    """Whether migration 005 is applied (workers refuse to start without it)."""
    return bool(await con.fetchval(SELECT_RUNS_TABLE_EXISTS))


async def append_events(con: Connection, run_id: uuid.UUID, attempt: int, events: Sequence[Event]) -> bool:
    """Log events that belong to no checkpoint (a node starting, a retry), fenced by the attempt.
    Returns whether a cancel was requested; LeaseLost when this attempt is not the owner."""
    row = await con.fetchrow(APPEND_FENCED_EVENTS, run_id, attempt, *event_columns(events))
    return _owned(row, run_id, attempt)


def _owned(row: asyncpg.Record | None, run_id: uuid.UUID, attempt: int) -> bool:
    if row is None or not row["owned"]:
        raise LeaseLost(run_id, attempt)
    return bool(row["cancel_requested"])


def _finish_args(run: Run, status: FinalStatus, output: Mapping[str, Any] | None, error: str | None,
                 events: Sequence[Event], messages: Sequence[Mapping[str, Any]]) -> list[Any]:
    return [run.id, run.attempt, status, output, error, *event_columns(events), *message_columns(messages)]


def _finished(row: asyncpg.Record | None, run: Run) -> RunStatus:
    stored = row["status"] if row is not None else None
    if stored is None:
        raise LeaseLost(run.id, run.attempt)
    return as_status(stored)


async def finish_run(con: Connection, run: Run, status: FinalStatus, *, output: Mapping[str, Any] | None = None,
                     error: str | None = None, events: Sequence[Event] = (),
                     messages: Sequence[Mapping[str, Any]] = ()) -> RunStatus:
    """End the run (`success`, `interrupted` or `error`) with its final events and, in the same
    statement, its conversation messages. Returns the stored status, which is `cancelled` when a
    cancel arrived after the last step (then nothing else is written). A conversation that
    expired or was deleted during the run gets no messages, and the run ends all the same."""
    row = await con.fetchrow(FINISH_RUN, *_finish_args(run, status, output, error, events, messages))
    return _finished(row, run)


async def release_run(con: Connection, run: Run) -> bool:
    """Give the run back to the queue (SIGTERM drain); False when it was no longer ours."""
    return await con.fetchval(RELEASE_RUN, run.id, run.attempt) is not None


async def expire_lease(con: Connection, run: Run, data: Mapping[str, Any]) -> bool:
    """End this attempt's lease now (its step took too long): the next claim retries the run,
    as for a worker that died. Logs a `retry` event with `data`; False when no longer ours."""
    return await con.fetchval(EXPIRE_LEASE, run.id, run.attempt, event_json(data)) is not None


class QueueWrites:
    """Node events and finishes of the runs a process holds, group-committed across runs."""

    def __init__(self, pool: asyncpg.Pool, stats: BatchStats | None = None) -> None:
        self.pool = pool
        self._events = StatementBatcher(pool, APPEND_FENCED_EVENTS, returns_row=True, stats=stats)
        self._finishes = StatementBatcher(pool, FINISH_RUN, returns_row=True, stats=stats)

    async def append_events(self, run: Run, events: Sequence[Event]) -> bool:
        """As `append_events`, batched with other runs' events."""
        row = await self._events.submit([run.id, run.attempt, *event_columns(events)], durable=True,
                                        key=str(run.id))
        return _owned(row, run.id, run.attempt)

    async def finish(self, run: Run, status: FinalStatus, *, output: Mapping[str, Any] | None = None,
                     error: str | None = None, events: Sequence[Event] = (),
                     messages: Sequence[Mapping[str, Any]] = ()) -> RunStatus:
        """As `finish_run`, batched with other runs' finishes."""
        row = await self._finishes.submit(_finish_args(run, status, output, error, events, messages), durable=True,
                                          key=str(run.id))
        return _finished(row, run)
