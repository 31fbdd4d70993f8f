"""DELETE /me while a run of the person is in flight, and /stats on what expired: a module without
the module-wide in-process workers, so the only workers are the first test's (slow ones) and a
run stays where a test leaves it."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from api.graph_runner import start_workers
from db.settings import Settings
from tests.api.conftest import PASSWORD, register_and_login
from tests.utils.catalog import rows_of
from tests.utils.graphs import ANSWERED, offline_graph_factory


async def test_deleting_an_account_with_a_run_in_flight_leaves_nothing_behind(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    """The worker holding the run finds it gone at its next write: no checkpoint comes back after."""
    dana = await register_and_login(client)
    conversation = (await client.post("/conversations", json={"title": "in flight"}, headers=dana.headers)).json()
    run = (await client.post(f"/conversations/{conversation['id']}/runs", json={"message": ANSWERED},
                             headers=dana.headers)).json()
    workers = await start_workers(pool, settings, graph_factory=offline_graph_factory(pool, latency_ms=1000))
    try:
        for _ in range(200):
            if await pool.fetchval("SELECT count(*) FROM checkpoints WHERE thread_id = $1", conversation["id"]):
                break
            await asyncio.sleep(0.05)
        assert await pool.fetchval("SELECT status FROM runs WHERE id = $1", uuid.UUID(run["id"])) == "running"
        gone = await client.request("DELETE", "/me", json={"password": PASSWORD}, headers=dana.headers)
        assert gone.status_code == 204
        await asyncio.sleep(1.5)  # several more steps' time: the worker tries, and writes nothing
    finally:
        await workers.stop(drain_seconds=5)
    assert await rows_of(pool, dana.id, [conversation["id"]]) == {}


async def test_stats_show_what_expired_and_waits_for_the_cleanup(client: httpx.AsyncClient,
                                                                  pool: asyncpg.Pool) -> None:
    admin = await register_and_login(client)
    await pool.execute("UPDATE users SET role = 'admin' WHERE id = $1", uuid.UUID(admin.id))
    erin = await register_and_login(client)
    conversation = (await client.post("/conversations", json={"title": "old"}, headers=erin.headers)).json()
    await client.post(f"/conversations/{conversation['id']}/runs", json={"message": ANSWERED}, headers=erin.headers)
    await pool.execute("UPDATE conversations SET expires_at = now() - interval '1 minute' WHERE id = $1",
                       uuid.UUID(conversation["id"]))
    retention = (await client.get("/stats", headers=admin.headers)).json()["retention"]
    assert (retention["conversation_ttl_hours"], retention["cleanup_interval_seconds"]) == (24, 300)
    expired = retention["expired"]
    # Its run never ran (no workers here): the cleanup waits for it, and says so.
    assert expired["conversations"] >= 1 and expired["waiting_for_runs"] >= 1
    assert expired["messages"] >= 1 and expired["runs"] >= 1
