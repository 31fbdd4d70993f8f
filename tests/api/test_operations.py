"""Operations: /metrics (parsed with the client library's own parser) after real runs, against the
runs table; the token that guards it; /livez and /readyz with the database cut, a migration
pending and the workers stopped; what each answer cost, in its message, in /stats and /metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app, start_in_process_workers
from db.migrate import load_migrations, migrate_up
from db.scratch import create_database, drop_database
from tests.agents.fake_openai import FakeOpenAI
from tests.api.conftest import Account, register_and_login
from tests.conftest import make_settings
from tests.utils.db import create_migrated_database
from tests.utils.proxy import CuttableProxy

TOKEN = "metrics-token-for-the-tests-0123"
ANSWERED = "My MRI claim was denied on March 3 and I have an employer plan. How do I appeal?"
ASKS_BACK = "My MRI claim was denied, what now?"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
async def ops_app(migrated_dsn: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(migrated_dsn, metrics_token=TOKEN), dsn=migrated_dsn,
                             workers=start_in_process_workers, chat_wait_seconds=30)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def ops(ops_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ops_app), base_url="http://t", timeout=60) as http:
        yield http


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def chat(client: httpx.AsyncClient, account: Account, message: str) -> dict[str, Any]:
    response = await client.post("/chat", json={"message": message}, headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_metrics_after_a_few_runs_match_the_runs_table(ops: httpx.AsyncClient, migrated_dsn: str) -> None:
    before = await scrape(ops)
    ann = await register_and_login(ops)
    statuses = [(await chat(ops, ann, text))["status"] for text in (ANSWERED, ASKS_BACK, ANSWERED)]
    assert statuses == ["success", "interrupted", "success"]
    after = await scrape(ops)

    con = await asyncpg.connect(migrated_dsn)
    try:
        by_status = dict(await con.fetch("SELECT status, count(*) FROM runs GROUP BY status"))
        pending = await con.fetchval("SELECT count(*) FROM runs WHERE status = 'pending'")
    finally:
        await con.close()
    for status in ("pending", "running", "interrupted", "success", "error", "cancelled"):
        assert value(after, "navigator_runs", status=status) == by_status.get(status, 0), status
    assert value(after, "navigator_run_queue_depth") == pending == 0
    assert value(after, "navigator_run_queue_oldest_pending_seconds") == 0
    assert value(after, "navigator_database_up") == 1
    # Counted by this process's executor, runner and middleware: exactly this test's work.
    assert grew(before, after, "navigator_runs_claimed_total") == 3
    assert grew(before, after, "navigator_run_duration_seconds_count", outcome="success") == 2
    assert grew(before, after, "navigator_run_duration_seconds_count", outcome="interrupted") == 1
    for node in ("guard", "navigator", "strategy", "communicator"):
        assert grew(before, after, "navigator_step_duration_seconds_count", node=node) >= 2, node
    assert grew(before, after, "navigator_model_call_duration_seconds_count", provider="offline") >= 6
    assert grew(before, after, "navigator_http_requests_total", method="POST", route="/chat", status="200") == 3
    assert grew(before, after, "navigator_http_request_duration_seconds_count", method="POST", route="/chat") == 3
    assert value(after, "navigator_db_pool_connections", state="max") == 20
    assert value(after, "navigator_executor_concurrency") >= 256
    assert value(after, "navigator_executor_runs_in_flight") == 0
    assert ("navigator_sse_clients", frozenset()) in after
    # Paths that match no route are one series, not one per path.
    await ops.get("/no/such/path/1234")
    assert value(await scrape(ops), "navigator_http_requests_total", method="GET", route="unmatched",
                 status="404") >= 1


async def test_metrics_are_off_without_a_token_and_need_it_when_set(ops: httpx.AsyncClient,
                                                                    migrated_dsn: str) -> None:
    assert (await ops.get("/metrics")).status_code == 401
    wrong = await ops.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401 and TOKEN not in wrong.text and wrong.headers["www-authenticate"] == "Bearer"
    closed = create_app(make_settings(migrated_dsn), dsn=migrated_dsn, workers=None)
    async with closed.router.lifespan_context(closed):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=closed), base_url="http://t") as http:
            off = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert off.status_code == 404 and off.json() == {"detail": "Not Found"}


async def test_each_answer_records_what_it_cost(ops: httpx.AsyncClient, ops_app: FastAPI, migrated_dsn: str) -> None:
    ann = await register_and_login(ops)
    body = await chat(ops, ann, ANSWERED)
    history = (await ops.get(f"/conversations/{body['conversation_id']}/history", headers=ann.headers)).json()
    messages = history["items"] if isinstance(history, dict) else history
    said, answer = messages[-2], messages[-1]
    assert "usage" not in said["metadata"]
    usage = answer["metadata"]["usage"]
    assert answer["metadata"]["run_id"] == body["run_id"]
    assert usage["provider"] == "offline" and usage["model"] == "offline" and usage["calls"] >= 3
    assert usage["input_tokens"] is None and usage["output_tokens"] is None and usage["latency_ms"] >= 0
    con = await asyncpg.connect(migrated_dsn)
    try:
        await con.execute("UPDATE users SET role = 'admin' WHERE id = $1::uuid", ann.id)
        counted, calls = await con.fetchrow(
            "SELECT count(*), sum((metadata->'usage'->>'calls')::int) FROM conversation_messages "
            "WHERE role = 'assistant' AND metadata ? 'usage'")
    finally:
        await con.close()
    stats = await ops.get("/stats", headers=ann.headers, params={"days": 7})
    assert stats.status_code == 200, stats.text
    (today,) = [row for row in stats.json()["model_usage"] if row["model"] == "offline"]
    assert (today["messages"], today["calls"], today["errors"]) == (counted, calls, 0)
    assert today["input_tokens"] == today["output_tokens"] == 0
    assert (await ops.get("/stats", headers=ann.headers, params={"days": 0})).status_code == 422


async def test_tokens_a_provider_reports_are_counted(admin_dsn: str) -> None:
    dsn = await create_migrated_database(admin_dsn)
    try:
        with FakeOpenAI() as server:
            settings = make_settings(dsn, metrics_token=TOKEN, llm_provider="openai",
                                     openai_base_url=server.base_url, llm_model="fake-model")
            app = create_app(settings, dsn=dsn, workers=start_in_process_workers, chat_wait_seconds=30)
            async with app.router.lifespan_context(app):
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                             timeout=60) as http:
                    before = await scrape(http)
                    ann = await register_and_login(http)
                    body = await chat(http, ann, "My MRI claim was denied in Texas. What now?")
                    after = await scrape(http)
            calls = len(server.requests)
        con = await asyncpg.connect(dsn)
        try:
            usage = json.loads(await con.fetchval(
                "SELECT metadata->>'usage' FROM conversation_messages "
                "WHERE role = 'assistant' AND metadata->>'run_id' = $1", body["run_id"]))
            day = await con.fetchrow("SELECT * FROM model_usage_daily WHERE provider = 'openai'")
        finally:
            await con.close()
    finally:
        await drop_database(admin_dsn, dsn)
    assert body["status"] == "success" and calls == 4
    assert usage["model"] == "fake-model" and usage["calls"] == 4
    assert usage["input_tokens"] == 40 and usage["output_tokens"] == 40  # the fake reports 10 and 10 a call
    assert (day["model"], day["messages"], day["calls"], day["input_tokens"], day["output_tokens"]) == \
        ("fake-model", 1, 4, 40, 40)
    for direction in ("input", "output"):
        assert grew(before, after, "navigator_model_tokens_total", provider="openai", model="fake-model",
                    direction=direction) == 40
        assert value(after, "navigator_model_usage_today_tokens", provider="openai", model="fake-model",
                     direction=direction) == 40
    assert grew(before, after, "navigator_model_call_duration_seconds_count", provider="openai") == 4


async def readyz(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    return response.status_code, response.json()


async def eventually_ready(client: httpx.AsyncClient, seconds: float = 10) -> bool:
    """The pool's first queries after an outage may meet connections the outage broke."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (await readyz(client))[0] != 200:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def test_probes_with_the_database_down_and_the_workers_stopped(migrated_dsn: str) -> None:
    proxy = CuttableProxy(migrated_dsn)
    await proxy.start()
    app = create_app(make_settings(proxy.dsn, db_connect_timeout_seconds=2), dsn=proxy.dsn,
                     workers=start_in_process_workers)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                assert await readyz(http) == (200, {"status": "ready", "checks": {
                    "database": "ok", "migrations": "ok", "workers": "ok"}})
                await proxy.cut()
                live = await http.get("/livez")
                assert (live.status_code, live.json()) == (200, {"status": "ok"})
                code, body = await readyz(http)
                assert code == 503 and body["status"] == "not ready"
                assert body["checks"]["database"] == "unavailable" and body["checks"]["workers"] == "ok"
                assert (await http.get("/readyz")).headers["retry-after"].isdigit()
                assert (await http.get("/health")).status_code == 503
                await proxy.restore()
                assert await eventually_ready(http)
                await app.state.workers()  # the in-process workers stop (as if their loops had died)
                code, body = await readyz(http)
                assert code == 503 and body["checks"]["workers"] == "not running"
                assert (await http.get("/livez")).status_code == 200
    finally:
        await proxy.cut()


async def test_readyz_is_503_while_a_migration_is_pending(admin_dsn: str) -> None:
    dsn = await create_database(admin_dsn)
    try:
        con = await asyncpg.connect(dsn)
        try:
            await migrate_up(con, to=load_migrations()[-2].version)  # all but the newest
        finally:
            await con.close()
        app = create_app(make_settings(dsn), dsn=dsn, workers=None)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                code, body = await readyz(http)
        assert code == 503
        assert body["checks"]["database"] == "ok" and body["checks"]["workers"] == "ok (none in this process)"
        assert body["checks"]["migrations"].startswith("1 pending migration(s)")
    finally:
        await drop_database(admin_dsn, dsn)


async def test_cleanup_deletions_are_counted_by_kind(ops: httpx.AsyncClient) -> None:
    from db.metrics import record_cleanup_deleted

    before = await scrape(ops)
    record_cleanup_deleted("conversations", 3)
    record_cleanup_deleted("conversations", 0)  # a pass that deleted nothing adds nothing
    record_cleanup_deleted("documents", 1)
    after = await scrape(ops)
    assert grew(before, after, "navigator_cleanup_deleted_total", kind="conversations") == 3
    assert grew(before, after, "navigator_cleanup_deleted_total", kind="documents") == 1
