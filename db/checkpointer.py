"""AsyncpgSaver: LangGraph's checkpointer on the project's asyncpg pool.

One step is one statement: the checkpoint row, the blobs of the channels that
changed and (for the root graph) the `workflow_states` / `agent_states`
projection are written by one INSERT with data-modifying CTEs, so they commit
together in one round trip. Steps of concurrent workflows that arrive in the
same event-loop iteration share one pipelined round trip and commit
(db/checkpoint_batch.py). With a `step_hook` the statement and the hook share
one explicit transaction instead, per step. Tables come from migration 002;
there is no `setup()`.

Sync methods (db/checkpoint_sync.py) bridge to the saver's event loop from
other threads, as the official AsyncPostgresSaver does, and raise
`SyncCallInEventLoop` on the loop's own thread, where blocking would deadlock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

import asyncpg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    get_checkpoint_id,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from db.checkpoint_batch import ASYNC_COMMIT, SYNC_COMMIT, StatementBatcher
from db.checkpoint_rows import (
    EMPTY_PROJECTION,
    assemble_delta_history,
    dump_checkpoint,
    dump_projection,
    dump_writes,
    load_tuple,
    next_version,
)
from db.checkpoint_sync import SyncBridge, SyncCallInEventLoop

__all__ = ["AsyncpgSaver", "Projection", "StepHook", "SyncCallInEventLoop"]
Projection = Callable[[RunnableConfig, Checkpoint, CheckpointMetadata], Mapping[str, Any] | None]
StepHook = Callable[[asyncpg.Connection, RunnableConfig, Checkpoint, CheckpointMetadata], Awaitable[None]]
# Awaited in the transaction of a task's writes, before them: raising stores nothing.
WritesHook = Callable[[asyncpg.Connection, RunnableConfig], Awaitable[None]]
PRUNE_STRATEGIES = ("keep_latest", "delete")

# --- writes -------------------------------------------------------------------

# The statements a step writes with. Each is batched on its own (db/checkpoint_batch.py):
# concurrent steps go out as one pipelined executemany. Parts whose arrays are
# empty do nothing. Checkpoints commit with the server's synchronous_commit; the
# writes statements set theirs from $10 (see AsyncpgSaver.aput_writes).
_SAVE_CHECKPOINT_BLOBS = """
WITH new_blobs AS (
    INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
    SELECT $1::text, $2::text, nb.channel, nb.version, nb.type, nb.blob
    FROM unnest($11::text[], $12::text[], $13::text[], $14::bytea[]) AS nb(channel, version, type, blob)
    ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
)"""
_SAVE_CHECKPOINT_ROW = """
INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
                         metadata, blob_channels, blob_versions, inline_channels)
SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::bytea, $7::text::jsonb, $8::text[], $9::text[],
       $10::text[]
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
    type = EXCLUDED.type,
    checkpoint = EXCLUDED.checkpoint,
    metadata = EXCLUDED.metadata,
    blob_channels = EXCLUDED.blob_channels,
    blob_versions = EXCLUDED.blob_versions,
    inline_channels = EXCLUDED.inline_channels
"""
SAVE_CHECKPOINT = _SAVE_CHECKPOINT_BLOBS + _SAVE_CHECKPOINT_ROW

# The step's projection ($15-$21), for the root graph when a projection is set.
_SAVE_PROJECTION = """,
workflow AS (
    INSERT INTO workflow_states (conversation_id, user_id, workflow_type, current_step, state_data, updated_at)
    SELECT $1::text, $15::uuid, $16::text, $17::text, $18::text::jsonb, now()
    WHERE $16::text IS NOT NULL
    ON CONFLICT (conversation_id) DO UPDATE SET
        user_id = COALESCE(EXCLUDED.user_id, workflow_states.user_id),
        workflow_type = EXCLUDED.workflow_type,
        current_step = EXCLUDED.current_step,
        state_data = EXCLUDED.state_data,
        updated_at = EXCLUDED.updated_at
), agents AS (
    INSERT INTO agent_states (conversation_id, agent_name, state_data, workflow_step, updated_at)
    SELECT $1::text, a.agent_name, a.state_data::jsonb, a.workflow_step, now()
    FROM unnest($19::text[], $20::text[], $21::text[]) AS a(agent_name, state_data, workflow_step)
    ON CONFLICT (conversation_id, agent_name) DO UPDATE SET
        state_data = EXCLUDED.state_data,
        workflow_step = EXCLUDED.workflow_step,
        updated_at = EXCLUDED.updated_at
)"""
SAVE_CHECKPOINT_WITH_PROJECTION = _SAVE_CHECKPOINT_BLOBS + _SAVE_PROJECTION + _SAVE_CHECKPOINT_ROW

_SAVE_WRITES_HEAD = """
INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT $1::text, $2::text, $3::text, $4::text, $5::text, w.idx, w.channel, w.type, w.blob
FROM unnest($6::int[], $7::text[], $8::text[], $9::bytea[]) AS w(idx, channel, type, blob)
CROSS JOIN (SELECT set_config('synchronous_commit', $10::text, true)) AS commit_setting
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)"""
# A retried task's regular writes are the same writes: the first stays.
SAVE_WRITES = _SAVE_WRITES_HEAD + " DO NOTHING"
# Special channels (error, interrupt, resume...) take their latest value.
SAVE_SPECIAL_WRITES = _SAVE_WRITES_HEAD + """ DO UPDATE SET
    channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob, task_path = EXCLUDED.task_path"""
WRITES_COMMIT_ARG = 9  # index of $10

# --- reads --------------------------------------------------------------------

# `checkpoint_tuples` (migration 002) joins each checkpoint to its blobs and writes.
SELECT_CHECKPOINT_BY_ID = """
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata::text AS metadata,
       blob_channels, blob_types, blobs, write_task_ids, write_channels, write_types, write_blobs,
       write_task_paths, write_idxs
FROM checkpoint_tuples
WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3
"""

SELECT_LATEST_CHECKPOINT = """
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata::text AS metadata,
       blob_channels, blob_types, blobs, write_task_ids, write_channels, write_types, write_blobs,
       write_task_paths, write_idxs
FROM checkpoint_tuples
WHERE thread_id = $1 AND checkpoint_ns = $2
ORDER BY checkpoint_id DESC LIMIT 1
"""

SELECT_LATEST_CHECKPOINT_ID = """
SELECT checkpoint_id FROM checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2
ORDER BY checkpoint_id DESC LIMIT 1
"""

# Optional filters are NULL-able parameters, so one fixed statement serves every call;
# `$1` (the thread) is NULL only for alist(None), across threads.
SELECT_CHECKPOINTS = """
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata::text AS metadata,
       blob_channels, blob_types, blobs, write_task_ids, write_channels, write_types, write_blobs,
       write_task_paths, write_idxs
FROM checkpoint_tuples
WHERE ($1::text IS NULL OR thread_id = $1)
  AND ($2::text IS NULL OR checkpoint_ns = $2)
  AND ($3::text IS NULL OR checkpoint_id = $3)
  AND ($4::text IS NULL OR metadata @> $4::text::jsonb)
  AND ($5::text IS NULL OR checkpoint_id < $5)
ORDER BY checkpoint_id DESC LIMIT $6
"""

# Per ancestor (`checkpoint_delta_chain`, migration 002): its writes to the channels
# still wanted there ('w'), the seed blobs it holds for them ('b'), and its row when
# it holds a seed inline ('c').
SELECT_DELTA_HISTORY = """
WITH chain AS (SELECT * FROM checkpoint_delta_chain($1, $2, $3, $4::text[]))
SELECT 'w' AS kind, chain.depth, w.channel, w.type, w.blob, w.task_id, w.task_path, w.idx,
       NULL::text[] AS seed_channels
FROM chain
JOIN checkpoint_writes w
  ON w.thread_id = $1 AND w.checkpoint_ns = $2 AND w.checkpoint_id = chain.checkpoint_id
 AND w.channel = ANY(chain.wanted)
UNION ALL
SELECT 'b', chain.depth, bl.channel, bl.type, bl.blob, NULL, NULL, NULL, NULL
FROM chain
JOIN checkpoints p ON p.thread_id = $1 AND p.checkpoint_ns = $2 AND p.checkpoint_id = chain.checkpoint_id
CROSS JOIN LATERAL unnest(p.blob_channels, p.blob_versions) AS r(channel, version)
CROSS JOIN LATERAL (
    SELECT cb.channel, cb.type, cb.blob FROM checkpoint_blobs cb
    WHERE cb.thread_id = $1 AND cb.checkpoint_ns = $2 AND cb.channel = r.channel AND cb.version = r.version
    LIMIT 1  -- one primary-key probe per key, never a scan of the thread's blobs
) AS bl
WHERE r.channel = ANY(chain.wanted)
UNION ALL
SELECT 'c', chain.depth, NULL, p.type, p.checkpoint, NULL, NULL, NULL,
       ARRAY(SELECT unnest(p.inline_channels) INTERSECT SELECT unnest(chain.wanted))
FROM chain
JOIN checkpoints p ON p.thread_id = $1 AND p.checkpoint_ns = $2 AND p.checkpoint_id = chain.checkpoint_id
WHERE p.inline_channels && chain.wanted
"""

# --- deletes, copies, pruning ---------------------------------------------------

DELETE_THREAD = """
WITH gone_checkpoints AS (DELETE FROM checkpoints WHERE thread_id = $1),
     gone_blobs AS (DELETE FROM checkpoint_blobs WHERE thread_id = $1),
     gone_writes AS (DELETE FROM checkpoint_writes WHERE thread_id = $1),
     gone_agents AS (DELETE FROM agent_states WHERE conversation_id = $1)
DELETE FROM workflow_states WHERE conversation_id = $1
"""

DELETE_THREADS = """
WITH gone_checkpoints AS (DELETE FROM checkpoints WHERE thread_id = ANY($1::text[])),
     gone_blobs AS (DELETE FROM checkpoint_blobs WHERE thread_id = ANY($1::text[])),
     gone_writes AS (DELETE FROM checkpoint_writes WHERE thread_id = ANY($1::text[])),
     gone_agents AS (DELETE FROM agent_states WHERE conversation_id = ANY($1::text[]))
DELETE FROM workflow_states WHERE conversation_id = ANY($1::text[])
"""

# Blobs stay: a live thread's next step may still reference them (they go with
# delete_thread / prune). Writes go with their checkpoints, not as orphans, since a
# running step may have saved writes whose checkpoint has not committed yet.
DELETE_FOR_RUNS = """
WITH doomed AS (
    DELETE FROM checkpoints WHERE metadata ->> 'run_id' = ANY($1::text[])
    RETURNING thread_id, checkpoint_ns, checkpoint_id
)
DELETE FROM checkpoint_writes w USING doomed d
WHERE w.thread_id = d.thread_id AND w.checkpoint_ns = d.checkpoint_ns AND w.checkpoint_id = d.checkpoint_id
"""

COPY_THREAD = """
WITH copied_checkpoints AS (
    INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
                             metadata, blob_channels, blob_versions, inline_channels)
    SELECT $2::text, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
           metadata, blob_channels, blob_versions, inline_channels
    FROM checkpoints WHERE thread_id = $1
    ON CONFLICT DO NOTHING
), copied_blobs AS (
    INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
    SELECT $2::text, checkpoint_ns, channel, version, type, blob FROM checkpoint_blobs WHERE thread_id = $1
    ON CONFLICT DO NOTHING
), copied_workflow AS (
    INSERT INTO workflow_states (conversation_id, user_id, workflow_type, current_step, state_data, updated_at)
    SELECT $2::text, user_id, workflow_type, current_step, state_data, updated_at
    FROM workflow_states WHERE conversation_id = $1
    ON CONFLICT DO NOTHING
), copied_agents AS (
    INSERT INTO agent_states (conversation_id, agent_name, state_data, workflow_step, updated_at)
    SELECT $2::text, agent_name, state_data, workflow_step, updated_at FROM agent_states WHERE conversation_id = $1
    ON CONFLICT DO NOTHING
)
INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT $2::text, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob
FROM checkpoint_writes WHERE thread_id = $1
ON CONFLICT DO NOTHING
"""

# keep_latest reads one snapshot: what a run saves meanwhile is neither seen nor deleted.
PRUNE_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"

SELECT_NAMESPACE_HEADS = """
SELECT DISTINCT ON (checkpoint_ns) checkpoint_ns, checkpoint_id,
       ARRAY(SELECT jsonb_object_keys(COALESCE(metadata -> 'counters_since_delta_snapshot', '{}'::jsonb)))
           AS delta_channels
FROM checkpoints WHERE thread_id = $1
ORDER BY checkpoint_ns, checkpoint_id DESC
"""

SELECT_DELTA_CHAIN = "SELECT checkpoint_id FROM checkpoint_delta_chain($1, $2, $3, $4::text[])"

PRUNE_NAMESPACE = """
WITH doomed AS (
    DELETE FROM checkpoints
    WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id <> ALL($3::text[])
    RETURNING checkpoint_id
), doomed_writes AS (
    DELETE FROM checkpoint_writes w USING doomed
    WHERE w.thread_id = $1 AND w.checkpoint_ns = $2 AND w.checkpoint_id = doomed.checkpoint_id
), orphans AS (
    UPDATE checkpoints SET parent_checkpoint_id = NULL
    WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = ANY($3::text[])
      AND parent_checkpoint_id <> ALL($3::text[])
)
DELETE FROM checkpoint_blobs b
WHERE b.thread_id = $1 AND b.checkpoint_ns = $2 AND NOT EXISTS (
    SELECT 1 FROM checkpoints c CROSS JOIN LATERAL unnest(c.blob_channels, c.blob_versions) AS r(channel, version)
    WHERE c.thread_id = $1 AND c.checkpoint_ns = $2 AND c.checkpoint_id = ANY($3::text[])
      AND r.channel = b.channel AND r.version = b.version
)
"""


class AsyncpgSaver(SyncBridge):
    """A complete LangGraph checkpointer on an asyncpg pool.

    `projection(config, checkpoint, metadata)` (root namespace only) returns the
    `workflow_states` / `agent_states` upserts of the step; `step_hook(con, ...)`
    runs inside the step's transaction. Either failing means nothing of the step commits.
    `writes_hook(con, config)` does the same for a task's pending writes (the run
    workers fence both by attempt). Without hooks, steps and writes are group-committed.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        serde: SerializerProtocol | None = None,
        projection: Projection | None = None,
        step_hook: StepHook | None = None,
        writes_hook: WritesHook | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.pool = pool
        self.projection = projection
        self.step_hook = step_hook
        self.writes_hook = writes_hook
        self._checkpoints = StatementBatcher(pool, SAVE_CHECKPOINT)
        self._projected_checkpoints = StatementBatcher(pool, SAVE_CHECKPOINT_WITH_PROJECTION)
        self._writes = StatementBatcher(pool, SAVE_WRITES, WRITES_COMMIT_ARG)
        self._special_writes = StatementBatcher(pool, SAVE_SPECIAL_WRITES, WRITES_COMMIT_ARG)
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = getattr(pool, "_loop", None)

    # --- writes ---------------------------------------------------------------

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint, its changed blobs and its projection in one transaction."""
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        checkpoint_ns = configurable.get("checkpoint_ns", "") or ""
        row = dump_checkpoint(self.serde, config, checkpoint, metadata, new_versions)
        args: list[Any] = [
            thread_id, checkpoint_ns, checkpoint["id"], configurable.get("checkpoint_id"),
            row.type, row.checkpoint, row.metadata, row.blob_channels, row.blob_versions, row.inline_channels,
            row.new_blob_channels, row.new_blob_versions, row.new_blob_types, row.new_blobs,
        ]
        batcher, query = self._checkpoints, SAVE_CHECKPOINT
        if self.projection is not None and checkpoint_ns == "":
            rows = dump_projection(self.projection(config, checkpoint, metadata))
            if rows is not EMPTY_PROJECTION:
                args += [rows.user_id, rows.workflow_type, rows.current_step, rows.state_data,
                         rows.agent_names, rows.agent_states, rows.agent_steps]
                batcher, query = self._projected_checkpoints, SAVE_CHECKPOINT_WITH_PROJECTION
        if self.step_hook is None:
            await batcher.submit(args, durable=True)
        else:
            async with self.pool.acquire() as con, con.transaction():
                await con.execute(query, *args)
                await self.step_hook(cast(asyncpg.Connection, con), config, checkpoint, metadata)
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns,
                                 "checkpoint_id": checkpoint["id"]}}

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes in one statement; a retry stores nothing twice."""
        if not writes:
            return
        configurable = config["configurable"]
        special = all(w[0] in WRITES_IDX_MAP for w in writes)
        args: list[Any] = [
            str(configurable["thread_id"]), configurable.get("checkpoint_ns", "") or "",
            configurable["checkpoint_id"], task_id, task_path, *dump_writes(self.serde, writes), SYNC_COMMIT,
        ]
        # Errors, interrupts and resumes wait for the WAL flush. Regular task writes
        # need not: the next checkpoint's synchronous commit flushes the WAL they
        # precede (LangGraph saves a step's DeltaChannel writes before its checkpoint),
        # and a crash before that checkpoint only makes the step's tasks run again.
        durable = special or any(w[0] in WRITES_IDX_MAP for w in writes)
        if self.writes_hook is None:
            await (self._special_writes if special else self._writes).submit(args, durable=durable)
            return
        args[WRITES_COMMIT_ARG] = SYNC_COMMIT if durable else ASYNC_COMMIT
        async with self.pool.acquire() as con, con.transaction():
            await self.writes_hook(cast(asyncpg.Connection, con), config)
            await con.execute(SAVE_SPECIAL_WRITES if special else SAVE_WRITES, *args)

    # --- reads ----------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by `config`, or the thread's latest: one query, whatever the thread's length."""
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        checkpoint_ns = configurable.get("checkpoint_ns", "") or ""
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id:
            row = await self.pool.fetchrow(SELECT_CHECKPOINT_BY_ID, thread_id, checkpoint_ns, checkpoint_id)
        else:
            row = await self.pool.fetchrow(SELECT_LATEST_CHECKPOINT, thread_id, checkpoint_ns)
        return None if row is None else load_tuple(self.serde, row)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints newest first, of one thread or (config None) of all threads."""
        configurable = config["configurable"] if config else {}
        thread_id = configurable.get("thread_id")
        args = (
            str(thread_id) if thread_id is not None else None,
            configurable.get("checkpoint_ns"),
            get_checkpoint_id(config) if config else None,
            json.dumps(filter) if filter else None,
            get_checkpoint_id(before) if before else None,
            limit,
        )
        for row in await self.pool.fetch(SELECT_CHECKPOINTS, *args):
            yield load_tuple(self.serde, row)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Writes and seed of each DeltaChannel along the parent chain, in one query."""
        if not channels:
            return {}
        wanted = list(dict.fromkeys(channels))
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        checkpoint_ns = configurable.get("checkpoint_ns", "") or ""
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id is None:
            latest = await self.pool.fetchval(SELECT_LATEST_CHECKPOINT_ID, thread_id, checkpoint_ns)
            if latest is None:
                return {c: {"writes": []} for c in wanted}
            checkpoint_id = latest
        rows = await self.pool.fetch(SELECT_DELTA_HISTORY, thread_id, checkpoint_ns, checkpoint_id, wanted)
        return assemble_delta_history(self.serde, wanted, rows)

    def get_next_version(self, current: str | None, channel: None = None) -> str:
        return next_version(current)

    # --- deletes, copies, pruning ---------------------------------------------

    async def adelete_thread(self, thread_id: str) -> None:
        """Remove the thread's checkpoints, blobs, writes and projection rows (one statement)."""
        await self.pool.execute(DELETE_THREAD, str(thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Remove the checkpoints (and their writes) that the given runs created."""
        if isinstance(run_ids, str):
            raise TypeError("run_ids must be a sequence of run ids, not a str")
        if run_ids:
            await self.pool.execute(DELETE_FOR_RUNS, [str(r) for r in run_ids])

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint (the whole parent chain), blob, write and projection row."""
        await self.pool.execute(COPY_THREAD, str(source_thread_id), str(target_thread_id))

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """`delete` drops the threads; `keep_latest` keeps each namespace's latest
        checkpoint plus the ancestors its DeltaChannels replay from (back to their seeds)."""
        if isinstance(thread_ids, str):
            raise TypeError("thread_ids must be a sequence of thread ids, not a str")
        if strategy not in PRUNE_STRATEGIES:
            raise ValueError(f"unknown prune strategy {strategy!r}; use one of {', '.join(PRUNE_STRATEGIES)}")
        ids = [str(t) for t in thread_ids]
        if not ids:
            return
        if strategy == "delete":
            await self.pool.execute(DELETE_THREADS, ids)
            return
        for thread_id in ids:
            async with self.pool.acquire() as con, con.transaction():
                await con.execute(PRUNE_SNAPSHOT)
                for head in await con.fetch(SELECT_NAMESPACE_HEADS, thread_id):
                    keep = [head["checkpoint_id"]]
                    if head["delta_channels"]:
                        chain = await con.fetch(SELECT_DELTA_CHAIN, thread_id, head["checkpoint_ns"],
                                                head["checkpoint_id"], head["delta_channels"])
                        keep += [r["checkpoint_id"] for r in chain]
                    await con.execute(PRUNE_NAMESPACE, thread_id, head["checkpoint_ns"], keep)
