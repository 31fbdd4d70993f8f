"""Wake-ups for readers of run events: one LISTEN connection shared by every waiter of a service.

The connection is borrowed from the pool only while someone waits and is given
back after UNLISTEN (the pool's reset does not unlisten). When LISTEN is not
possible (database away, pooler in transaction mode) waiters still poll, so a
lost notification only costs latency, never an event.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

RUN_EVENTS_CHANNEL = "navigator_run_events"
RUNS_CHANNEL = "navigator_runs"


class RunEventNotifier:
    """Fan NOTIFY payloads (run ids) out to the asyncio events of the streams waiting on them."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._con: Any = None  # a PoolConnectionProxy while listening
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def subscribe(self, run_id: uuid.UUID) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the run's log grows (and also, harmlessly, at other times)."""
        key = str(run_id)
        wake = asyncio.Event()
        self._waiters.setdefault(key, set()).add(wake)
        try:
            await self._ensure_listening()
            yield wake
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(wake)
                if not waiters:
                    del self._waiters[key]
            if not self._waiters:
                await self._stop_listening()

    def _on_notify(self, _con: object, _pid: int, _channel: str, payload: object) -> None:
        for wake in self._waiters.get(str(payload), ()):
            wake.set()

    def _on_lost(self, _con: object) -> None:
        # Wake everyone so they poll now; the next subscribe listens again.
        self._con = None
        for waiters in self._waiters.values():
            for wake in waiters:
                wake.set()

    async def _ensure_listening(self) -> None:
        async with self._lock:
            if self._con is not None and not self._con.is_closed():
                return
            try:
                con = await self._pool.acquire()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.debug("run event notifications unavailable, polling: %s", type(exc).__name__)
                return
            try:
                await con.add_listener(RUN_EVENTS_CHANNEL, self._on_notify)
                con.add_termination_listener(self._on_lost)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.debug("run event notifications unavailable, polling: %s", type(exc).__name__)
                await self._pool.release(con)
                return
            except (Exception, asyncio.CancelledError):
                await self._pool.release(con)
                raise
            self._con = con

    async def _stop_listening(self) -> None:
        async with self._lock:
            con, self._con = self._con, None
            if con is None or self._waiters:
                self._con = con
                return
            try:
                con.remove_termination_listener(self._on_lost)
                if not con.is_closed():
                    await con.remove_listener(RUN_EVENTS_CHANNEL, self._on_notify)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                pass
            finally:
                await self._pool.release(con)
