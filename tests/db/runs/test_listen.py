"""The executors' LISTEN loop outlives the connection it lost, even when closing it again fails."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from db.runs.notify import listen_for_runs


class AlreadyReleased:
    """A pooled connection as asyncpg can leave it after an outage closed it: `terminate()` then
    raises (the proxy is already detached from its connection)."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def terminate(self) -> None:
        if not self._con.is_closed():
            self._con.terminate()
            return
        raise asyncpg.InterfaceError("cannot call Connection.terminate(): "
                                     "connection has been released back to the pool")


class ReleasedOnLoss:
    """The pool, handing out `AlreadyReleased` connections (a fault by proxy, on a real pool)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.handed: list[Any] = []

    def get_max_size(self) -> int:
        return self._pool.get_max_size()

    async def acquire(self) -> AlreadyReleased:
        con = await self._pool.acquire()
        self.handed.append(con)
        return AlreadyReleased(con)

    async def release(self, con: AlreadyReleased) -> None:
        await self._pool.release(con._con)


async def test_the_loop_listens_again_after_its_connection_was_killed(pool: asyncpg.Pool) -> None:
    flaky = ReleasedOnLoss(pool)
    wakes = asyncio.Queue[None]()
    listening = asyncio.create_task(listen_for_runs(flaky, lambda: wakes.put_nowait(None)))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(wakes.get(), 10)  # listening: it wakes the claim loop once
        backend = flaky.handed[-1].get_server_pid()
        assert await pool.fetchval("SELECT pg_terminate_backend($1)", backend)
        await asyncio.wait_for(wakes.get(), 10)  # listening again, on a new connection
        assert not listening.done() and len(flaky.handed) == 2
        assert flaky.handed[-1].get_server_pid() != backend
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
