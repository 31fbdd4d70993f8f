"""AsyncpgSaver: LangGraph's checkpointer on the project's asyncpg pool.

One step is one statement: the checkpoint row, the blobs of the channels that
changed, (for the root graph) the `workflow_states` / `agent_states`
projection and the task writes that waited for this checkpoint
(`db.checkpoint.waiting`) are written by one INSERT with data-modifying CTEs,
so they commit together in one round trip. For a queued run, the `RunFence`'s
arguments go into the same statement, which writes nothing unless the run's
attempt still owns it. Steps of concurrent workflows that arrive in the same
event-loop iteration share one pipelined round trip and commit (`db.batch`).
Tables come from migration 002; there is no `setup()`.

Sync methods (`db.checkpoint.sync`) bridge to the saver's event loop from
other threads, as the official AsyncPostgresSaver does, and raise
`SyncCallInEventLoop` on the loop's own thread, where blocking would deadlock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

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

from db.batch import SYNC_COMMIT, BatchStats, StatementBatcher
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
    SAVE_FENCED_CHECKPOINT,
    SAVE_FENCED_SPECIAL_WRITES,
    SAVE_FENCED_WRITES,
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
from db.checkpoint.waiting import DEFAULT_LINGER_SECONDS, TaskWrites, ThreadKey, WaitingWrites, writes_columns

if TYPE_CHECKING:
    from db.runs.fence import RunFence

Projection = Callable[[RunnableConfig, Checkpoint, CheckpointMetadata], Mapping[str, Any] | None]
PRUNE_STRATEGIES = ("keep_latest", "delete")


class AsyncpgSaver(SyncBridge):
    """A complete LangGraph checkpointer on an asyncpg pool.

    `projection(config, checkpoint, metadata)` (root namespace only) returns the
    `workflow_states` / `agent_states` upserts of the step. `fence` (the run
    executor's `RunFence`) goes into the statement of each step and of each
    task's writes sent alone, which write nothing unless the run's attempt still
    owns it. `stats` counts statements and round trips (benchmarks).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        serde: SerializerProtocol | None = None,
        projection: Projection | None = None,
        fence: RunFence | None = None,
        linger_seconds: float = DEFAULT_LINGER_SECONDS,
        stats: BatchStats | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.pool = pool
        self.projection = projection
        self.fence = fence
        self._checkpoints = StatementBatcher(pool, SAVE_CHECKPOINT, stats=stats)
        self._fenced_checkpoints = StatementBatcher(pool, SAVE_FENCED_CHECKPOINT, returns_row=True, stats=stats)
        self._writes = {
            (False, False): StatementBatcher(pool, SAVE_WRITES, WRITES_COMMIT_ARG, stats=stats),
            (True, False): StatementBatcher(pool, SAVE_SPECIAL_WRITES, WRITES_COMMIT_ARG, stats=stats),
            (False, True): StatementBatcher(pool, SAVE_FENCED_WRITES, WRITES_COMMIT_ARG, returns_row=True,
                                            stats=stats),
            (True, True): StatementBatcher(pool, SAVE_FENCED_SPECIAL_WRITES, WRITES_COMMIT_ARG, returns_row=True,
                                           stats=stats),
        }
        self._latest = StatementBatcher(pool, SELECT_LATEST_CHECKPOINT, returns_row=True, stats=stats)
        self._waiting = WaitingWrites(self._send_waiting, linger_seconds, closed=pool.is_closing)
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
        """Store a checkpoint, its changed blobs, its projection and the task writes that
        waited for it in one statement (fenced by the run's attempt for a queued run)."""
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        checkpoint_ns = configurable.get("checkpoint_ns", "") or ""
        row = dump_checkpoint(self.serde, config, checkpoint, metadata, new_versions)
        args: list[Any] = [
            thread_id, checkpoint_ns, checkpoint["id"], configurable.get("checkpoint_id"),
            row.type, row.checkpoint, row.metadata, row.blob_channels, row.blob_versions, row.inline_channels,
            row.new_blob_channels, row.new_blob_versions, row.new_blob_types, row.new_blobs,
        ]
        projection = EMPTY_PROJECTION
        if self.projection is not None and checkpoint_ns == "":
            projection = dump_projection(self.projection(config, checkpoint, metadata))
        args += [projection.user_id, projection.workflow_type, projection.current_step, projection.state_data,
                 projection.agent_names, projection.agent_states, projection.agent_steps]
        fenced = self.fence.step(config, checkpoint, metadata) if self.fence is not None else None
        args += writes_columns(self._waiting.take((thread_id, checkpoint_ns)))
        if fenced is None:
            await self._checkpoints.submit(args, durable=True, key=thread_id)
        else:
            result = await self._fenced_checkpoints.submit(args + fenced.args, durable=True, key=fenced.key)
            self.fence.step_committed(fenced, result)  # type: ignore[union-attr]
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns,
                                 "checkpoint_id": checkpoint["id"]}}

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes; a retry stores nothing twice.

        Regular writes wait for the thread's next checkpoint and commit with it
        (`db.checkpoint.waiting`). Errors, interrupts and resumes are written at
        once, with what waits for the thread, and wait for the WAL flush."""
        if not writes:
            return
        configurable = config["configurable"]
        key: ThreadKey = (str(configurable["thread_id"]), configurable.get("checkpoint_ns", "") or "")
        item = TaskWrites(config, configurable["checkpoint_id"], task_id, task_path, *dump_writes(self.serde, writes))
        if not any(w[0] in WRITES_IDX_MAP for w in writes):
            self._waiting.add(key, item)
            return
        await self._send_waiting([*self._waiting.take(key), item])

    async def _send_waiting(self, items: Sequence[TaskWrites]) -> None:
        """Write tasks' writes now, each as its own statement of a batch. Regular writes
        commit without waiting for the WAL flush unless a special write shares their batch."""
        sends = []
        for item in items:
            configurable = item.config["configurable"]
            special = all(channel in WRITES_IDX_MAP for channel in item.channels)
            durable = any(channel in WRITES_IDX_MAP for channel in item.channels)
            args: list[Any] = [
                str(configurable["thread_id"]), configurable.get("checkpoint_ns", "") or "", item.checkpoint_id,
                item.task_id, item.task_path, item.idxs, item.channels, item.types, item.blobs, SYNC_COMMIT,
            ]
            fence = self.fence.writes(item.config) if self.fence is not None else None
            if fence is not None:
                args += fence
            batcher = self._writes[(special, fence is not None)]
            sends.append((item, fence, batcher.submit(args, durable=durable, key=str(fence[0]) if fence else args[0])))
        failure: BaseException | None = None
        for item, fence, sent in sends:
            try:
                result = await sent
                if fence is not None:
                    self.fence.writes_committed(item.config, result)  # type: ignore[union-attr]
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    # --- reads ----------------------------------------------------------------

    async def _read_target(self, config: RunnableConfig) -> tuple[str, str, str | None]:
        """(thread, namespace, checkpoint id or None) a read names; what waits for that thread is written first."""
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        checkpoint_ns = configurable.get("checkpoint_ns", "") or ""
        if self._waiting:
            await self._waiting.flush((thread_id, checkpoint_ns))
        return thread_id, checkpoint_ns, get_checkpoint_id(config)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by `config`, or the thread's latest: one query, whatever the thread's length."""
        thread_id, checkpoint_ns, checkpoint_id = await self._read_target(config)
        if checkpoint_id:
            row = await self.pool.fetchrow(SELECT_CHECKPOINT_BY_ID, thread_id, checkpoint_ns, checkpoint_id)
        else:
            row = await self._latest.submit([thread_id, checkpoint_ns], durable=False, key=thread_id)
        found = None if row is None or row["thread_id"] is None else load_tuple(self.serde, row)
        if self.fence is not None:
            self.fence.loaded(config, found.checkpoint if found is not None else None)
        return found

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
        if self._waiting:
            await self._waiting.flush_thread(str(thread_id) if thread_id is not None else None)
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
        thread_id, checkpoint_ns, checkpoint_id = await self._read_target(config)
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
        for key in self._waiting.keys(str(thread_id)):
            self._waiting.discard(key)
        await self.pool.execute(DELETE_THREAD, str(thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Remove the checkpoints (and their writes) that the given runs created."""
        if isinstance(run_ids, str):
            raise TypeError("run_ids must be a sequence of run ids, not a str")
        if run_ids:
            await self._waiting.flush_thread()
            await self.pool.execute(DELETE_FOR_RUNS, [str(r) for r in run_ids])

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint (the whole parent chain), blob, write and projection row."""
        await self._waiting.flush_thread(str(source_thread_id))
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
            for key in [k for t in ids for k in self._waiting.keys(t)]:
                self._waiting.discard(key)
            await self.pool.execute(DELETE_THREADS, ids)
            return
        for thread_id in ids:
            await self._waiting.flush_thread(thread_id)
            async with self.pool.acquire() as con, con.transaction():
                await con.execute(PRUNE_SNAPSHOT)
                for head in await con.fetch(SELECT_NAMESPACE_HEADS, thread_id):
                    keep = [head["checkpoint_id"]]
                    if head["delta_channels"]:
                        chain = await con.fetch(SELECT_DELTA_CHAIN, thread_id, head["checkpoint_ns"],
                                                head["checkpoint_id"], head["delta_channels"])
                        keep += [r["checkpoint_id"] for r in chain]
                    await con.execute(PRUNE_NAMESPACE, thread_id, head["checkpoint_ns"], keep)
