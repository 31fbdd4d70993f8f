"""Retention purges besides expired conversations: rows that are only kept for a while.

Each purge is a named coroutine `(connection, settings) -> rows deleted` that deletes what is past
its retention in one statement on the connection it is given (the cleanup job runs each one in a
transaction of its own, under the cleanup lock, and rolls it back for a dry run). To add one, write
the statement in the module that owns the table and append `(table, purge)` to `RETENTION_PURGES`.
An API process that runs no cleanup schedule (`--no-workers`, or CLEANUP_INTERVAL_SECONDS=0) runs
the account purges in its hourly housekeeping instead (api/app.py); every purge is idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from db.audit import purge_audit_events
from db.connection import Connection, command_rows
from db.registrations import purge_expired_registrations
from db.settings import Settings
from db.throttle import purge_stale_buckets
from db.tokens import DELETE_EXPIRED_REFRESH_TOKENS, DELETE_EXPIRED_REVOCATIONS

Purge = Callable[[Connection, Settings], Awaitable[int]]


async def purge_refresh_tokens(con: Connection, settings: Settings) -> int:
    """Refresh tokens a day past their expiry (a replay of one is refused the same as unknown)."""
    return command_rows(await con.execute(DELETE_EXPIRED_REFRESH_TOKENS))


async def purge_revoked_access_tokens(con: Connection, settings: Settings) -> int:
    """Logged-out access tokens that have expired anyway."""
    return command_rows(await con.execute(DELETE_EXPIRED_REVOCATIONS))


RETENTION_PURGES: list[tuple[str, Purge]] = [
    ("refresh_tokens", purge_refresh_tokens),
    ("revoked_access_tokens", purge_revoked_access_tokens),
    ("auth_throttle", purge_stale_buckets),
    ("pending_registrations", purge_expired_registrations),
    ("audit_events", purge_audit_events),
]
