"""Retention purges besides expired conversations: rows that are only kept for a while.

Each purge is a named coroutine `(connection, settings) -> rows deleted` that deletes what is past
its retention in one statement on the connection it is given (the cleanup job runs each one in a
transaction of its own, under the cleanup lock, and rolls it back for a dry run). To add one (the
audit trail's `AUDIT_RETENTION_DAYS`, say), write the statement in the module that owns the table
and append `("audit_events", purge_audit_events)` to `RETENTION_PURGES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from db.conversations import Connection
from db.settings import Settings
from db.throttle import DEFAULT_WINDOW_SECONDS, DELETE_STALE_WINDOWS
from db.tokens import DELETE_EXPIRED_REFRESH_TOKENS, DELETE_EXPIRED_REVOCATIONS

Purge = Callable[[Connection, Settings], Awaitable[int]]


def deleted_rows(status: str) -> int:
    """The row count of a `DELETE n` command status."""
    return int(status.rsplit(" ", 1)[-1]) if status.startswith("DELETE") else 0


async def purge_refresh_tokens(con: Connection, settings: Settings) -> int:
    """Refresh tokens a day past their expiry (a replay of one is refused the same as unknown)."""
    return deleted_rows(await con.execute(DELETE_EXPIRED_REFRESH_TOKENS))


async def purge_revoked_access_tokens(con: Connection, settings: Settings) -> int:
    """Logged-out access tokens that have expired anyway."""
    return deleted_rows(await con.execute(DELETE_EXPIRED_REVOCATIONS))


async def purge_login_windows(con: Connection, settings: Settings) -> int:
    """Login-attempt counters whose window has ended."""
    return deleted_rows(await con.execute(DELETE_STALE_WINDOWS, DEFAULT_WINDOW_SECONDS))


RETENTION_PURGES: list[tuple[str, Purge]] = [
    ("refresh_tokens", purge_refresh_tokens),
    ("revoked_access_tokens", purge_revoked_access_tokens),
    ("login_throttle", purge_login_windows),
]
