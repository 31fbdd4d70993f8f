"""Login throttling per account, in the database so every process shares it.

Each login attempt for an account (the lower-cased email, known or not, so the
answer does not reveal which emails exist) is counted BEFORE the password is
checked, in one atomic upsert: concurrent guesses cannot slip past the limit.
A successful login clears the count. The window is fixed and starts at the
first attempt; past `max_attempts` in it the caller is refused until it ends.
"""

from __future__ import annotations

import math

import asyncpg

from db.errors import DatabaseError

# Old values on the right of SET: both CASEs see the row as it was.
COUNT_LOGIN_ATTEMPT = """
INSERT INTO login_throttle AS t (account_key, attempts, window_started_at) VALUES ($1, 1, now())
ON CONFLICT (account_key) DO UPDATE SET
    attempts = CASE WHEN t.window_started_at <= now() - make_interval(secs => $2) THEN 1
                    ELSE t.attempts + 1 END,
    window_started_at = CASE WHEN t.window_started_at <= now() - make_interval(secs => $2) THEN now()
                             ELSE t.window_started_at END
RETURNING attempts,
          extract(epoch FROM t.window_started_at + make_interval(secs => $2) - now())::float8 AS seconds_left
"""
CLEAR_LOGIN_ATTEMPTS = "DELETE FROM login_throttle WHERE account_key = $1"
DELETE_STALE_WINDOWS = "DELETE FROM login_throttle WHERE window_started_at < now() - make_interval(secs => $1)"

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_WINDOW_SECONDS = 300.0


class Throttled(DatabaseError):
    """Too many login attempts for this account; `retry_after` whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many login attempts; retry in {retry_after} s")
        self.retry_after = retry_after


def account_key(email: str) -> str:
    return email.strip().lower()


class LoginThrottle:
    def __init__(self, pool: asyncpg.Pool, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                 window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.pool = pool
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds

    async def count_attempt(self, email: str) -> None:
        """Count one attempt; Throttled when the account is over its budget for this window."""
        row = await self.pool.fetchrow(COUNT_LOGIN_ATTEMPT, account_key(email), self.window_seconds)
        assert row is not None
        if row["attempts"] > self.max_attempts:
            raise Throttled(max(1, math.ceil(row["seconds_left"])))

    async def clear(self, email: str) -> None:
        await self.pool.execute(CLEAR_LOGIN_ATTEMPTS, account_key(email))

    async def purge_stale(self) -> None:
        await self.pool.execute(DELETE_STALE_WINDOWS, self.window_seconds)
