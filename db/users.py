"""Accounts: the `users` table. Email is unique case-insensitively (and arrives
normalised: api/emails.py); the hash is opaque here (api/security.py makes and
checks it). `create_if_free` is registration's one statement: it creates the
account or names the one that holds the address, at the same cost either way."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from db.connection import Connection
from db.errors import Conflict, NotFound

USER_COLUMNS = "id, email, full_name, role, is_active, created_at"

INSERT_USER = """
INSERT INTO users (email, password_hash, full_name, role) VALUES ($1, $2, $3, $4)
RETURNING id, email, full_name, role, is_active, created_at
"""
# Either the new account (created) or the one that already holds the address (not created), in
# one round trip; nothing when a concurrent registration took the address after our snapshot.
INSERT_USER_IF_FREE = """
WITH created AS (
    INSERT INTO users (email, password_hash, full_name) VALUES ($1, $2, $3)
    ON CONFLICT ((lower(email))) DO NOTHING
    RETURNING id
)
SELECT id, true AS created FROM created
UNION ALL
SELECT id, false AS created FROM users WHERE lower(email) = lower($1) AND NOT EXISTS (SELECT 1 FROM created)
"""
SELECT_USER_BY_ID = """
SELECT id, email, full_name, role, is_active, created_at FROM users WHERE id = $1
"""
SELECT_CREDENTIALS_BY_EMAIL = """
SELECT id, email, full_name, role, is_active, created_at, password_hash FROM users WHERE lower(email) = lower($1)
"""
UPDATE_PASSWORD_HASH = """
UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 AND password_hash = $3
"""
PROMOTE_TO_ADMIN = """
UPDATE users SET role = 'admin', updated_at = now() WHERE lower(email) = lower($1)
RETURNING id, email, full_name, role, is_active, created_at
"""
COUNT_USERS_BY_ROLE = "SELECT role, count(*) AS n FROM users GROUP BY role"

# --- the account's export, import and erasure (db/lifecycle) ------------------------------
EXPORT_USER = """
SELECT id, email, full_name, role, is_active, created_at, updated_at, password_hash FROM users WHERE id = $1
"""
SELECT_USER_IDS = "SELECT id FROM users ORDER BY created_at, id"
SELECT_USER_ID_BY_EMAIL = "SELECT id FROM users WHERE lower(email) = lower($1)"
# An account moving in; an id or an email already taken leaves the stored account as it is.
IMPORT_USER = """
INSERT INTO users (id, email, password_hash, full_name, role, is_active, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT DO NOTHING
RETURNING id
"""
# Two imports of one account take turns (until their transactions end).
LOCK_USER_IMPORT = "SELECT pg_advisory_xact_lock(hashtextextended('import ' || $1::uuid::text, 0))"
# Last in the erasure's transaction: everything with a foreign key to the user goes with it.
DELETE_USER = "DELETE FROM users WHERE id = $1 RETURNING id"

ROLES = ("user", "admin")


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str
    full_name: str | None
    role: str
    is_active: bool
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Registration:
    """What `create_if_free` did: `created`, and the account's id (None if a concurrent one took it)."""

    user_id: uuid.UUID | None
    created: bool


@dataclass(frozen=True)
class Credentials:
    """A user and the stored password hash, for login only."""

    user: User
    password_hash: str


def to_user(row: Any) -> User:
    return User(id=row["id"], email=row["email"], full_name=row["full_name"], role=row["role"],
                is_active=row["is_active"], created_at=row["created_at"])


class UserService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, email: str, password_hash: str, full_name: str | None = None,
                     role: str = "user") -> User:
        """Conflict when the email (any case) is taken."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        try:
            row = await self.pool.fetchrow(INSERT_USER, email, password_hash, full_name, role)
        except asyncpg.UniqueViolationError:
            raise Conflict("an account with this email already exists", email) from None
        return to_user(row)

    async def create_if_free(self, email: str, password_hash: str, full_name: str | None = None, *,
                             con: Connection | None = None) -> Registration:
        """Create a `user` account unless the address (any case) has one; that one is left untouched."""
        row = await (con or self.pool).fetchrow(INSERT_USER_IF_FREE, email, password_hash, full_name)
        if row is None:
            return Registration(None, False)
        return Registration(row["id"], row["created"])

    async def get(self, user_id: uuid.UUID) -> User:
        row = await self.pool.fetchrow(SELECT_USER_BY_ID, user_id)
        if row is None:
            raise NotFound("user", user_id)
        return to_user(row)

    async def credentials(self, email: str) -> Credentials | None:
        row = await self.pool.fetchrow(SELECT_CREDENTIALS_BY_EMAIL, email)
        if row is None:
            return None
        return Credentials(to_user(row), row["password_hash"])

    async def replace_password_hash(self, user_id: uuid.UUID, old_hash: str, new_hash: str) -> bool:
        """Upgrade the hash only if it is still the one verified (a concurrent change wins)."""
        status = await self.pool.execute(UPDATE_PASSWORD_HASH, user_id, new_hash, old_hash)
        return bool(status.endswith(" 1"))

    async def promote_to_admin(self, email: str) -> User:
        row = await self.pool.fetchrow(PROMOTE_TO_ADMIN, email)
        if row is None:
            raise NotFound("user", email)
        return to_user(row)

    async def counts_by_role(self) -> dict[str, int]:
        rows = await self.pool.fetch(COUNT_USERS_BY_ROLE)
        return {role: 0 for role in ROLES} | {row["role"]: row["n"] for row in rows}
