"""Conversation routes: create, list with limit and cursor, expiry, extend, history, export, workflow, delete."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from db.scope import acting_as
from tests.api.conftest import Account


async def test_create_get_list_paginate(client: httpx.AsyncClient, alice: Account) -> None:
    ids = []
    for i in range(5):
        response = await client.post("/conversations", json={"title": f"t{i}", "metadata": {"i": i}},
                                     headers=alice.headers)
        assert response.status_code == 201
        ids.append(response.json()["id"])
    one = await client.get(f"/conversations/{ids[0]}", headers=alice.headers)
    assert one.status_code == 200 and one.json()["metadata"] == {"i": 0}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/conversations", headers=alice.headers, params=params)).json()
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i for i in seen if i in ids] == list(reversed(ids))
    for bad in ({"limit": 101}, {"limit": 0}, {"cursor": "%%%"}):
        assert (await client.get("/conversations", headers=alice.headers, params=bad)).status_code == 422
    assert (await client.get("/conversations/not-a-uuid", headers=alice.headers)).status_code == 422
    assert (await client.get(f"/conversations/{uuid.uuid4()}", headers=alice.headers)).status_code == 404


async def test_expired_is_404_at_once_and_extend_moves_expiry(client: httpx.AsyncClient, app: FastAPI,
                                                             alice: Account) -> None:
    created = (await client.post("/conversations", json={}, headers=alice.headers)).json()
    cid = created["id"]
    extended = await client.post(f"/conversations/{cid}/extend", json={"hours": 48}, headers=alice.headers)
    assert extended.status_code == 200
    assert extended.json()["expires_at"] > created["expires_at"]
    default = await client.post(f"/conversations/{cid}/extend", headers=alice.headers)
    assert default.status_code == 200
    await app.state.pool.execute("UPDATE conversations SET expires_at = now() - interval '1 second' WHERE id = $1",
                                 uuid.UUID(cid))
    for path in ("", "/history", "/export", "/workflow"):
        assert (await client.get(f"/conversations/{cid}{path}", headers=alice.headers)).status_code == 404, path
    assert (await client.post(f"/conversations/{cid}/extend", headers=alice.headers)).status_code == 404
    listed = (await client.get("/conversations", headers=alice.headers, params={"limit": 100})).json()
    assert cid not in [c["id"] for c in listed["items"]]


async def test_history_export_workflow_and_delete(client: httpx.AsyncClient, app: FastAPI,
                                                  alice: Account) -> None:
    cid = (await client.post("/conversations", json={"title": "claims"}, headers=alice.headers)).json()["id"]
    with acting_as(uuid.UUID(alice.id)):  # the service acts for a user, as a request would
        await app.state.conversations.append(cid, alice.id, [
            {"role": "user", "content": f"message {i}"} for i in range(3)
        ] + [{"role": "assistant", "content": "answer", "agent_name": "communicator"}])
    first = (await client.get(f"/conversations/{cid}/history", headers=alice.headers, params={"limit": 3})).json()
    assert [m["content"] for m in first["items"]] == ["message 0", "message 1", "message 2"]
    rest = (await client.get(f"/conversations/{cid}/history", headers=alice.headers,
                             params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert [m["agent_name"] for m in rest["items"]] == ["communicator"] and rest["next_cursor"] is None
    empty = (await client.get(f"/conversations/{cid}/workflow", headers=alice.headers)).json()
    assert empty == {"conversation_id": cid, "workflow": None, "agents": []}
    await app.state.pool.execute(
        "INSERT INTO workflow_states (conversation_id, user_id, workflow_type, current_step, state_data) "
        "VALUES ($1, $2, 'navigation', 'communicator', $3)", cid, uuid.UUID(alice.id), {"intent": "appeal"})
    workflow = (await client.get(f"/conversations/{cid}/workflow", headers=alice.headers)).json()
    assert workflow["workflow"]["current_step"] == "communicator"
    exported = (await client.get(f"/conversations/{cid}/export", headers=alice.headers)).json()
    assert exported["conversation"]["title"] == "claims"
    assert len(exported["messages"]) == 4 and exported["workflow"]["workflow"]["state_data"] == {"intent": "appeal"}
    await app.state.pool.execute(  # a crisis the guard saw in it: names the thread, no foreign key
        "INSERT INTO risk_detections (conversation_id, user_id, message_id, category, severity, excerpt) "
        "VALUES ($1, $2, 'm1', 'self_harm', 'urgent', 'no point going on')", cid, uuid.UUID(alice.id))
    assert (await client.delete(f"/conversations/{cid}", headers=alice.headers)).status_code == 204
    assert (await client.get(f"/conversations/{cid}", headers=alice.headers)).status_code == 404
    assert (await client.delete(f"/conversations/{cid}", headers=alice.headers)).status_code == 404
    assert await app.state.pool.fetchval("SELECT count(*) FROM conversation_messages WHERE conversation_id = $1",
                                         uuid.UUID(cid)) == 0
    assert await app.state.pool.fetchval("SELECT count(*) FROM workflow_states WHERE conversation_id = $1",
                                         cid) == 0
    assert await app.state.pool.fetchval("SELECT count(*) FROM risk_detections WHERE conversation_id = $1",
                                         cid) == 0


async def test_other_users_conversation_is_404_and_untouched(client: httpx.AsyncClient, alice: Account,
                                                             bob: Account) -> None:
    cid = (await client.post("/conversations", json={"title": "mine"}, headers=alice.headers)).json()["id"]
    assert (await client.get(f"/conversations/{cid}", headers=bob.headers)).status_code == 404
    assert (await client.delete(f"/conversations/{cid}", headers=bob.headers)).status_code == 404
    listed = (await client.get("/conversations", headers=bob.headers, params={"limit": 100})).json()
    assert cid not in [c["id"] for c in listed["items"]]
    assert (await client.get(f"/conversations/{cid}", headers=alice.headers)).status_code == 200


async def test_runs_of_an_expired_conversation_are_404_at_once(client: httpx.AsyncClient, app: FastAPI,
                                                               alice: Account) -> None:
    cid = (await client.post("/conversations", json={}, headers=alice.headers)).json()["id"]
    run = await client.post(f"/conversations/{cid}/runs", json={"message": "my member id is X123"},
                            headers=alice.headers)
    assert run.status_code == 202
    rid = run.json()["id"]
    await app.state.pool.execute("UPDATE conversations SET expires_at = now() - interval '1 second' WHERE id = $1",
                                 uuid.UUID(cid))
    assert (await client.get(f"/runs/{rid}", headers=alice.headers)).status_code == 404
    assert (await client.get(f"/runs/{rid}/events", headers=alice.headers)).status_code == 404
    assert (await client.post(f"/runs/{rid}/cancel", headers=alice.headers)).status_code == 404
    assert (await client.post(f"/runs/{rid}/resume", json={"input": "yes"},
                              headers=alice.headers)).status_code == 404
