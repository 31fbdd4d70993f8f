"""Chat, runs, resume and the SSE event stream with the real in-process workers and the offline model."""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx
import pytest

from tests.api.conftest import Account, register_and_login
from tests.utils.db import tables_containing
from tests.utils.sse import parse_sse

DENIAL = "My MRI claim was denied, what now?"
ANSWER = "The denial letter arrived on March 3 and it is an employer plan."


@pytest.fixture(scope="module")
async def carol(wclient: httpx.AsyncClient) -> Account:
    return await register_and_login(wclient)


async def wait_settled(client: httpx.AsyncClient, account: Account, run_id: str) -> dict[str, object]:
    # The event stream ends when the run settles: one request instead of polling.
    await client.get(f"/runs/{run_id}/events", headers=account.headers)
    response = await client.get(f"/runs/{run_id}", headers=account.headers)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def test_chat_interrupt_resume_and_event_replay(wclient: httpx.AsyncClient, carol: Account) -> None:
    asked = await wclient.post("/chat", json={"message": DENIAL}, headers=carol.headers)
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert body["status"] == "interrupted" and body["reply"] is None
    assert body["question"]["question"]
    run_id, conversation_id = body["run_id"], body["conversation_id"]

    resumed = await wclient.post(f"/runs/{run_id}/resume", json={"input": ANSWER}, headers=carol.headers)
    assert resumed.status_code == 202
    continuation = resumed.json()
    assert continuation["resumes_run_id"] == run_id
    again = await wclient.post(f"/runs/{run_id}/resume", json={"input": ANSWER}, headers=carol.headers)
    assert again.status_code == 409

    final = await wait_settled(wclient, carol, continuation["id"])
    assert final["status"] == "success"
    assert isinstance(final["output"], dict) and final["output"]["reply"]

    stream = await wclient.get(f"/runs/{continuation['id']}/events", headers=carol.headers)
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(stream.text)
    assert len(events) >= 2
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(json.loads(e["data"])["id"] == int(e["id"]) for e in events)
    # Reconnect with Last-Event-ID: only what came after.
    replay = await wclient.get(f"/runs/{continuation['id']}/events",
                               headers={**carol.headers, "Last-Event-ID": events[0]["id"]})
    assert [int(e["id"]) for e in parse_sse(replay.text)] == ids[1:]

    history = (await wclient.get(f"/conversations/{conversation_id}/history", headers=carol.headers)).json()
    roles = [m["role"] for m in history["items"]]
    assert roles.count("user") == 2 and roles[-1] == "assistant"
    workflow = (await wclient.get(f"/conversations/{conversation_id}/workflow", headers=carol.headers)).json()
    assert workflow["workflow"] is not None and workflow["agents"]


async def test_chat_continues_a_conversation_and_refuses_anothers(wclient: httpx.AsyncClient,
                                                                  carol: Account) -> None:
    first = (await wclient.post("/chat", json={"message": "What is a deductible?"}, headers=carol.headers)).json()
    assert first["status"] in ("success", "interrupted")
    second = await wclient.post("/chat", json={"message": "And a copay?", "conversation_id": first["conversation_id"]},
                                headers=carol.headers)
    assert second.status_code == 200 and second.json()["conversation_id"] == first["conversation_id"]
    dave = await register_and_login(wclient)
    stolen = await wclient.post("/chat", json={"message": "hi", "conversation_id": first["conversation_id"]},
                                headers=dave.headers)
    assert stolen.status_code == 404
    for path in (f"/runs/{first['run_id']}", f"/runs/{first['run_id']}/events"):
        assert (await wclient.get(path, headers=dave.headers)).status_code == 404
    assert (await wclient.post(f"/runs/{first['run_id']}/cancel", headers=dave.headers)).status_code == 404
    unknown = await wclient.post("/chat", json={"message": "hi", "conversation_id": str(uuid.uuid4())},
                                 headers=carol.headers)
    assert unknown.status_code == 404


async def test_queue_run_with_idempotency_key_and_cancel(wclient: httpx.AsyncClient, carol: Account) -> None:
    cid = (await wclient.post("/conversations", json={}, headers=carol.headers)).json()["id"]
    headers = {**carol.headers, "Idempotency-Key": "key-1"}
    one = await wclient.post(f"/conversations/{cid}/runs", json={"message": "What is an EOB?"}, headers=headers)
    two = await wclient.post(f"/conversations/{cid}/runs", json={"message": "What is an EOB?"}, headers=headers)
    assert one.status_code == two.status_code == 202
    assert one.json()["id"] == two.json()["id"]
    other = await wclient.post(f"/conversations/{cid}/runs", json={"message": "different"}, headers=headers)
    assert other.status_code == 409
    final = await wait_settled(wclient, carol, one.json()["id"])
    assert final["status"] in ("success", "interrupted")
    cancelled = await wclient.post(f"/runs/{one.json()['id']}/cancel", headers=carol.headers)
    assert cancelled.status_code == 200
    for blank in ("   ", "\x1c\x1f", "\u3000", "\x85"):  # what str.strip() removes, stated in the schema's pattern
        response = await wclient.post(f"/conversations/{cid}/runs", json={"message": blank}, headers=carol.headers)
        assert response.status_code == 422


async def test_sensitive_numbers_never_reach_a_table(wclient: httpx.AsyncClient, carol: Account,
                                                     migrated_dsn: str) -> None:
    """Masking happens at the edge: runs.input, messages, titles, events and checkpoints all see masks."""
    ssn, card = "123-45-6789", "4111 1111 1111 1111"
    created = await wclient.post("/conversations", headers=carol.headers,
                                 json={"title": f"card {card}", "metadata": {"note": f"ssn {ssn}"}})
    assert created.status_code == 201, created.text
    asked = await wclient.post("/chat", headers=carol.headers,
                               json={"message": f"My claim was denied. SSN {ssn}, card {card}. Appeal?"})
    assert asked.status_code == 200 and asked.json()["status"] == "interrupted", asked.text
    resumed = await wclient.post(f"/runs/{asked.json()['run_id']}/resume", headers=carol.headers,
                                 json={"input": {"plan": f"employer, letter March 3, card {card.replace(' ', '')}"}})
    assert resumed.status_code == 202, resumed.text
    assert (await wait_settled(wclient, carol, resumed.json()["id"]))["status"] == "success"
    con = await asyncpg.connect(migrated_dsn)
    try:
        found = await tables_containing(con, [ssn, card, card.replace(" ", "")])
    finally:
        await con.close()
    assert found == []
