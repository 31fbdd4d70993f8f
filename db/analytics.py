"""`analytics_events`: an append-only record of product events (no secrets, no message text)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.conversations import Connection

INSERT_EVENT = "INSERT INTO analytics_events (user_id, event, properties) VALUES ($1, $2, $3)"
COUNT_EVENTS_BY_NAME = "SELECT event, count(*) AS n FROM analytics_events GROUP BY event ORDER BY event"


class AnalyticsService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, event: str, user_id: uuid.UUID | None = None,
                     properties: dict[str, Any] | None = None, *, con: Connection | None = None) -> None:
        """`con`: inside the caller's transaction."""
        await (con or self.pool).execute(INSERT_EVENT, user_id, event, properties or {})

    async def counts(self) -> dict[str, int]:
        return {row["event"]: row["n"] for row in await self.pool.fetch(COUNT_EVENTS_BY_NAME)}
