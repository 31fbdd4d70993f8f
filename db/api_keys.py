"""Personal API keys: the `api_keys` table.

A key is a random string shown once, at creation; only its SHA-256 is stored
(a key has 256 bits of entropy, so a fast hash is as safe as a slow one and
costs nothing per request). A revoked key, or the key of a deleted user
(the row cascades), authenticates nothing. `last_used_at` is written at most
once a minute per key, so a busy program does not turn every request into a write.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from db.connection import as_uuid
from db.errors import NotFound

KEY_PREFIX = "nav_"
KEY_BYTES = 32
SHOWN_PREFIX_CHARS = 12
MAX_KEYS_PER_USER = 100

API_KEY_COLUMNS = "id, name, prefix, created_at, last_used_at"

INSERT_API_KEY = """
INSERT INTO api_keys (user_id, name, prefix, key_hash)
SELECT $1, $2, $3, $4
 WHERE (SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL) < $5
RETURNING id, name, prefix, created_at, last_used_at
"""
SELECT_ACTIVE_API_KEYS = """
SELECT id, name, prefix, created_at, last_used_at
  FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL
 ORDER BY created_at, id
"""
REVOKE_API_KEY = """
UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id
"""
# One round trip per request: the owner of an active key, touching last_used_at when stale.
AUTHENTICATE_API_KEY = """
WITH found AS (
    SELECT id, user_id, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
), touched AS (
    UPDATE api_keys k SET last_used_at = now()
      FROM found f
     WHERE k.id = f.id AND (f.last_used_at IS NULL OR f.last_used_at < now() - interval '60 seconds')
)
SELECT user_id FROM found
"""


# The account export and import (db/lifecycle). A key moves only with its hash (an export made
# --with-secrets): without it, it could authenticate nothing.
EXPORT_API_KEYS = """
SELECT id, name, prefix, created_at, last_used_at, revoked_at, key_hash
  FROM api_keys WHERE user_id = $1 ORDER BY created_at, id
"""
IMPORT_API_KEYS = """
INSERT INTO api_keys (user_id, id, name, prefix, key_hash, created_at, last_used_at, revoked_at)
SELECT $1, r.id, r.name, r.prefix, decode(r.key_hash, 'base64'), r.created_at, r.last_used_at, r.revoked_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id uuid, name text, prefix text, key_hash text, created_at timestamptz,
                                     last_used_at timestamptz, revoked_at timestamptz)
 WHERE r.key_hash IS NOT NULL
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""

class TooManyKeys(ValueError):
    """The user already holds MAX_KEYS_PER_USER active keys (answered 422)."""


@dataclass(frozen=True)
class ApiKey:
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class IssuedApiKey:
    """A new key with its secret: the only time the secret exists outside the caller's hands."""

    key: ApiKey
    secret: str


def hash_api_key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def _to_key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(**{name: row[name] for name in API_KEY_COLUMNS.split(", ")})


class ApiKeyService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, user_id: object, name: str) -> IssuedApiKey:
        secret = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
        row = await self.pool.fetchrow(INSERT_API_KEY, as_uuid(user_id, "user"), name,
                                       secret[:SHOWN_PREFIX_CHARS], hash_api_key(secret), MAX_KEYS_PER_USER)
        if row is None:
            raise TooManyKeys(f"at most {MAX_KEYS_PER_USER} active API keys per account; revoke one first")
        return IssuedApiKey(_to_key(row), secret)

    async def list(self, user_id: object) -> list[ApiKey]:
        return [_to_key(row) for row in await self.pool.fetch(SELECT_ACTIVE_API_KEYS, as_uuid(user_id, "user"))]

    async def revoke(self, key_id: object, user_id: object) -> None:
        """NotFound for a key that is not the user's, or already revoked."""
        if await self.pool.fetchval(REVOKE_API_KEY, as_uuid(key_id, "API key"), as_uuid(user_id, "user")) is None:
            raise NotFound("API key", key_id)

    async def user_of(self, secret: str) -> uuid.UUID | None:
        """The owner of an active key, or None (unknown, revoked, or its user deleted)."""
        if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            return None
        user_id: uuid.UUID | None = await self.pool.fetchval(AUTHENTICATE_API_KEY, hash_api_key(secret))
        return user_id
