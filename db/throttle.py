"""Rate limits on signing in and registering, in the database so every process shares them.

Each limit is a leaky bucket per subject: an attempt adds one, the bucket drains
`budget` per `window_seconds`, and an attempt that would overflow it is refused
with the time until it would fit (429 with Retry-After). Signing in is limited
three ways at once, so guessing does not scale and nobody can lock a person out:

- per account *and* client address (5 per 5 minutes): the guesser at one address
  is stopped on that account while its owner, elsewhere, is not;
- per address, failures only (30 per 15 minutes): one client trying many
  accounts slows down; attempts made while refused fill the bucket further
  (backoff: hammering pushes the next allowed attempt away, up to one window);
- in total, failures only (1000 per 10 minutes): stuffing spread over many
  addresses slows down.
An address the account signed in from in the last KNOWN_ADDRESS_DAYS is exempt
from the second and third: the owner signs in from home during an attack.
Registrations are limited per address (with the same backoff) and in total.

Attempts are counted before the password is checked, in one transaction that
locks the buckets (in key order, the service-wide one last, so concurrent
attempts queue instead of slipping past a limit, and never deadlock); a
successful sign-in gives its attempt back. Keys are SHA-256 of the limit and
its subject: no email or address is kept in clear.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from db.connection import Connection, command_rows
from db.errors import DatabaseError
from db.settings import Settings

# Creates the missing buckets and locks all of them, in key order (no deadlock between attempts).
LOCK_BUCKETS = """
INSERT INTO auth_throttle AS t (key)
SELECT key FROM unnest($1::bytea[]) AS k(key) ORDER BY key
ON CONFLICT (key) DO UPDATE SET level = t.level
RETURNING key, level, greatest(extract(epoch FROM now() - updated_at), 0)::float8 AS idle_seconds,
          coalesce(last_success_at > now() - make_interval(days => $2), false) AS known
"""
SET_LEVELS = """
UPDATE auth_throttle AS t SET level = v.level, updated_at = now()
  FROM unnest($1::bytea[], $2::float8[]) AS v(key, level)
 WHERE t.key = v.key
"""
# The account+address bucket empties and remembers the address; the others get the attempt back.
RECORD_SUCCESS = """
UPDATE auth_throttle SET
    level = CASE WHEN key = $1 THEN 0 ELSE greatest(level - 1, 0) END,
    last_success_at = CASE WHEN key = $1 THEN now() ELSE last_success_at END
 WHERE key = ANY($2::bytea[])
"""
DELETE_STALE_BUCKETS = """
DELETE FROM auth_throttle
 WHERE updated_at < now() - make_interval(secs => $1)
   AND (last_success_at IS NULL OR last_success_at < now() - make_interval(days => $2))
"""

KNOWN_ADDRESS_DAYS = 30
# A penalised bucket holds at most two budgets less one attempt: the wait never exceeds one window.
PENALTY_CEILING = 2.0
# The windows are fixed (the budgets are settings); the longest decides when a bucket has drained.
LONGEST_WINDOW_SECONDS = 3600.0
# IPv6 clients get a /64 each; counting them per /64 keeps one host from posing as millions.
IPV6_SUBJECT_PREFIX = 64


@dataclass(frozen=True)
class Limit:
    name: str
    budget: int
    window_seconds: float
    # Refused attempts fill the bucket too (up to PENALTY_CEILING budgets): backoff for hammering.
    penalize_refused: bool = False

    @property
    def rate(self) -> float:
        """Attempts drained per second."""
        return self.budget / self.window_seconds


@dataclass(frozen=True)
class Budgets:
    """The budgets of the limits (settings `LOGIN_*_ATTEMPTS`, `REGISTER_*_ATTEMPTS`); windows are fixed."""

    login_account: int = 5
    login_address: int = 30
    login_global: int = 1000
    register_address: int = 10
    register_global: int = 500

    def limits(self) -> dict[str, Limit]:
        return {
            "login_account": Limit("login_account", self.login_account, 300),
            "login_address": Limit("login_address", self.login_address, 900, penalize_refused=True),
            "login_global": Limit("login_global", self.login_global, 600),
            "register_address": Limit("register_address", self.register_address, LONGEST_WINDOW_SECONDS,
                                      penalize_refused=True),
            "register_global": Limit("register_global", self.register_global, LONGEST_WINDOW_SECONDS),
        }


class Throttled(DatabaseError):
    """Too many attempts; `retry_after` whole seconds."""

    def __init__(self, action: str, retry_after: int) -> None:
        super().__init__(f"too many {action} attempts, retry in {retry_after} s")
        self.action = action
        self.retry_after = retry_after


@dataclass(frozen=True)
class BucketState:
    limit: Limit
    level: float
    idle_seconds: float
    # Exempt buckets are counted but never refuse (the account's own address during an attack).
    exempt: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float
    levels: list[float]


def decide(states: Sequence[BucketState]) -> Decision:
    """Pure: whether the attempt may go on, how long to wait if not, and every bucket's new level."""
    drained = [max(0.0, s.level - s.idle_seconds * s.limit.rate) for s in states]
    waits = [(level + 1 - s.limit.budget) / s.limit.rate
             for s, level in zip(states, drained, strict=True)
             if not s.exempt and level + 1 > s.limit.budget + 1e-9]
    if not waits:
        return Decision(True, 0.0, [level + 1 for level in drained])
    levels = [min(level + 1, PENALTY_CEILING * s.limit.budget - 1) if s.limit.penalize_refused else level
              for s, level in zip(states, drained, strict=True)]
    return Decision(False, max(waits), levels)


def address_subject(address: str | None) -> str:
    """What an address is counted as: itself, its /64 for IPv6, or "unknown"."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_SUBJECT_PREFIX}", strict=False))
    return str(parsed)


def bucket_key(limit: Limit, *subject: str) -> bytes:
    return hashlib.sha256("\x1f".join((limit.name, *subject)).encode("utf-8", "surrogatepass")).digest()


def account_key(email: str) -> str:
    return email.strip().lower()


async def lock_buckets(con: Connection, keys: list[bytes]) -> dict[bytes, asyncpg.Record]:
    return {row["key"]: row for row in await con.fetch(LOCK_BUCKETS, keys, KNOWN_ADDRESS_DAYS)}


@dataclass(frozen=True)
class LoginAttempt:
    """A counted sign-in attempt; hand it back to `succeeded` when the password was right."""

    account_bucket: bytes
    buckets: tuple[bytes, ...]


class AuthThrottle:
    def __init__(self, pool: asyncpg.Pool, budgets: Budgets | None = None) -> None:
        self.pool = pool
        self.limits = (budgets or Budgets()).limits()

    async def login_attempt(self, email: str, address: str | None) -> LoginAttempt:
        """Count one sign-in attempt; Throttled when any limit that applies is spent."""
        where = address_subject(address)
        account = self.limits["login_account"]
        per_address, overall = self.limits["login_address"], self.limits["login_global"]
        own = (account, bucket_key(account, account_key(email), where))
        local = [own, (per_address, bucket_key(per_address, where))]
        shared = (overall, bucket_key(overall))
        await self._take(local, shared, "sign-in", exempt_when_known=own[1])
        return LoginAttempt(own[1], tuple(key for _, key in [*local, shared]))

    async def succeeded(self, attempt: LoginAttempt) -> None:
        await self.pool.execute(RECORD_SUCCESS, attempt.account_bucket, sorted(attempt.buckets))

    async def registration_attempt(self, address: str | None) -> None:
        """Count one registration; Throttled when the address or the service is over its budget."""
        per_address, overall = self.limits["register_address"], self.limits["register_global"]
        await self._take([(per_address, bucket_key(per_address, address_subject(address)))],
                         (overall, bucket_key(overall)), "registration")

    async def _take(self, local: list[tuple[Limit, bytes]], shared: tuple[Limit, bytes], action: str, *,
                    exempt_when_known: bytes | None = None) -> None:
        """The attempt's own buckets are locked and weighed first; the service-wide one only when they
        allow it, and always last (so no deadlock): a flood refused at its address never queues on
        the service's row."""
        limits = {key: limit for limit, key in local}
        async with self.pool.acquire() as con, con.transaction():
            rows = await lock_buckets(con, list(limits))
            # The account's own address (it signed in from there lately) is held to the account's limit only.
            known = exempt_when_known is not None and rows[exempt_when_known]["known"]

            def weigh() -> Decision:
                return decide([BucketState(limits[key], rows[key]["level"], rows[key]["idle_seconds"],
                                           exempt=known and key != exempt_when_known) for key in sorted(limits)])

            decision = weigh()
            if decision.allowed:
                limits[shared[1]] = shared[0]
                rows |= await lock_buckets(con, [shared[1]])
                decision = weigh()
            await con.execute(SET_LEVELS, sorted(limits), decision.levels)
        if not decision.allowed:
            raise Throttled(action, max(1, math.ceil(decision.retry_after)))


async def purge_stale_buckets(con: Connection, settings: Settings) -> int:
    """A retention purge: buckets that have drained (untouched for two of the longest windows), unless
    they remember an address the account signed in from in the last KNOWN_ADDRESS_DAYS; rows deleted."""
    status = await con.execute(DELETE_STALE_BUCKETS, PENALTY_CEILING * LONGEST_WINDOW_SECONDS, KNOWN_ADDRESS_DAYS)
    return command_rows(status)
