"""The audit trail: `audit_events`, an append-only record of security events.

Who signed in or failed to, a refresh token replayed, API keys created and
revoked, exports, account deletions, what administrators did: each with the
time, whom it concerns (`user_id`), who acted when that was someone else
(`actor_id`, an administrator), the client's address and the request id. Never a
password, token, key or message text: `details` holds ids and short labels.

Rows cannot be changed or deleted (a trigger refuses), except by
`purge_audit_events`, which declares AUDIT_RETENTION_DAYS for its transaction and
deletes what is older.
Rows have no foreign key to `users`: the trail outlives a deleted account.
Administrators read it newest first with a keyset cursor.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from db.connection import Connection, command_rows
from db.settings import Settings

INSERT_AUDIT_EVENT = """
INSERT INTO audit_events (event, user_id, actor_id, client_address, request_id, details)
VALUES ($1, $2, $3, $4::inet, $5, $6)
"""
# Newest first; the cursor is the last row's id (ids grow with time). Filters are optional ($3, $4).
SELECT_AUDIT_PAGE = """
SELECT id, created_at, event, user_id, actor_id, client_address, request_id, details FROM audit_events
 WHERE ($1::bigint IS NULL OR id < $1)
   AND ($3::text IS NULL OR event = $3)
   AND ($4::uuid IS NULL OR user_id = $4 OR actor_id = $4)
 ORDER BY id DESC
 LIMIT $2
"""
# Transaction-local: the admin policy of audit_events reads it (once the service connects as a
# role that RLS binds); on the owner's connection it changes nothing.
DECLARE_ADMIN_READER = "SELECT set_config('app.user_role', 'admin', true)"
DECLARE_RETENTION = "SELECT set_config('app.audit_retention_days', $1::int::text, true)"
DELETE_EXPIRED_AUDIT_EVENTS = "DELETE FROM audit_events WHERE created_at < now() - make_interval(days => $1)"

# The events this service records. Part of the contract: readers filter on these names.
AuditEventName = Literal[
    "auth.registered",          # an account was created (or confirmed by email)
    "auth.register_taken",      # someone registered an address that has an account (it is untouched)
    "auth.registration_pending",  # a confirmation link was emailed to a free address (no account yet)
    "auth.login",               # a sign-in succeeded (details: via form/json)
    "auth.login_failed",        # wrong password or unknown address (user_id when the account exists)
    "auth.logout",
    "auth.refresh_reuse",       # a spent refresh token came back: its session was revoked
    "api_key.created",
    "api_key.revoked",
    "account.exported",         # a person's data left the service (GET /me/export, navigator export)
    "account.deleted",          # an account and its data were deleted
    "admin.created",            # navigator users create-admin
    "admin.promoted",
    "admin.audit_viewed",       # an administrator read this trail
]
EVENT_NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
MAX_PAGE = 200


@dataclass(frozen=True)
class AuditEvent:
    id: int
    created_at: datetime
    event: str
    user_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    client_address: str | None
    request_id: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    next_cursor: str | None


def to_event(row: asyncpg.Record) -> AuditEvent:
    address = row["client_address"]
    return AuditEvent(id=row["id"], created_at=row["created_at"], event=row["event"], user_id=row["user_id"],
                      actor_id=row["actor_id"], client_address=str(address) if address is not None else None,
                      request_id=row["request_id"], details=row["details"])


def storable_address(address: str | None) -> str | None:
    """An address the inet column takes, or None (a test transport's "testclient", say)."""
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class AuditLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, event: AuditEventName, *, user_id: uuid.UUID | None = None,
                     actor_id: uuid.UUID | None = None, address: str | None = None,
                     request_id: str | None = None, details: dict[str, Any] | None = None,
                     con: Connection | None = None) -> None:
        """Append one event. Pass `con` to write it in the caller's transaction (it then commits or
        rolls back with what it records)."""
        if not EVENT_NAME.match(event):
            raise ValueError(f"invalid audit event name {event!r}")
        target = con if con is not None else self.pool
        await target.execute(INSERT_AUDIT_EVENT, event, user_id, actor_id, storable_address(address),
                             request_id[:64] if request_id else None, details or {})

    async def page(self, *, limit: int = 50, cursor: str | None = None, event: str | None = None,
                   user_id: uuid.UUID | None = None) -> AuditPage:
        """Newest first, for administrators; ValueError on a bad cursor or limit."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
        before = decode_cursor(cursor) if cursor else None
        async with self.pool.acquire() as con, con.transaction():
            await con.execute(DECLARE_ADMIN_READER)
            rows = await con.fetch(SELECT_AUDIT_PAGE, before, limit + 1, event, user_id)
        items = [to_event(row) for row in rows[:limit]]
        return AuditPage(items, str(items[-1].id) if len(rows) > limit else None)


async def purge_audit_events(con: Connection, settings: Settings) -> int:
    """A retention purge, inside the caller's transaction: events older than AUDIT_RETENTION_DAYS; rows deleted."""
    await con.execute(DECLARE_RETENTION, settings.audit_retention_days)
    return command_rows(await con.execute(DELETE_EXPIRED_AUDIT_EVENTS, settings.audit_retention_days))


def decode_cursor(cursor: str) -> int:
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValueError("invalid cursor")
    return int(cursor)
