"""Group commit: the statements of concurrent workflows that reach the saver (or the run
queue) in the same event-loop iteration go to PostgreSQL as one pipelined batch (one
round trip, one commit) instead of one round trip each.

Not a lock: every flush takes its own pooled connection and flushes run
concurrently; a batch only gathers what arrived while the loop was busy. A
batch is atomic, so when it fails its items are retried one by one and only
the failing item sees the error. Items are sent in the order of their key (the
run or thread they belong to): every batch then locks rows in the same order,
so two batches never deadlock each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg

from db.scope import UserScopedPool

# Passed as the statement's synchronous_commit setting: a batch of regular task
# writes only may commit without waiting for the WAL flush (see db/checkpoint/saver.py).
SYNC_COMMIT = "on"
ASYNC_COMMIT = "off"

Item = tuple[str, list[Any], bool, "asyncio.Future[asyncpg.Record | None]"]
# Items per round trip at most. PostgreSQL runs a batch's statements one after another in one
# backend and answers none before the last commits; smaller batches go out at once on other
# connections, so the first runs of a burst move on sooner and more backends share the work.
MAX_BATCH = 32


class BatchStats:
    """Statements and round trips sent, for benchmarks (a batch of n items is one round trip)."""

    def __init__(self) -> None:
        self.items = 0
        self.flushes = 0


class StatementBatcher:
    """Runs one statement for many argument lists, batched per event-loop iteration.

    With `returns_row` the statement returns exactly one row per argument list and
    each item's future resolves to its row; otherwise to None.
    """

    def __init__(self, pool: asyncpg.Pool, statement: str, commit_setting_index: int | None = None, *,
                 returns_row: bool = False, stats: BatchStats | None = None) -> None:
        if isinstance(pool, UserScopedPool):
            # A batch is one transaction with one app.user_id: items of several users would run as one.
            raise TypeError("a StatementBatcher gathers many users' statements: give it the owner's pool")
        self.pool = pool
        self.statement = statement
        # Position of the synchronous_commit argument, decided per batch (None: the statement has none).
        self.commit_setting_index = commit_setting_index
        self.returns_row = returns_row
        self.stats = stats
        self._pending: list[Item] = []
        self._flushes: set[asyncio.Task[None]] = set()

    def submit(self, args: list[Any], *, durable: bool, key: str = "") -> asyncio.Future[asyncpg.Record | None]:
        """Queue one execution; the future resolves once it has committed.

        `durable=False` lets the commit skip waiting for the WAL flush when every
        item in its batch allows it. `key` orders the items of a batch.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[asyncpg.Record | None] = loop.create_future()
        if not self._pending:
            # Runs after the callbacks already queued in this iteration: their steps join the batch.
            loop.call_soon(self._start_flush)
        self._pending.append((key, args, durable, future))
        if len(self._pending) >= MAX_BATCH:
            self._start_flush()
        return future

    def _start_flush(self) -> None:
        items, self._pending = self._pending, []
        if items:
            task = asyncio.get_running_loop().create_task(self._flush(items))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, items: list[Item]) -> None:
        if len(items) > 1:
            items.sort(key=lambda item: item[0])
        setting = SYNC_COMMIT if any(durable for _, _, durable, _ in items) else ASYNC_COMMIT
        rows = []
        for _, args, _, _ in items:
            if self.commit_setting_index is not None:
                args[self.commit_setting_index] = setting
            rows.append(args)
        if self.stats is not None:
            self.stats.items += len(items)
            self.stats.flushes += 1
        try:
            results = await self._send(rows)
        except asyncio.CancelledError:
            for *_, future in items:
                future.cancel()
            raise
        except Exception as exc:
            if len(items) == 1:
                if not items[0][3].done():
                    items[0][3].set_exception(exc)
                return
            # The batch rolled back as a whole: find the item(s) at fault one by one.
            await asyncio.gather(*(self._retry_alone(args, future) for _, args, _, future in items))
            return
        for (*_, future), result in zip(items, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _send(self, rows: Sequence[list[Any]]) -> Sequence[asyncpg.Record | None]:
        if len(rows) == 1:
            if self.returns_row:
                return [await self.pool.fetchrow(self.statement, *rows[0])]
            await self.pool.execute(self.statement, *rows[0])
            return [None]
        if self.returns_row:
            return await self.pool.fetchmany(self.statement, rows)
        await self.pool.executemany(self.statement, rows)
        return [None] * len(rows)

    async def _retry_alone(self, args: list[Any], future: asyncio.Future[asyncpg.Record | None]) -> None:
        if self.stats is not None:
            self.stats.items += 1
            self.stats.flushes += 1
        try:
            (result,) = await self._send([args])
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)
