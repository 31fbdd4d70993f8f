"""What row-level security costs the request path: round trips per request and time per request.

    python -m scripts.dev.bench_rls [--users 20] [--rounds 5]

On a throwaway embedded PostgreSQL, the same API scenario per user (register and sign in are
left out: they run on the owner's pool either way) against two apps on one database:

- `owner`: the requests' services on the owner's pool, no app.user_id (what the service did
  before migration row_level_security);
- `rls`: the requests' services as the restricted role `navigator_app`, each transaction
  opened with `set_config('app.user_id', $1, true)`.

Round trips are counted by the pools' connections (a simple-protocol BEGIN/COMMIT is one).
Rounds alternate between the two apps and the median per-request time of each is printed with
their ratio and the load average (figures only compare within one run). Then one query whose
policy checks every row through its owner (a run's 1,000 events) as the owner and as the role.
The run steps themselves (checkpoints, events, claims) run on the owner's pool in both.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg
import httpx

import api.app
from api.app import create_app
from db.embedded import start_embedded
from db.pool import create_pool
from db.runs.sql import SELECT_EVENTS_AFTER
from db.scope import SET_ACTING_USER
from db.scratch import create_migrated_database
from db.service_role import SERVICE_ROLE, enable_service_login, with_login
from scripts.dev.scratch_settings import settings_for

PASSWORD = "bench-service-password-0123456789abcdef"
SENT = {"round_trips": 0}


class Counting(asyncpg.Connection):  # type: ignore[misc]
    """Counts what it sends: an extended-protocol statement, or a simple query (BEGIN, COMMIT)."""

    async def _execute(self, *args: Any, **kwargs: Any) -> Any:
        SENT["round_trips"] += 1
        return await super()._execute(*args, **kwargs)

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> str:
        if not args:
            SENT["round_trips"] += 1
        result: str = await super().execute(query, *args, **kwargs)
        return result


async def counting_pool(*args: Any, **kwargs: Any) -> asyncpg.Pool:
    return await create_pool(*args, connection_class=Counting, **kwargs)


async def scenario(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """A person's typical requests; the number of requests made."""
    conversation = (await client.post("/conversations", json={"title": "bench"}, headers=headers)).json()["id"]
    run = (await client.post(f"/conversations/{conversation}/runs", json={"message": "my claim was denied"},
                             headers=headers)).json()["id"]
    for path in (f"/runs/{run}", "/me/notifications", f"/conversations/{conversation}",
                 f"/conversations/{conversation}/history", "/conversations", f"/conversations/{conversation}/workflow",
                 "/me/profile", "/documents", "/cases"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.text)
    return 11


async def sign_in(client: httpx.AsyncClient) -> dict[str, str]:
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    await client.post("/auth/register", json={"email": email, "password": "correct horse battery staple"})
    token = (await client.post("/auth/login", json={"email": email, "password": "correct horse battery staple"}))
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def measure(dsn: str, restricted: bool, users: int, rounds: int) -> tuple[float, list[float]]:
    """(round trips per request, seconds per request of each round)."""
    settings = settings_for(dsn, app_database_url=with_login(dsn, SERVICE_ROLE, PASSWORD) if restricted else None,
                            register_address_attempts=1_000_000, login_address_attempts=1_000_000,
                            document_encryption_key="YmVuY2gtZG9jdW1lbnQta2V5LTMyLWJ5dGVzLWxvbmc=")
    original = api.app.scoped
    if not restricted:
        api.app.scoped = lambda pool: pool  # type: ignore[assignment]  # the services as before
    try:
        app = create_app(settings, dsn=dsn, workers=None)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                accounts = [await sign_in(client) for _ in range(users)]
                SENT["round_trips"] = 0
                requests = sum([await scenario(client, accounts[0])])
                trips = SENT["round_trips"] / requests
                times = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    made = sum(await asyncio.gather(*(scenario(client, headers) for headers in accounts)))
                    times.append((time.perf_counter() - started) / made)
    finally:
        api.app.scoped = original
    return trips, times


async def policy_cost(dsn: str, events: int = 1000, repeats: int = 30) -> tuple[float, float]:
    """Median ms of a run's events page read as the owner and as the service role."""
    owner = await asyncpg.connect(dsn)
    service = await asyncpg.connect(with_login(dsn, SERVICE_ROLE, PASSWORD))
    try:
        user = await owner.fetchval("INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id",
                                    f"events-{uuid.uuid4().hex[:8]}@example.com")
        conversation = await owner.fetchval("INSERT INTO conversations (user_id, expires_at) "
                                            "VALUES ($1, now() + interval '1 day') RETURNING id", user)
        run = await owner.fetchval("INSERT INTO runs (conversation_id, user_id, input, last_event_id) "
                                   "VALUES ($1, $2, '{}', $3) RETURNING id", conversation, user, events)
        await owner.execute("INSERT INTO run_events (run_id, id, event, attempt) "
                            "SELECT $1, i, 'step', 1 FROM generate_series(1, $2) i", run, events)
        timings: dict[str, list[float]] = {"owner": [], "service": []}
        for _ in range(repeats):
            for name, con in (("owner", owner), ("service", service)):
                async with con.transaction():
                    await con.execute(SET_ACTING_USER, str(user))
                    started = time.perf_counter()
                    rows = await con.fetch(SELECT_EVENTS_AFTER, run, user, 0, events)
                    timings[name].append((time.perf_counter() - started) * 1000)
                assert len(rows) == events
        return statistics.median(timings["owner"]), statistics.median(timings["service"])
    finally:
        await owner.close()
        await service.close()


async def main(users: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-rls-") as data:
        admin = start_embedded(Path(data), extra_conf={"fsync": "off"})
        dsn = await create_migrated_database(admin, "benchrls")
        con = await asyncpg.connect(admin)
        try:
            await enable_service_login(con, PASSWORD)
        finally:
            await con.close()
        api.app.create_pool = counting_pool  # type: ignore[assignment]
        results: dict[bool, tuple[float, list[float]]] = {}
        for restricted in (False, True, False, True):  # alternated: load drifts between them
            trips, times = await measure(dsn, restricted, users, rounds)
            previous = results.get(restricted, (trips, []))
            results[restricted] = (trips, previous[1] + times)
        owner_ms, service_ms = await policy_cost(dsn)
    load = (await asyncio.to_thread(Path("/proc/loadavg").read_text)).split()[:3]
    for restricted, label in ((False, "owner"), (True, "rls")):
        trips, times = results[restricted]
        print(f"{label:6} round trips/request {trips:5.2f}   ms/request (median of {len(times)} rounds, "
              f"{users} users at once) {statistics.median(times) * 1000:6.2f}")
    ratio = statistics.median(results[True][1]) / statistics.median(results[False][1])
    print(f"rls/owner time per request: {ratio:.2f}x   load average {' '.join(load)}")
    print(f"a run's 1,000 events read (SELECT_EVENTS_AFTER): owner {owner_ms:.2f} ms, service role "
          f"{service_ms:.2f} ms ({service_ms / owner_ms:.2f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.users, arguments.rounds))
