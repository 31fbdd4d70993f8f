"""What the Agent Protocol (/lg) keeps beside conversations and runs.

A thread is a conversation and a run is a run; this module owns only
`run_protocol_options` (the assistant, metadata, stream modes and multitask
strategy a client gave a run) and reads conversations and runs to answer
thread searches with a status: `busy` while a run is pending or running, else
the outcome of the newest run (`interrupted`, `error`, or `idle`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from db.connection import Connection, as_uuid

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
ThreadSort = Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"]
SortOrder = Literal["asc", "desc"]

INSERT_RUN_OPTIONS = """
INSERT INTO run_protocol_options (run_id, assistant_id, metadata, stream_mode, multitask_strategy)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (run_id) DO NOTHING
"""
SELECT_RUN_OPTIONS = """
SELECT run_id, assistant_id, metadata, stream_mode, multitask_strategy
  FROM run_protocol_options WHERE run_id = ANY($1::uuid[])
"""
# The account export and import (db/lifecycle): options of the user's runs only.
EXPORT_RUN_OPTIONS = """
SELECT o.run_id, o.assistant_id, o.metadata, o.stream_mode, o.multitask_strategy
  FROM run_protocol_options o JOIN runs r ON r.id = o.run_id
 WHERE r.user_id = $1 ORDER BY r.created_at, r.seq
"""
IMPORT_RUN_OPTIONS = """
INSERT INTO run_protocol_options (run_id, assistant_id, metadata, stream_mode, multitask_strategy)
SELECT r.run_id, r.assistant_id, r.metadata, r.stream_mode, r.multitask_strategy
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(run_id uuid, assistant_id uuid, metadata jsonb, stream_mode text[],
                                     multitask_strategy text)
 WHERE EXISTS (SELECT 1 FROM runs x WHERE x.id = r.run_id AND x.user_id = $1)
 ORDER BY e.ord
ON CONFLICT (run_id) DO NOTHING
"""

_THREAD_STATUS = """
CASE WHEN EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id AND r.status IN ('pending', 'running'))
     THEN 'busy'
     ELSE coalesce((SELECT CASE r.status WHEN 'interrupted' THEN 'interrupted' WHEN 'error' THEN 'error'
                                         ELSE 'idle' END
                      FROM runs r WHERE r.conversation_id = c.id ORDER BY r.seq DESC LIMIT 1), 'idle')
END"""
_ONE_THREAD = """ AS status
  FROM conversations c WHERE c.id = $1 AND c.user_id = $2 AND c.expires_at > now()
"""
# The statements below are composed from this module's constants only (never from input).
SELECT_THREAD_STATUS = "SELECT " + _THREAD_STATUS.strip() + _ONE_THREAD  # noqa: S608
# $2 metadata to contain (or NULL), $3 ids (or NULL), $4 status (or NULL).
_THREAD_COLUMNS = """
WITH threads AS (
    SELECT c.id, c.user_id, c.title, c.metadata, c.created_at, c.updated_at, c.expires_at, c.graph_id,"""
_THREADS = _THREAD_COLUMNS + _THREAD_STATUS + """ AS status
      FROM conversations c
     WHERE c.user_id = $1 AND c.expires_at > now()
       AND ($2::jsonb IS NULL OR c.metadata @> $2::jsonb)
       AND ($3::uuid[] IS NULL OR c.id = ANY($3::uuid[]))
)"""
_FILTERED = "\nSELECT * FROM threads WHERE ($4::text IS NULL OR status = $4)"
COUNT_THREADS = _THREADS + "\nSELECT count(*) FROM threads WHERE ($4::text IS NULL OR status = $4)\n"

# Sorting: whole statements per (column, order), composed from fixed text, never from input.
_SORT_COLUMNS: dict[str, str] = {"thread_id": "id", "status": "status", "created_at": "created_at",
                                 "updated_at": "updated_at", "state_updated_at": "updated_at"}
SEARCH_THREADS: dict[tuple[str, str], str] = {
    (sort, order): _THREADS + _FILTERED + "\n ORDER BY " + column + " " + order.upper() + ", id " + order.upper()
                   + "\n LIMIT $5 OFFSET $6\n"
    for sort, column in _SORT_COLUMNS.items() for order in ("asc", "desc")
}


@dataclass(frozen=True)
class RunOptions:
    run_id: uuid.UUID
    assistant_id: uuid.UUID
    metadata: dict[str, Any]
    stream_mode: list[str]
    multitask_strategy: str


@dataclass(frozen=True)
class ThreadRow:
    """A conversation as a thread: the conversation's columns and the thread status."""

    id: uuid.UUID
    title: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    status: ThreadStatus
    graph_id: str = "navigator"


async def insert_run_options(con: Connection, options: RunOptions) -> None:
    """In the transaction that created the run."""
    await con.execute(INSERT_RUN_OPTIONS, options.run_id, options.assistant_id, options.metadata,
                      options.stream_mode, options.multitask_strategy)


async def thread_status(con: Connection | asyncpg.Pool, conversation_id: object, user_id: object) -> ThreadStatus:
    """The thread's status; `idle` for a conversation that is not the user's (callers check ownership)."""
    status = await con.fetchval(SELECT_THREAD_STATUS, as_uuid(conversation_id), as_uuid(user_id, "user"))
    return status or "idle"  # type: ignore[no-any-return]


class ProtocolStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def run_options(self, run_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, RunOptions]:
        rows = await self.pool.fetch(SELECT_RUN_OPTIONS, list(run_ids))
        return {row["run_id"]: RunOptions(row["run_id"], row["assistant_id"], row["metadata"],
                                          list(row["stream_mode"]), row["multitask_strategy"]) for row in rows}

    async def search_threads(self, user_id: object, *, metadata: Mapping[str, Any] | None = None,
                             ids: Sequence[uuid.UUID] | None = None, status: str | None = None,
                             sort_by: str = "created_at", sort_order: str = "desc", limit: int = 10,
                             offset: int = 0) -> list[ThreadRow]:
        statement = SEARCH_THREADS.get((sort_by, sort_order))
        if statement is None:
            raise ValueError(f"cannot sort threads by {sort_by!r} {sort_order!r}")
        rows = await self.pool.fetch(statement, as_uuid(user_id, "user"), _or_none(metadata), _or_none(ids),
                                     status, limit, offset)
        return [_to_thread(row) for row in rows]

    async def count_threads(self, user_id: object, *, metadata: Mapping[str, Any] | None = None,
                            ids: Sequence[uuid.UUID] | None = None, status: str | None = None) -> int:
        count: int = await self.pool.fetchval(COUNT_THREADS, as_uuid(user_id, "user"), _or_none(metadata),
                                              _or_none(ids), status)
        return count


def _or_none(value: Any) -> Any:
    return value if value else None


def _to_thread(row: asyncpg.Record) -> ThreadRow:
    return ThreadRow(id=row["id"], title=row["title"], metadata=row["metadata"], created_at=row["created_at"],
                     updated_at=row["updated_at"], expires_at=row["expires_at"], status=row["status"],
                     graph_id=row["graph_id"])


# Read-only: a run's own checkpoints in the root namespace, oldest first (the checkpointer
# writes the run id into each checkpoint's metadata; checkpoints_run_id_idx finds them).
SELECT_RUN_CHECKPOINTS = """
SELECT checkpoint_id, parent_checkpoint_id, (metadata ->> 'step')::int AS step, metadata ->> 'source' AS source
  FROM checkpoints
 WHERE metadata ->> 'run_id' = $2 AND thread_id = $1 AND checkpoint_ns = ''
 ORDER BY checkpoint_id
"""


@dataclass(frozen=True)
class RunCheckpoint:
    checkpoint_id: str
    parent_checkpoint_id: str | None
    step: int | None
    source: str | None


async def run_checkpoints(pool: asyncpg.Pool, thread_id: uuid.UUID, run_id: uuid.UUID) -> list[RunCheckpoint]:
    rows = await pool.fetch(SELECT_RUN_CHECKPOINTS, str(thread_id), str(run_id))
    return [RunCheckpoint(row["checkpoint_id"], row["parent_checkpoint_id"], row["step"], row["source"])
            for row in rows]
