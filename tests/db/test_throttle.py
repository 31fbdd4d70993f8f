"""The throttle's arithmetic (pure) and its table: buckets drain, refusals back off, stale rows go."""

from __future__ import annotations

import asyncpg
import pytest

from db.settings import Settings
from db.throttle import (
    AuthThrottle,
    BucketState,
    Budgets,
    Limit,
    Throttled,
    address_subject,
    bucket_key,
    decide,
    purge_stale_buckets,
)

PAIR = Limit("login_account", 5, 300)
ADDRESS = Limit("login_address", 30, 900, penalize_refused=True)


def test_a_bucket_allows_its_budget_then_says_how_long_to_wait() -> None:
    assert decide([BucketState(PAIR, 4, 0)]).allowed
    refused = decide([BucketState(PAIR, 5, 0)])
    assert not refused.allowed and refused.retry_after == pytest.approx(60)  # one attempt drains in 300/5 s
    assert refused.levels == [5]  # a refused attempt on an account is not counted


def test_a_bucket_drains_with_time() -> None:
    assert decide([BucketState(PAIR, 5, 60)]).allowed
    assert decide([BucketState(PAIR, 5, 30)]).retry_after == pytest.approx(30)
    assert decide([BucketState(PAIR, 500, 10**9)]).levels == [1]


def test_refusals_back_off_on_a_penalised_bucket_up_to_one_window() -> None:
    first = decide([BucketState(ADDRESS, 30, 0)])
    second = decide([BucketState(ADDRESS, first.levels[0], 0)])
    assert first.retry_after == pytest.approx(30) and second.retry_after == pytest.approx(60)
    level = 30.0
    for _ in range(100):
        level = decide([BucketState(ADDRESS, level, 0)]).levels[0]
    assert decide([BucketState(ADDRESS, level, 0)]).retry_after == pytest.approx(900)


def test_one_refusing_bucket_refuses_and_counts_nowhere_else() -> None:
    decision = decide([BucketState(PAIR, 0, 0), BucketState(ADDRESS, 30, 0)])
    assert not decision.allowed and decision.levels == [0, 31]
    exempt = decide([BucketState(PAIR, 0, 0), BucketState(ADDRESS, 30, 0, exempt=True)])
    assert exempt.allowed and exempt.levels == [1, 31]


def test_addresses_are_counted_per_host_and_per_ipv6_slash_64() -> None:
    assert address_subject("203.0.113.5") == "203.0.113.5"
    assert address_subject("::ffff:203.0.113.5") == "203.0.113.5"
    assert address_subject("2001:db8:1:2:aaaa::1") == address_subject("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_subject("2001:db8:1:3::1") != address_subject("2001:db8:1:2::1")
    assert address_subject(None) == address_subject("testclient") == "unknown"


async def test_buckets_hold_no_email_or_address_and_stale_ones_go(pool: asyncpg.Pool) -> None:
    throttle = AuthThrottle(pool, Budgets(login_account=2))
    kept = await throttle.login_attempt("kept@example.com", "198.51.100.1")
    await throttle.succeeded(kept)  # a known address: kept for KNOWN_ADDRESS_DAYS
    for _ in range(2):
        await throttle.login_attempt("gone@example.com", "198.51.100.2")
    with pytest.raises(Throttled) as refused:
        await throttle.login_attempt("gone@example.com", "198.51.100.2")
    assert refused.value.retry_after == 150 and refused.value.action == "sign-in"
    rows = await pool.fetch("SELECT key::text AS key FROM auth_throttle")
    assert rows and not any("example" in row["key"] or "198.51" in row["key"] for row in rows)
    await pool.execute("UPDATE auth_throttle SET updated_at = now() - interval '3 hours'")
    async with pool.acquire() as con:
        assert await purge_stale_buckets(con, Settings(_env_file=None)) == 4  # type: ignore[call-arg]
    assert await pool.fetchval("SELECT count(*) FROM auth_throttle WHERE last_success_at IS NULL") == 0
    assert await pool.fetchval("SELECT count(*) FROM auth_throttle WHERE last_success_at IS NOT NULL") == 1
    await throttle.login_attempt("gone@example.com", "198.51.100.2")  # drained and forgotten


async def test_an_attempt_refused_at_its_address_leaves_the_service_wide_bucket_alone(pool: asyncpg.Pool) -> None:
    throttle = AuthThrottle(pool, Budgets(login_address=1))
    overall = bucket_key(throttle.limits["login_global"])
    await pool.execute("DELETE FROM auth_throttle WHERE key = $1", overall)
    await throttle.login_attempt("first@example.com", "203.0.113.77")
    with pytest.raises(Throttled):
        await throttle.login_attempt("second@example.com", "203.0.113.77")
    assert await pool.fetchval("SELECT level FROM auth_throttle WHERE key = $1", overall) == 1
