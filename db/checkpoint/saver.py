"""AsyncpgSaver: LangGraph's checkpointer on the project's asyncpg pool.

One step is one statement: the checkpoint row, the blobs of the channels that
changed and (for the root graph) the `workflow_states` / `agent_states`
projection are written by one INSERT with data-modifying CTEs, so they commit
together in one round trip. Steps of concurrent workflows that arrive in the
same event-loop iteration share one pipelined round trip and commit
(`db.checkpoint.batch`). With a `RunFence` (a queued run's attempt), the
statement and the fence share one explicit transaction instead, per step.
Tables come from migration 002; there is no `setup()`.

Sync methods (`db.checkpoint.sync`) bridge to the saver's event loop from
other threads, as the official AsyncPostgresSaver does, and raise
`SyncCallInEventLoop` on the loop's own thread, where blocking would deadlock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

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

from db.checkpoint.batch import ASYNC_COMMIT, SYNC_COMMIT, StatementBatcher
from db.checkpoint.rows import (
    EMPTY_PROJECTION,
    assemble_delta_history,
    dump_checkpoint,
    dump_projection,
    dump_writes,
    load_tuple,
    next_version,
)
from db.checkpoint.sql import (
    COPY_THREAD,
    DELETE_FOR_RUNS,
    DELETE_THREAD,
    DELETE_THREADS,
    PRUNE_NAMESPACE,
    PRUNE_SNAPSHOT,
    SAVE_CHECKPOINT,
    SAVE_CHECKPOINT_WITH_PROJECTION,
    SAVE_SPECIAL_WRITES,
    SAVE_WRITES,
    SELECT_CHECKPOINT_BY_ID,
    SELECT_CHECKPOINTS,
    SELECT_DELTA_CHAIN,
    SELECT_DELTA_HISTORY,
    SELECT_LATEST_CHECKPOINT,
    SELECT_LATEST_CHECKPOINT_ID,
    SELECT_NAMESPACE_HEADS,
    WRITES_COMMIT_ARG,
)
from db.checkpoint.sync import SyncBridge

if TYPE_CHECKING:
    from db.runs.fence import RunFence

Projection = Callable[[RunnableConfig, Checkpoint, CheckpointMetadata], Mapping[str, Any] | None]
PRUNE_STRATEGIES = ("keep_latest", "delete")


class AsyncpgSaver(SyncBridge):
    """A complete LangGraph checkpointer on an asyncpg pool.

    `projection(config, checkpoint, metadata)` (root namespace only) returns the
    `workflow_states` / `agent_states` upserts of the step. `fence` (the run
    executor's `RunFence`) proves, inside the transaction of each step and of
    each task's pending writes, that the run's attempt still owns it; either
    failing means nothing of the step commits. Without a fence, steps and
    writes are group-committed.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        serde: SerializerProtocol | None = None,
        projection: Projection | None = None,
        fence: RunFence | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.pool = pool
        self.projection = projection
        self.fence = fence
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
        if self.fence is None:
            await batcher.submit(args, durable=True)
        else:
            async with self.pool.acquire() as con, con.transaction():
                await con.execute(query, *args)
                await self.fence.step(cast(asyncpg.Connection, con), config, checkpoint, metadata)
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
        if self.fence is None:
            await (self._special_writes if special else self._writes).submit(args, durable=durable)
            return
        args[WRITES_COMMIT_ARG] = SYNC_COMMIT if durable else ASYNC_COMMIT
        async with self.pool.acquire() as con, con.transaction():
            await self.fence.writes(cast(asyncpg.Connection, con), config)
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
