"""Group commit for checkpoint writes: the steps of concurrent workflows that reach
the saver in the same event-loop iteration go to PostgreSQL as one pipelined
`executemany` (one round trip, one commit) instead of one round trip each.

Not a lock: every flush takes its own pooled connection and flushes run
concurrently; a batch only gathers what arrived while the loop was busy. A
batch is atomic, so when it fails its items are retried one by one and only
the failing item sees the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg

# Passed as the statement's synchronous_commit setting: a batch of regular task
# writes only may commit without waiting for the WAL flush (see db/checkpoint/saver.py).
SYNC_COMMIT = "on"
ASYNC_COMMIT = "off"


class StatementBatcher:
    """Runs one statement for many argument tuples, batched per event-loop iteration."""

    def __init__(self, pool: asyncpg.Pool, statement: str, commit_setting_index: int | None = None) -> None:
        self.pool = pool
        self.statement = statement
        # Position of the synchronous_commit argument, decided per batch (None: the statement has none).
        self.commit_setting_index = commit_setting_index
        self._pending: list[tuple[list[Any], bool, asyncio.Future[None]]] = []
        self._flushes: set[asyncio.Task[None]] = set()

    def submit(self, args: list[Any], *, durable: bool) -> asyncio.Future[None]:
        """Queue one execution; the future resolves once it has committed.

        `durable=False` lets the commit skip waiting for the WAL flush when every
        item in its batch allows it.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if not self._pending:
            # Runs after the callbacks already queued in this iteration: their steps join the batch.
            loop.call_soon(self._start_flush)
        self._pending.append((args, durable, future))
        return future

    def _start_flush(self) -> None:
        items, self._pending = self._pending, []
        if items:
            task = asyncio.get_running_loop().create_task(self._flush(items))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, items: Sequence[tuple[list[Any], bool, asyncio.Future[None]]]) -> None:
        setting = SYNC_COMMIT if any(durable for _, durable, _ in items) else ASYNC_COMMIT
        rows = []
        for args, _, _ in items:
            if self.commit_setting_index is not None:
                args[self.commit_setting_index] = setting
            rows.append(args)
        try:
            if len(rows) == 1:
                await self.pool.execute(self.statement, *rows[0])
            else:
                await self.pool.executemany(self.statement, rows)
        except asyncio.CancelledError:
            for _, _, future in items:
                future.cancel()
            raise
        except Exception as exc:
            if len(items) == 1:
                if not items[0][2].done():
                    items[0][2].set_exception(exc)
                return
            # The batch rolled back as a whole: find the item(s) at fault one by one.
            await asyncio.gather(*(self._retry_alone(args, future) for args, _, future in items))
            return
        for _, _, future in items:
            if not future.done():
                future.set_result(None)

    async def _retry_alone(self, args: list[Any], future: asyncio.Future[None]) -> None:
        try:
            await self.pool.execute(self.statement, *args)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(None)
