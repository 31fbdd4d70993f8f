"""Row-level security from the data layer's side: whose rows a request may touch.

Every user-owned table has a policy keyed on the transaction-local setting
`app.user_id` (migration row_level_security). The API marks the acting user
once per request (`set_acting_user`, when it has authenticated the caller;
`acting_as` for a block in scripts and tests); `UserScopedPool`
wraps the pool that connects as the restricted service role and opens every
transaction with `set_config('app.user_id', $1, true)`, so the setting lives
exactly as long as the transaction (`SET LOCAL` semantics) and works behind a
transaction-mode pooler, where a session `SET` would leak to the next client.

No acting user means no rows: the setting is then empty and every policy is
false (fail closed). Workers, timers, the outbox, cleanup, migrations and admin
totals use the owner's pool, which the policies do not restrict.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, cast

import asyncpg

# One round trip per transaction, right after BEGIN: the setting is transaction-local (third argument).
SET_ACTING_USER = "SELECT set_config('app.user_id', $1, true)"

# Public for the one place that brackets a whole request (api/middleware.py RequestContext).
ACTING_USER: ContextVar[uuid.UUID | None] = ContextVar("navigator_acting_user", default=None)


def set_acting_user(user_id: uuid.UUID | None) -> None:
    """Mark the acting user for the rest of the current task (the API does this once per request,
    when it has authenticated the caller; tasks started afterwards inherit it)."""
    ACTING_USER.set(user_id)


@contextmanager
def acting_as(user_id: uuid.UUID | None) -> Iterator[None]:
    """The acting user for a block (scripts, tests), restored afterwards."""
    token = ACTING_USER.set(user_id)
    try:
        yield
    finally:
        ACTING_USER.reset(token)


def _setting() -> str:
    user = ACTING_USER.get()
    return "" if user is None else str(user)


class _ScopedTransaction:
    """`con.transaction()` that, when it is the outermost one, sets `app.user_id` right after BEGIN."""

    def __init__(self, con: Any, kwargs: dict[str, Any]) -> None:
        self._con = con
        self._outermost = not con.is_in_transaction()
        self._transaction = con.transaction(**kwargs)

    async def __aenter__(self) -> None:
        await self._transaction.__aenter__()
        if self._outermost:
            try:
                await self._con.execute(SET_ACTING_USER, _setting())
            except BaseException as exc:
                await self._transaction.__aexit__(type(exc), exc, exc.__traceback__)
                raise

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._transaction.__aexit__(*exc_info)


class ScopedConnection:
    """A pooled connection whose every statement runs in a transaction carrying `app.user_id`.

    Inside `transaction()` statements go straight through; a statement outside one gets a
    transaction of its own. Everything else is the connection's own."""

    def __init__(self, con: Any) -> None:  # a pooled connection (asyncpg's PoolConnectionProxy)
        self._con = con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def transaction(self, **kwargs: Any) -> _ScopedTransaction:
        return _ScopedTransaction(self._con, kwargs)

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        call = getattr(self._con, method)
        if self._con.is_in_transaction():
            return await call(*args, **kwargs)
        async with self.transaction():
            return await call(*args, **kwargs)

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> list[asyncpg.Record]:
        result: list[asyncpg.Record] = await self._run("fetch", query, *args, **kwargs)
        return result

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> asyncpg.Record | None:
        result: asyncpg.Record | None = await self._run("fetchrow", query, *args, **kwargs)
        return result

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run("fetchval", query, *args, **kwargs)

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> str:
        result: str = await self._run("execute", query, *args, **kwargs)
        return result

    async def executemany(self, command: str, args: Any, **kwargs: Any) -> None:
        await self._run("executemany", command, args, **kwargs)

    async def fetchmany(self, query: str, args: Any, **kwargs: Any) -> list[asyncpg.Record]:
        result: list[asyncpg.Record] = await self._run("fetchmany", query, args, **kwargs)
        return result


class UserScopedPool:
    """The request handlers' pool: the restricted service role's connections, each transaction
    opened for the acting user. Same methods as `asyncpg.Pool` for what the services use."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[ScopedConnection]:
        async with self.pool.acquire() as con:
            yield ScopedConnection(con)

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> list[asyncpg.Record]:
        async with self.acquire() as con:
            return await con.fetch(query, *args, **kwargs)

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> asyncpg.Record | None:
        async with self.acquire() as con:
            return await con.fetchrow(query, *args, **kwargs)

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        async with self.acquire() as con:
            return await con.fetchval(query, *args, **kwargs)

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> str:
        async with self.acquire() as con:
            return await con.execute(query, *args, **kwargs)

    async def executemany(self, command: str, args: Any, **kwargs: Any) -> None:
        async with self.acquire() as con:
            await con.executemany(command, args, **kwargs)

    async def fetchmany(self, query: str, args: Any, **kwargs: Any) -> list[asyncpg.Record]:
        async with self.acquire() as con:
            return await con.fetchmany(query, args, **kwargs)


def scoped(pool: asyncpg.Pool) -> asyncpg.Pool:
    """`pool` as the request handlers' pool (typed as a pool: the services take one)."""
    return cast(asyncpg.Pool, UserScopedPool(pool))


def raw_pool(pool: asyncpg.Pool) -> asyncpg.Pool:
    """The plain pool under a scoped one: for what holds a connection without touching rows (LISTEN)."""
    return pool.pool if isinstance(pool, UserScopedPool) else pool
