"""Refresh tokens and revoked access tokens.

Refresh tokens are opaque random strings; only their SHA-256 is stored. Each
login starts a family; `rotate` spends a token and issues its successor in one
transaction. Presenting a spent (rotated or revoked) token is reuse: the whole
family is revoked, so a stolen token stops working for the thief and the
victim alike. Two concurrent rotations of one token serialize on the row lock:
the first succeeds and the others are refused, but a token spent less than
REUSE_GRACE_SECONDS ago is taken for a client racing itself (two tabs
refreshing at once), not for theft: refused without revoking the family, so
the winner's new tokens keep working. A replay after the grace is reuse.

Logout writes the access token's `jti` to `revoked_access_tokens` (checked on
every request, so every process agrees) until the token would have expired.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from db.errors import DatabaseError

INSERT_REFRESH_TOKEN = """
INSERT INTO refresh_tokens (user_id, family_id, parent_id, token_hash, expires_at)
VALUES ($1, $2, $3, $4, now() + make_interval(days => $5))
RETURNING expires_at
"""
SELECT_REFRESH_TOKEN_FOR_UPDATE = """
SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at, expires_at <= now() AS expired,
       rotated_at > clock_timestamp() - make_interval(secs => $2) AS rotated_just_now
  FROM refresh_tokens WHERE token_hash = $1
   FOR UPDATE
"""
MARK_REFRESH_TOKEN_ROTATED = "UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1"
REVOKE_FAMILY = """
UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL
"""
REVOKE_OWNED_FAMILY_OF_TOKEN = """
UPDATE refresh_tokens SET revoked_at = now()
 WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2)
   AND revoked_at IS NULL
"""
REVOKE_OWNED_FAMILY = """
UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL
"""
INSERT_REVOKED_ACCESS_TOKEN = """
INSERT INTO revoked_access_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (jti) DO NOTHING
"""
# One round trip per request: the jti was logged out, or its session family was revoked.
SELECT_ACCESS_REVOKED = """
SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $1)
    OR EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = $2 AND revoked_at IS NOT NULL)
"""
DELETE_EXPIRED_REVOCATIONS = "DELETE FROM revoked_access_tokens WHERE expires_at < now()"
DELETE_EXPIRED_REFRESH_TOKENS = "DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'"

TOKEN_BYTES = 32
REUSE_GRACE_SECONDS = 5.0


class InvalidToken(DatabaseError):
    """A refresh token that is unknown, expired, revoked or reused (the API answers 401)."""


class TokenReused(InvalidToken):
    """A spent refresh token came back; its session family is revoked (an audit event)."""

    def __init__(self, user_id: uuid.UUID, family_id: uuid.UUID) -> None:
        super().__init__(f"refresh token reused; session family {family_id} revoked")
        self.user_id = user_id
        self.family_id = family_id


@dataclass(frozen=True)
class IssuedRefreshToken:
    token: str
    user_id: uuid.UUID
    family_id: uuid.UUID
    expires_at: datetime


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenService:
    def __init__(self, pool: asyncpg.Pool, *, refresh_days: int = 14,
                 reuse_grace_seconds: float = REUSE_GRACE_SECONDS) -> None:
        self.pool = pool
        self.refresh_days = refresh_days
        self.reuse_grace_seconds = reuse_grace_seconds

    async def issue(self, user_id: uuid.UUID) -> IssuedRefreshToken:
        """Start a new family (a login)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        family_id = uuid.uuid4()
        expires_at = await self.pool.fetchval(INSERT_REFRESH_TOKEN, user_id, family_id, None,
                                              hash_token(token), self.refresh_days)
        return IssuedRefreshToken(token, user_id, family_id, expires_at)

    async def rotate(self, token: str) -> IssuedRefreshToken:
        """Spend `token` and return its successor; InvalidToken (after revoking the family on reuse)."""
        reused: TokenReused | None = None
        async with self.pool.acquire() as con, con.transaction():
            row = await con.fetchrow(SELECT_REFRESH_TOKEN_FOR_UPDATE, hash_token(token), self.reuse_grace_seconds)
            if row is None or row["expired"]:
                raise InvalidToken("refresh token is invalid or expired")
            if row["revoked_at"] is None and row["rotated_just_now"]:
                raise InvalidToken("refresh token was just used by a concurrent refresh")
            if row["rotated_at"] is not None or row["revoked_at"] is not None:
                await con.execute(REVOKE_FAMILY, row["family_id"])
                reused = TokenReused(row["user_id"], row["family_id"])
            else:
                successor = secrets.token_urlsafe(TOKEN_BYTES)
                await con.execute(MARK_REFRESH_TOKEN_ROTATED, row["id"])
                expires_at = await con.fetchval(INSERT_REFRESH_TOKEN, row["user_id"], row["family_id"], row["id"],
                                                hash_token(successor), self.refresh_days)
                return IssuedRefreshToken(successor, row["user_id"], row["family_id"], expires_at)
        # Outside the transaction, so the revocation is committed before we refuse.
        assert reused is not None
        raise reused

    async def logout(self, user_id: uuid.UUID, jti: str, access_expires_at: datetime,
                     family_id: uuid.UUID | None, refresh_token: str | None = None) -> None:
        """Revoke the access token's jti and its session family (and the given refresh token's family)."""
        async with self.pool.acquire() as con, con.transaction():
            await con.execute(INSERT_REVOKED_ACCESS_TOKEN, jti, user_id, access_expires_at)
            if family_id is not None:
                await con.execute(REVOKE_OWNED_FAMILY, family_id, user_id)
            if refresh_token is not None:
                await con.execute(REVOKE_OWNED_FAMILY_OF_TOKEN, hash_token(refresh_token), user_id)

    async def is_access_revoked(self, jti: str, family_id: uuid.UUID | None) -> bool:
        return bool(await self.pool.fetchval(SELECT_ACCESS_REVOKED, jti, family_id))
