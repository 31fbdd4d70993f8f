"""LISTEN/NOTIFY wake-ups: for readers of run events, and for the executors waiting for runs.

Both borrow their LISTEN connection from the pool (so a process never holds more
connections than DB_POOL_MAX_SIZE) and give it back without its listener (the
pool's reset does not unlisten). When LISTEN is not possible (database away,
pooler in transaction mode) waiters still poll, so a lost notification only
costs latency, never an event or a run.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg

from db.pool import CONNECTION_ERRORS

log = logging.getLogger(__name__)

RUN_EVENTS_CHANNEL = "navigator_run_events"
RUNS_CHANNEL = "navigator_runs"
LISTEN_PING_SECONDS = 5.0
LISTEN_BACKOFF_MAX_SECONDS = 5.0
# A pool this small keeps its connections for the work itself: executors only poll.
MIN_POOL_FOR_LISTEN = 3


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


async def listen_for_runs(pool: asyncpg.Pool, wake: Callable[[], None]) -> None:
    """Call `wake` whenever a run is queued or a running one ends (the next of its conversation
    may go), and once each time listening (re)starts. Runs until cancelled; reconnects with backoff."""
    if pool.get_max_size() < MIN_POOL_FOR_LISTEN:
        log.info("pool of %d connections: run executors poll instead of listening", pool.get_max_size())
        return
    delay = 0.1
    while True:
        con: Any = None
        try:
            con = await pool.acquire()
            lost = asyncio.Event()
            con.add_termination_listener(lambda _con, lost=lost: lost.set())
            await con.add_listener(RUNS_CHANNEL, lambda *_args: wake())
            delay = 0.1
            wake()  # anything queued while we were not listening
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), LISTEN_PING_SECONDS)
                except TimeoutError:
                    await con.execute("SELECT 1")  # notice a silently dead connection
        except CONNECTION_ERRORS + (asyncpg.PostgresError,) as exc:
            log.debug("run notifications unavailable (%s); polling until they are back", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, LISTEN_BACKOFF_MAX_SECONDS)
        finally:
            if con is not None:
                # Closed rather than unlistened: cheaper than a round trip, and safe when cancelled.
                # A connection the outage closed is already back in the pool, and terminate() on it
                # raises: that must not end the loop (the executor's /readyz counts it as dead).
                with suppress(Exception):
                    con.terminate()
                with suppress(Exception):
                    await pool.release(con)
