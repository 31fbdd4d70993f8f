"""Every message kept exactly once: stored with its run, answered once, also when clients retry
through a database outage with the same Idempotency-Key (a real TCP proxy cuts the database)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from langgraph_sdk.client import LangGraphClient

from api.app import create_app, start_in_process_workers
from tests.api.conftest import Account, register_and_login
from tests.conftest import make_settings
from tests.utils.proxy import CuttableProxy

MESSAGES = "SELECT role, content, metadata FROM conversation_messages WHERE conversation_id = $1 ORDER BY id"


async def test_chat_with_one_key_makes_one_conversation_one_run_one_message(
        client: httpx.AsyncClient, alice: Account, pool: asyncpg.Pool) -> None:
    key = {"Idempotency-Key": f"chat-{uuid.uuid4()}", **alice.headers}
    first = await client.post("/chat", json={"message": "What is a copay?"}, headers=key)
    again = await client.post("/chat", json={"message": "What is a copay?"}, headers=key)
    assert first.status_code == again.status_code == 202  # stored and queued: this app runs no workers
    assert {k: first.json()[k] for k in ("conversation_id", "run_id", "status")} == \
        {"conversation_id": again.json()["conversation_id"], "run_id": again.json()["run_id"], "status": "pending"}
    conversation_id = uuid.UUID(first.json()["conversation_id"])
    owned = await pool.fetchval("SELECT count(*) FROM conversations WHERE user_id = $1 AND title = $2",
                                uuid.UUID(alice.id), "What is a copay?")
    assert owned == 1
    rows = await pool.fetch(MESSAGES, conversation_id)
    assert [(r["role"], r["content"], r["metadata"]) for r in rows] == \
        [("user", "What is a copay?", {"run_id": first.json()["run_id"]})]
    # The key names one request: another message (or another conversation) with it is refused.
    other = await client.post("/chat", json={"message": "What is coinsurance?"}, headers=key)
    assert other.status_code == 409
    elsewhere = await client.post("/chat", headers=key, json={"message": "What is a copay?",
                                                              "conversation_id": str(uuid.uuid4())})
    assert elsewhere.status_code == 409
    assert len(await pool.fetch(MESSAGES, conversation_id)) == 1


async def test_the_message_of_a_cancelled_run_stays_in_the_history(client: httpx.AsyncClient, alice: Account) -> None:
    conversation = (await client.post("/conversations", json={"title": "kept"}, headers=alice.headers)).json()
    run = (await client.post(f"/conversations/{conversation['id']}/runs", json={"message": "Is an MRI covered?"},
                             headers=alice.headers)).json()
    assert (await client.post(f"/runs/{run['id']}/cancel", headers=alice.headers)).json()["status"] == "cancelled"
    history = (await client.get(f"/conversations/{conversation['id']}/history", headers=alice.headers)).json()
    assert [(m["role"], m["content"]) for m in history["items"]] == [("user", "Is an MRI covered?")]


async def test_messages_appear_once_in_history_and_thread_values_through_the_agent_protocol(
        wclient: httpx.AsyncClient, worker_app: FastAPI) -> None:
    person = await register_and_login(wclient)
    key = (await wclient.post("/auth/api-keys", json={"name": "sdk"}, headers=person.headers)).json()["key"]
    # The official SDK, over the in-process app.
    sdk = LangGraphClient(httpx.AsyncClient(transport=httpx.ASGITransport(app=worker_app), base_url="http://testserver/lg",
                                            headers={"x-api-key": key}, timeout=60))
    thread = await sdk.threads.create()
    asked = await sdk.runs.wait(thread["thread_id"], "navigator",
                                input={"messages": [{"role": "user", "content": "My MRI claim was denied"}]})
    assert "__interrupt__" in asked
    await sdk.runs.wait(thread["thread_id"], "navigator",
                        command={"resume": "The letter came on March 3; it is an employer plan."})
    state = await sdk.threads.get_state(thread["thread_id"])
    said = [m["content"] for m in state["values"]["messages"] if m["type"] == "human"]
    assert Counter(said)["My MRI claim was denied"] == 1
    history = (await wclient.get(f"/conversations/{thread['thread_id']}/history", headers=person.headers)).json()
    roles = [(m["role"], m.get("metadata", {}).get("interrupt", False)) for m in history["items"]]
    assert roles == [("user", False), ("assistant", True), ("user", False), ("assistant", False)]
    contents = [m["content"] for m in history["items"]]
    assert contents[0] == "My MRI claim was denied"
    assert contents[2] == "The letter came on March 3; it is an employer plan."


async def ask_until_answered(http: httpx.AsyncClient, account: Account, message: str,
                             log: list[tuple[str, int]], start_after: float) -> dict[str, Any]:
    """A client doing what the API tells it: on 503 (or a dropped connection) send the same request
    again with the same key; on 202 ask again with it too (that waits for the same run)."""
    await asyncio.sleep(start_after)
    headers = {**account.headers, "Idempotency-Key": f"key-{uuid.uuid4()}"}
    for _ in range(400):
        try:
            response = await http.post("/chat", json={"message": message}, headers=headers)
        except httpx.TransportError:
            log.append((message, 0))
            await asyncio.sleep(0.1)
            continue
        log.append((message, response.status_code))
        if response.status_code == 200:
            answer: dict[str, Any] = response.json()
            return answer
        assert response.status_code in (202, 503), response.text
        await asyncio.sleep(0.1)
    raise AssertionError(f"{message!r} was never answered")


async def stored_in_flight(pool: asyncpg.Pool, messages: list[str]) -> bool:
    return await pool.fetchval("SELECT count(*) FROM runs WHERE input ->> 'message' = ANY($1::text[]) "
                               "AND status IN ('pending', 'running')", messages) >= 3


async def until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        await asyncio.sleep(0.02)


@pytest.mark.timeout(180)
async def test_twenty_clients_retrying_through_a_database_outage_get_each_message_answered_once(
        migrated_dsn: str, pool: asyncpg.Pool) -> None:
    proxy = CuttableProxy(migrated_dsn)
    await proxy.start()
    # Runs take a few seconds (several model calls), so the cut finds some of them stored and waited on.
    settings = make_settings(proxy.dsn, offline_model_latency_ms=500, run_lease_seconds=3.0, worker_concurrency=8)
    app = create_app(settings, dsn=proxy.dsn, workers=start_in_process_workers, chat_wait_seconds=20)
    statuses: list[tuple[str, int]] = []
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as http:
                people = [await register_and_login(http) for _ in range(4)]
                messages = [f"Question {i}: is physical therapy covered after surgery?" for i in range(20)]
                # Half the clients start now; the database is cut once some of their runs are stored
                # and waited on (read beside the proxy), the other half start while it is away, and it
                # comes back once clients saw both answers an outage gives (timed by events, not sleeps:
                # the machine's load decides how fast requests get anywhere).
                clients = [asyncio.create_task(ask_until_answered(http, people[i % 4], text, statuses, i * 0.02))
                           for i, text in enumerate(messages[:10])]
                await until(lambda: stored_in_flight(pool, messages), "runs stored and in flight")
                await proxy.cut()
                clients += [asyncio.create_task(ask_until_answered(http, people[i % 4], text, statuses, 0))
                            for i, text in enumerate(messages[10:])]

                async def both_answers_seen() -> bool:
                    codes = {code for _, code in statuses}
                    return 202 in codes and 503 in codes

                await until(both_answers_seen, "a 202 and a 503 during the outage")
                await proxy.restore()
                answers = await asyncio.gather(*clients)
    finally:
        await proxy.cut()
    codes = Counter(code for _, code in statuses)
    # Runs stored before the cut were answered 202 (not 503); requests during it got 503 and came back.
    assert codes[202] > 0 and codes[503] > 0, codes
    assert all(answer["status"] in ("success", "interrupted") for answer in answers)
    for text, answer in zip(messages, answers, strict=True):
        runs = await pool.fetch("SELECT id, status FROM runs WHERE input ->> 'message' = $1", text)
        assert [str(r["id"]) for r in runs] == [answer["run_id"]], text
        stored = await pool.fetch(MESSAGES, uuid.UUID(answer["conversation_id"]))
        assert [(r["role"], r["content"]) for r in stored][:1] == [("user", text)]
        assert [r["role"] for r in stored] == ["user", "assistant"], (text, stored)
        conversations = await pool.fetchval("SELECT count(*) FROM conversations WHERE title = $1", text)
        assert conversations == 1
