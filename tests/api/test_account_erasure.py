"""DELETE /me while a run of the person is in flight: a module of its own, so the only workers are
the test's (slow ones), and the run is still going when the account goes."""

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
