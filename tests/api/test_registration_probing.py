"""Registration says nothing about who has an account: a taken and a free address get the
same answer in the same time (the taken one's account untouched), and probing is limited
per client address and in total, so it does not scale."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid

import asyncpg
import pytest

from db.scratch import drop_database
from tests.api.conftest import PASSWORD, client_at, started_app
from tests.conftest import make_settings
from tests.utils.db import create_migrated_database

PAIRS = 50
ALLOWED_MEDIAN_GAP_SECONDS = 0.005
NO_FAST_PATH_SECONDS = 0.015
MAX_ROUNDS = 3


def new_email() -> str:
    return f"probe-{uuid.uuid4().hex[:12]}@example.com"


async def test_taken_and_free_addresses_answer_alike_in_the_same_time(migrated_dsn: str) -> None:
    taken = [new_email() for _ in range(PAIRS)]
    con = await asyncpg.connect(migrated_dsn)
    try:
        await con.executemany("INSERT INTO users (email, password_hash) VALUES ($1, 'kept-hash')",
                              [(email,) for email in taken])
    finally:
        await con.close()
    answers: set[tuple[int, tuple[tuple[str, object], ...]]] = set()
    gaps: list[float] = []
    async with started_app(make_settings(migrated_dsn), migrated_dsn) as app, client_at(app, "192.0.2.10") as client:
        async def register(email: str) -> float:
            started = time.perf_counter()
            response = await client.post("/auth/register", json={"email": email, "password": "a probing password"})
            elapsed = time.perf_counter() - started
            answers.add((response.status_code, tuple(sorted((k, v) for k, v in response.json().items()
                                                            if k != "email"))))
            return elapsed

        for _ in range(3):  # warm-up: the first hash and the first statements pay for loading
            await register(new_email())
        coin = random.Random(14)
        # The machine is shared (load 4-8 on 2 cores) and one argon2 hash (~30 ms) varies by more than
        # the 5 ms asked for: up to three rounds, one of which must hold. A real difference (the old
        # taken-address answer was 8x faster) shows in every round, so every round must stay close.
        for _ in range(MAX_ROUNDS):
            times: dict[bool, list[float]] = {True: [], False: []}
            for email in taken:  # in pairs, in random order within each: the load falls on both alike
                pair = [(True, email), (False, new_email())]
                coin.shuffle(pair)
                for is_taken, address in pair:
                    times[is_taken].append(await register(address))
            taken_median, free_median = statistics.median(times[True]), statistics.median(times[False])
            print(f"\nregistration medians over {PAIRS} each: taken {taken_median * 1000:.1f} ms, "
                  f"free {free_median * 1000:.1f} ms")
            gaps.append(abs(taken_median - free_median))
            if gaps[-1] < ALLOWED_MEDIAN_GAP_SECONDS:
                break

    assert len(answers) == 1 and next(iter(answers))[0] == 202, answers
    assert min(gaps) < ALLOWED_MEDIAN_GAP_SECONDS and max(gaps) < NO_FAST_PATH_SECONDS, gaps
    con = await asyncpg.connect(migrated_dsn)
    try:
        hashes = await con.fetch("SELECT password_hash FROM users WHERE email = ANY($1)", taken)
        created = await con.fetchval("SELECT count(*) FROM users WHERE email LIKE 'probe-%' "
                                     "AND password_hash LIKE '$argon2id$%'")
        audited = await con.fetchval("SELECT count(*) FROM audit_events WHERE event = 'auth.register_taken'")
    finally:
        await con.close()
    assert {row["password_hash"] for row in hashes} == {"kept-hash"}  # the accounts are untouched
    assert created == PAIRS * len(gaps) + 3
    assert audited == PAIRS * len(gaps)  # the owners' side of it is on record


async def test_two_hundred_registrations_from_one_address_are_slowed(migrated_dsn: str) -> None:
    settings = make_settings(migrated_dsn, register_address_attempts=10)  # the default
    async with started_app(settings, migrated_dsn) as app:
        async with client_at(app, "203.0.113.9") as prober:
            started = time.perf_counter()
            statuses = [(await prober.post("/auth/register", json={"email": new_email(), "password": PASSWORD}))
                        for _ in range(200)]
            elapsed = time.perf_counter() - started
        assert [r.status_code for r in statuses[:10]] == [202] * 10
        refused = statuses[10:]
        assert {r.status_code for r in refused} == {429}
        assert refused[0].json() == {"detail": "too many registration attempts, retry later"}
        # Each refusal pushes the next allowed registration further away, up to an hour.
        waits = [int(r.headers["retry-after"]) for r in refused]
        assert waits[0] >= 300 and waits[-1] >= waits[0] and max(waits) <= 3600
        assert elapsed < 60, elapsed  # refusals cost no password hash
        async with client_at(app, "203.0.113.10") as neighbour:
            other = await neighbour.post("/auth/register", json={"email": new_email(), "password": PASSWORD})
            assert other.status_code == 202
            # Concurrent registrations from a fresh address cannot slip past the limit.
        async with client_at(app, "203.0.113.11") as racer:
            burst = await asyncio.gather(*(racer.post("/auth/register", json={"email": new_email(),
                                                                               "password": PASSWORD})
                                           for _ in range(16)))
            assert sorted(r.status_code for r in burst) == [202] * 10 + [429] * 6


@pytest.mark.parametrize("ipv6", [False, True])
async def test_registrations_are_limited_in_total(admin_dsn: str, ipv6: bool) -> None:
    dsn = await create_migrated_database(admin_dsn)
    try:
        settings = make_settings(dsn, register_global_attempts=5)
        async with started_app(settings, dsn) as app:
            for i in range(5):
                address = f"2001:db8:{i}::1" if ipv6 else f"198.51.100.{i + 1}"
                async with client_at(app, address) as client:
                    response = await client.post("/auth/register", json={"email": new_email(), "password": PASSWORD})
                    assert response.status_code == 202
            async with client_at(app, "2001:db8:99::1" if ipv6 else "198.51.100.99") as late:
                response = await late.post("/auth/register", json={"email": new_email(), "password": PASSWORD})
                assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
    finally:
        await drop_database(admin_dsn, dsn)
