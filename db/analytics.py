"""`analytics_events`: an append-only record of product events (no secrets, no message text)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.connection import Connection

INSERT_EVENT = "INSERT INTO analytics_events (user_id, event, properties) VALUES ($1, $2, $3)"
COUNT_EVENTS_BY_NAME = "SELECT event, count(*) AS n FROM analytics_events GROUP BY event ORDER BY event"
# The account export, import and erasure (db/lifecycle). Events have no natural key: an import
# skips one that is already stored with the same time, name and properties.
EXPORT_EVENTS = """
SELECT event, properties, created_at FROM analytics_events WHERE user_id = $1 ORDER BY created_at, id
"""
IMPORT_EVENTS = """
INSERT INTO analytics_events (user_id, event, properties, created_at)
SELECT $1, r.event, r.properties, r.created_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(event text, properties jsonb, created_at timestamptz)
 WHERE NOT EXISTS (SELECT 1 FROM analytics_events a WHERE a.user_id = $1 AND a.event = r.event
                      AND a.created_at = r.created_at AND a.properties = r.properties)
 ORDER BY e.ord
"""
DELETE_USER_EVENTS = "DELETE FROM analytics_events WHERE user_id = $1"


class AnalyticsService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, event: str, user_id: uuid.UUID | None = None,
                     properties: dict[str, Any] | None = None, *, con: Connection | None = None) -> None:
        """`con`: inside the caller's transaction."""
        await (con or self.pool).execute(INSERT_EVENT, user_id, event, properties or {})

    async def counts(self) -> dict[str, int]:
        return {row["event"]: row["n"] for row in await self.pool.fetch(COUNT_EVENTS_BY_NAME)}
