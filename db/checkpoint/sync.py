"""The synchronous half of the checkpointer API, bridged to the saver's event loop.

LangGraph's sync entry points (`graph.invoke`, `get_state`) call these. From a
thread other than the loop's they run the async method on the loop and wait
(as the official AsyncPostgresSaver does); on the loop's own thread waiting
would deadlock, so they raise `SyncCallInEventLoop` naming the async method.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)

T = TypeVar("T")


class SyncCallInEventLoop(RuntimeError):
    """A sync method was called on the saver's own event loop thread, where it would deadlock."""


class SyncBridge(BaseCheckpointSaver[str]):
    """Sync methods of a saver whose async methods run on `self.loop`."""

    loop: asyncio.AbstractEventLoop | None

    def _run_sync(self, method: str, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run an async method on the saver's loop from another thread."""
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is not None and current is self.loop:
            raise SyncCallInEventLoop(
                f"AsyncpgSaver.{method}() blocks, and was called on the event loop that runs the saver; "
                f"use the async API (await saver.a{method}(...), graph.ainvoke) instead")
        if self.loop is None or self.loop.is_closed() or not self.loop.is_running():
            raise RuntimeError(
                f"AsyncpgSaver.{method}() needs the saver's event loop running in another thread; "
                f"use the async API (await saver.a{method}(...)) instead")
        return asyncio.run_coroutine_threadsafe(make(), self.loop).result()

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._run_sync("get_tuple", lambda: self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        async def collect() -> list[CheckpointTuple]:
            return [t async for t in self.alist(config, filter=filter, before=before, limit=limit)]

        return iter(self._run_sync("list", collect))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._run_sync("put", lambda: self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self._run_sync("put_writes", lambda: self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self._run_sync("delete_thread", lambda: self.adelete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._run_sync("delete_for_runs", lambda: self.adelete_for_runs(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._run_sync("copy_thread", lambda: self.acopy_thread(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self._run_sync("prune", lambda: self.aprune(thread_ids, strategy=strategy))

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        return self._run_sync(
            "get_delta_channel_history", lambda: self.aget_delta_channel_history(config=config, channels=channels))
