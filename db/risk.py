"""Urgent-risk detections (emergency, self-harm, danger) recorded by the guard.

Owner of `risk_detections`. Recording is idempotent per (conversation,
message, category), so a guard step replayed after a crash does not insert twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

INSERT_RISK_DETECTION = """
INSERT INTO risk_detections (conversation_id, user_id, message_id, category, severity, excerpt)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (conversation_id, message_id, category) DO NOTHING
"""
# Detections quote the person's words: they go with their conversations (account deletion; and
# a fragment of the expiry cleanup's statement, for its batch `expired (id)`).
DELETE_RISKS_OF_THREADS = "DELETE FROM risk_detections WHERE conversation_id = ANY($1::text[])"
DELETE_RISKS_OF_EXPIRED = """,
expired_risks AS (DELETE FROM risk_detections WHERE conversation_id = ANY (ARRAY(SELECT id::text FROM expired)))"""
SELECT_RISK_DETECTIONS = """
SELECT id, conversation_id, user_id, message_id, category, severity, excerpt, detected_at
FROM risk_detections WHERE conversation_id = $1 ORDER BY id
"""
# The account export, import and erasure (db/lifecycle); $1 the user, $2 the conversations' ids as text.
EXPORT_RISKS = """
SELECT conversation_id, message_id, category, severity, excerpt, detected_at
  FROM risk_detections WHERE conversation_id = ANY($2::text[]) AND (user_id = $1 OR user_id IS NULL)
 ORDER BY detected_at, conversation_id, message_id, category
"""
IMPORT_RISKS = """
INSERT INTO risk_detections (user_id, conversation_id, message_id, category, severity, excerpt, detected_at)
SELECT $1, r.conversation_id, r.message_id, r.category, r.severity, r.excerpt, r.detected_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(conversation_id text, message_id text, category text, severity text, excerpt text,
                                     detected_at timestamptz)
 ORDER BY e.ord
ON CONFLICT (conversation_id, message_id, category) DO NOTHING
"""
DELETE_USER_RISKS = "DELETE FROM risk_detections WHERE user_id = $1"


@dataclass(frozen=True)
class RiskDetection:
    id: int
    conversation_id: str
    user_id: uuid.UUID | None
    message_id: str
    category: str
    severity: str
    excerpt: str
    detected_at: datetime


def _user_uuid(user_id: str | uuid.UUID | None) -> uuid.UUID | None:
    if user_id is None or isinstance(user_id, uuid.UUID):
        return user_id
    try:
        return uuid.UUID(str(user_id))
    except ValueError:
        raise ValueError("user_id must be a UUID") from None


async def record_risk(con: asyncpg.Connection | asyncpg.Pool, *, conversation_id: str,
                      user_id: str | uuid.UUID | None, message_id: str, category: str, severity: str,
                      excerpt: str) -> bool:
    """True when a new row was written, False when this detection was already recorded."""
    status = await con.execute(INSERT_RISK_DETECTION, conversation_id, _user_uuid(user_id), message_id,
                               category, severity, excerpt)
    return status.endswith(" 1")


async def list_risks(con: asyncpg.Connection | asyncpg.Pool, conversation_id: str) -> list[RiskDetection]:
    return [RiskDetection(**dict(row)) for row in await con.fetch(SELECT_RISK_DETECTIONS, conversation_id)]


class RiskLog:
    """The agents' risk-recorder port (`agents.ports.RiskRecorder`) on the pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def __call__(self, *, conversation_id: str, user_id: str | None, message_id: str, category: str,
                       severity: str, excerpt: str) -> None:
        await record_risk(self.pool, conversation_id=conversation_id, user_id=user_id, message_id=message_id,
                          category=category, severity=severity, excerpt=excerpt)
