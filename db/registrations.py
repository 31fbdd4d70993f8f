"""Registrations confirmed by email: the `pending_registrations` table.

Used when the service sends email. Registering writes a pending row (the
password hash and a SHA-256 of a random token; the token goes out in a link)
unless the address has an account, in one statement either way. Opening the
link creates the account from that row, with that row's password, and drops
every pending row for the address: whoever registers an address first cannot
keep its owner out, since only the mailbox's owner can open the link.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

from db.connection import Connection, command_rows
from db.errors import Conflict, DatabaseError
from db.settings import Settings
from db.users import INSERT_USER_IF_FREE

INSERT_PENDING_IF_FREE = """
WITH taken AS (
    SELECT id FROM users WHERE lower(email) = lower($1)
), pending AS (
    INSERT INTO pending_registrations (email, password_hash, full_name, token_hash, expires_at)
    SELECT $1, $2, $3, $4, now() + make_interval(hours => $5)
     WHERE NOT EXISTS (SELECT 1 FROM taken)
    RETURNING id
)
SELECT (SELECT id FROM taken LIMIT 1) AS taken_by, (SELECT id FROM pending) AS pending_id
"""
SELECT_PENDING_FOR_UPDATE = """
SELECT id, email, password_hash, full_name FROM pending_registrations
 WHERE token_hash = $1 AND expires_at > now()
   FOR UPDATE
"""
DELETE_PENDING_FOR_EMAIL = "DELETE FROM pending_registrations WHERE lower(email) = lower($1)"
DELETE_EXPIRED_PENDING = "DELETE FROM pending_registrations WHERE expires_at < now()"

TOKEN_BYTES = 32


class InvalidConfirmation(DatabaseError):
    """The link is unknown, used or expired (the API answers 404)."""


@dataclass(frozen=True)
class PendingOutcome:
    """`token` to mail when the address is free; `taken_by` the account that holds it otherwise."""

    token: str | None
    taken_by: uuid.UUID | None


@dataclass(frozen=True)
class Confirmed:
    user_id: uuid.UUID
    email: str


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class RegistrationService:
    def __init__(self, pool: asyncpg.Pool, *, confirm_hours: int = 24) -> None:
        self.pool = pool
        self.confirm_hours = confirm_hours

    async def start(self, email: str, password_hash: str, full_name: str | None, *,
                    con: Connection | None = None) -> PendingOutcome:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        row = await (con or self.pool).fetchrow(INSERT_PENDING_IF_FREE, email, password_hash, full_name,
                                                hash_token(token), self.confirm_hours)
        assert row is not None
        return PendingOutcome(token if row["pending_id"] is not None else None, row["taken_by"])

    async def confirm(self, token: str) -> Confirmed:
        """Create the account of the link's registration; InvalidConfirmation when there is none, Conflict when
        another link for the address was opened first."""
        async with self.pool.acquire() as con, con.transaction():
            pending = await con.fetchrow(SELECT_PENDING_FOR_UPDATE, hash_token(token))
            if pending is None:
                raise InvalidConfirmation("this confirmation link is invalid, used or expired; "
                                          "register again, or sign in if you already confirmed")
            created = await con.fetchrow(INSERT_USER_IF_FREE, pending["email"], pending["password_hash"],
                                         pending["full_name"])
            await con.execute(DELETE_PENDING_FOR_EMAIL, pending["email"])
        if created is None or not created["created"]:
            # Another link for the address was opened first (committed above: every link is spent).
            raise Conflict("this address already has an account: sign in", pending["email"])
        return Confirmed(created["id"], pending["email"])


async def purge_expired_registrations(con: Connection, settings: Settings) -> int:
    """A retention purge: registrations whose link expired unopened; rows deleted."""
    return command_rows(await con.execute(DELETE_EXPIRED_PENDING))
