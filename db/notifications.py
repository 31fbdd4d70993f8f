"""The person's in-app notifications (this module owns `notifications`): what their cases told
them, newest first, read or unread, with the state of each delivery (webhook, email).

Rows are written by the workflow step that decided them, in that step's transaction (the
trigger of migration `cases`), under a stable idempotency key; this module only reads them and
marks them read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from db.connection import as_uuid, command_rows
from db.errors import NotFound
from db.paging import MAX_PAGE_SIZE, Page, decode_cursor, encode_cursor
from db.runs.outbox import DeliveryView, deliveries_of

NOTIFICATION_COLUMNS = "id, case_id, idempotency_key, kind, title, body, data, created_at, read_at"

# Keyset pagination, newest first; $5: only unread ones.
_SELECT_NOTIFICATION_COLUMNS = "\nSELECT " + NOTIFICATION_COLUMNS
LIST_OWNED_NOTIFICATIONS = _SELECT_NOTIFICATION_COLUMNS + """
  FROM notifications
 WHERE user_id = $1
   AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
   AND (NOT $5::boolean OR read_at IS NULL)
 ORDER BY created_at DESC, id DESC
 LIMIT $4
"""
COUNT_UNREAD = "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL"
# $3: read (true) or unread again (false); reading keeps the first time it was read.
MARK_OWNED_NOTIFICATION = """
UPDATE notifications SET read_at = CASE WHEN $3 THEN coalesce(read_at, now()) END
 WHERE id = $1 AND user_id = $2
RETURNING """ + NOTIFICATION_COLUMNS + "\n"
MARK_ALL_READ = "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL"
# The account export and import (db/lifecycle). Imported before the case threads' projection, so
# the projection's trigger finds them stored and queues no delivery: nothing is sent twice.
EXPORT_NOTIFICATIONS = _SELECT_NOTIFICATION_COLUMNS + """
  FROM notifications WHERE user_id = $1 ORDER BY created_at, id
"""
IMPORT_NOTIFICATIONS = """
INSERT INTO notifications (user_id, id, case_id, idempotency_key, kind, title, body, data, created_at, read_at)
SELECT $1, r.id, r.case_id, r.idempotency_key, r.kind, r.title, r.body, r.data, r.created_at, r.read_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id uuid, case_id uuid, idempotency_key text, kind text, title text, body text,
                                     data jsonb, created_at timestamptz, read_at timestamptz)
 WHERE r.case_id IS NULL OR EXISTS (SELECT 1 FROM cases c WHERE c.id = r.case_id AND c.user_id = $1)
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class Notification:
    id: uuid.UUID
    case_id: uuid.UUID | None
    idempotency_key: str
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    deliveries: list[DeliveryView] = field(default_factory=list)

    @property
    def read(self) -> bool:
        return self.read_at is not None


def _to_notification(row: asyncpg.Record, deliveries: list[DeliveryView]) -> Notification:
    return Notification(**{key: row[key] for key in NOTIFICATION_COLUMNS.split(", ")}, deliveries=deliveries)


@dataclass(frozen=True)
class NotificationPage(Page):
    unread: int = 0


class NotificationService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def list_page(self, user_id: object, *, limit: int = 20, cursor: str | None = None,
                        unread_only: bool = False) -> NotificationPage:
        """Newest first (only unread ones with `unread_only`), each with its deliveries."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        uid = as_uuid(user_id, "user")
        after_created, after_id = decode_cursor(cursor) if cursor else (None, None)
        async with self.pool.acquire() as con, con.transaction(isolation="repeatable_read", readonly=True):
            rows = await con.fetch(LIST_OWNED_NOTIFICATIONS, uid, after_created, after_id, limit + 1, unread_only)
            more, rows = len(rows) > limit, rows[:limit]
            deliveries = await deliveries_of(con, [row["id"] for row in rows], uid)
            unread = await con.fetchval(COUNT_UNREAD, uid)
        items = [_to_notification(row, deliveries.get(row["id"], [])) for row in rows]
        return NotificationPage(items, encode_cursor(items[-1].created_at, items[-1].id) if more else None, unread)

    async def mark(self, notification_id: object, user_id: object, read: bool) -> Notification:
        uid = as_uuid(user_id, "user")
        row = await self.pool.fetchrow(MARK_OWNED_NOTIFICATION, as_uuid(notification_id, "notification"), uid, read)
        if row is None:
            raise NotFound("notification", notification_id)
        deliveries = await deliveries_of(self.pool, [row["id"]], uid)
        return _to_notification(row, deliveries[row["id"]])

    async def mark_all_read(self, user_id: object) -> int:
        status = await self.pool.execute(MARK_ALL_READ, as_uuid(user_id, "user"))
        return command_rows(status)
