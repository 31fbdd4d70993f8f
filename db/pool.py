"""The one asyncpg pool factory every part of the service uses."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from db.embedded import start_embedded
from db.errors import Unavailable
from db.settings import Settings

# What asyncpg and the OS raise when the server is down, refusing, or gone mid-query.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)
# The server answered but could not do it now: full (`max_connections`, memory, disk), a
# transaction that lost a race (serialization failure, deadlock), or a statement cancelled.
# Retrying the same work later may succeed; nothing about the work itself is wrong.
BUSY_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.InsufficientResourcesError,
    asyncpg.TransactionRollbackError,
    asyncpg.QueryCanceledError,
)


def resolve_dsn(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server's DSN (starting it when needed)."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return start_embedded(settings.data_dir)


def redact_dsn(dsn: str) -> str:
    """The DSN with any password removed, safe for messages and logs."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def describe_connection_error(exc: BaseException) -> str:
    """A one-line reason without the DSN (which may hold a password)."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        return "authentication failed"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return "database does not exist"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text


async def _init_connection(con: asyncpg.Connection) -> None:
    # jsonb <-> Python objects, so services pass dicts, not strings.
    await con.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await con.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset_connection(con: asyncpg.Connection) -> None:
    """Release without a round trip: asyncpg's default reset sends
    `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every
    release. Our code holds no session state on pooled connections (advisory
    locks and LISTEN use dedicated connections), so only an open transaction
    left by a cancelled task needs undoing."""
    if con.is_in_transaction():
        await con.execute("ROLLBACK")


async def create_pool(
    settings: Settings,
    dsn: str | None = None,
    *,
    min_size: int | None = None,
    max_size: int | None = None,
    connection_class: type[asyncpg.Connection] = asyncpg.Connection,
    setting: str = "DATABASE_URL",
) -> asyncpg.Pool:
    """Open the pool or raise `Unavailable` with a one-line reason naming DATABASE_URL.

    Every statement on it gives up after DB_STATEMENT_TIMEOUT_SECONDS (asyncpg cancels it on
    the server and raises TimeoutError). `connection_class` lets a benchmark count round trips;
    `setting` names the variable the DSN came from in the error."""
    dsn = dsn or resolve_dsn(settings)
    max_size = max_size if max_size is not None else settings.db_pool_max_size
    min_size = min(min_size if min_size is not None else settings.db_pool_min_size, max_size)
    try:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            statement_cache_size=settings.db_statement_cache_size,
            timeout=settings.db_connect_timeout_seconds,
            command_timeout=settings.db_statement_timeout_seconds,
            init=_init_connection,
            reset=_reset_connection,
            connection_class=connection_class,
        )
    except CONNECTION_ERRORS + (asyncpg.PostgresError,) as exc:
        raise Unavailable(f"cannot connect to the database ({setting}): "
                          f"{describe_connection_error(exc)}") from None
    assert pool is not None
    return pool


async def connect(settings: Settings, dsn: str | None = None, **kwargs: Any) -> asyncpg.Connection:
    """A single dedicated connection (advisory locks, LISTEN) with the pool's codecs."""
    dsn = dsn or resolve_dsn(settings)
    try:
        con = await asyncpg.connect(
            dsn,
            statement_cache_size=settings.db_statement_cache_size,
            timeout=settings.db_connect_timeout_seconds,
            **kwargs,
        )
    except CONNECTION_ERRORS + (asyncpg.PostgresError,) as exc:
        raise Unavailable(f"cannot connect to the database (DATABASE_URL): "
                          f"{describe_connection_error(exc)}") from None
    await _init_connection(con)
    return con
