"""Sign-in is limited per account and address, per address and in total: stuffing slows down,
and nobody can lock a person out of their account."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from db.scratch import drop_database
from tests.api.conftest import PASSWORD, client_at, started_app
from tests.conftest import make_settings
from tests.utils.db import create_migrated_database


def new_email() -> str:
    return f"owner-{uuid.uuid4().hex[:10]}@example.com"


async def register(client: httpx.AsyncClient, email: str) -> None:
    assert (await client.post("/auth/register", json={"email": email, "password": PASSWORD})).status_code == 202


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD,
                headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post("/auth/login", json={"email": email, "password": password}, headers=headers)


async def test_stuffing_from_one_address_is_slowed_while_the_owner_signs_in(migrated_dsn: str) -> None:
    async with started_app(make_settings(migrated_dsn), migrated_dsn) as app:
        owner_email = new_email()
        async with client_at(app, "198.51.100.20") as owner:
            await register(owner, owner_email)
        accounts = [owner_email] + [new_email() for _ in range(99)]
        async with client_at(app, "203.0.113.50") as attacker:
            statuses = [(await login(attacker, email, f"guess number {guess}")).status_code
                        for guess in range(3) for email in accounts]
            last = await login(attacker, new_email(), "one more")
        # The address's 30 failures, then every guess is refused unchecked, and refusals push the wait out.
        assert statuses.count(401) == 30 and statuses.count(429) == 270, statuses
        assert statuses[:30] == [401] * 30
        assert 600 <= int(last.headers["retry-after"]) <= 900
        for address in ("198.51.100.20", "192.0.2.77"):  # the owner, from home and from anywhere else
            async with client_at(app, address) as owner:
                assert (await login(owner, owner_email)).status_code == 200, address


async def test_guessing_one_account_locks_only_the_guesser_out(migrated_dsn: str) -> None:
    async with started_app(make_settings(migrated_dsn), migrated_dsn) as app:
        email = new_email()
        async with client_at(app, "198.51.100.30") as owner:
            await register(owner, email)
        async with client_at(app, "203.0.113.60") as guesser:
            guesses = [(await login(guesser, email, f"wrong {i}")).status_code for i in range(6)]
            assert guesses == [401] * 5 + [429]
            assert (await login(guesser, email)).status_code == 429  # even the right password, from there
        async with client_at(app, "198.51.100.30") as owner:
            assert (await login(owner, email)).status_code == 200


async def test_concurrent_guesses_cannot_slip_past_the_account_limit(migrated_dsn: str) -> None:
    async with started_app(make_settings(migrated_dsn), migrated_dsn) as app:
        email = new_email()
        async with client_at(app, "203.0.113.70") as guesser:
            await register(guesser, email)
            burst = await asyncio.gather(*(login(guesser, email, f"wrong {i}") for i in range(12)))
        assert sorted(r.status_code for r in burst) == [401] * 5 + [429] * 7


async def test_failures_in_total_slow_unknown_addresses_but_not_the_owner_at_home(admin_dsn: str) -> None:
    dsn = await create_migrated_database(admin_dsn)
    try:
        async with started_app(make_settings(dsn, login_global_attempts=20), dsn) as app:
            email = new_email()
            async with client_at(app, "198.51.100.5") as home:
                await register(home, email)
                assert (await login(home, email)).status_code == 200  # home is now a known address
            for i in range(20):  # stuffing spread over many addresses, one guess each
                async with client_at(app, f"203.0.113.{100 + i}") as bot:
                    assert (await login(bot, new_email(), "stuffed password")).status_code == 401
            async with client_at(app, "203.0.113.200") as bot:
                refused = await login(bot, new_email(), "stuffed password")
                assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 31
            async with client_at(app, "192.0.2.200") as elsewhere:  # a new address waits its turn like anyone
                assert (await login(elsewhere, email)).status_code == 429
            async with client_at(app, "198.51.100.5") as home:
                assert (await login(home, email)).status_code == 200
    finally:
        await drop_database(admin_dsn, dsn)


async def client_address_of_last_failure(dsn: str) -> str:
    con = await asyncpg.connect(dsn)
    try:
        address = await con.fetchval("SELECT client_address FROM audit_events WHERE event = 'auth.login_failed' "
                                     "ORDER BY id DESC LIMIT 1")
    finally:
        await con.close()
    return str(address)


async def test_x_forwarded_for_is_believed_only_from_trusted_proxies(migrated_dsn: str) -> None:
    settings = make_settings(migrated_dsn, trusted_proxies="10.0.0.0/8, 192.0.2.1")
    async with started_app(settings, migrated_dsn) as app:
        email = new_email()
        async with client_at(app, "10.1.2.3") as proxy:
            await register(proxy, email)
            # The rightmost address no trusted proxy claims is the client; what it wrote itself is ignored.
            hops = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 192.0.2.1"}
            guesses = [(await login(proxy, email, "wrong!", headers=hops)).status_code for _ in range(6)]
            assert guesses == [401] * 5 + [429]
            assert await client_address_of_last_failure(migrated_dsn) == "203.0.113.7"
            # Another client behind the same proxy is another address: not locked out.
            assert (await login(proxy, email, headers={"x-forwarded-for": "198.51.100.8"})).status_code == 200
        async with client_at(app, "198.51.100.99") as direct:
            # Not a trusted proxy: its header is not believed, whatever it claims.
            claims = [(await login(direct, email, "wrong!", headers={"x-forwarded-for": f"192.0.2.{i}"})).status_code
                      for i in range(10, 16)]
            assert claims == [401] * 5 + [429]
            assert await client_address_of_last_failure(migrated_dsn) == "198.51.100.99"
