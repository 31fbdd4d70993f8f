"""One message cap for the whole service (agents.limits): the API refuses a longer message with 422
before it creates a conversation or a run, and the guard refuses the same length."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from agents.guard import validate_message
from agents.limits import MAX_MESSAGE_CHARS
from tests.api.conftest import Account

TOO_LONG = "a" * (MAX_MESSAGE_CHARS + 1)
LONGEST = "b" * MAX_MESSAGE_CHARS


async def count(migrated_dsn: str, sql: str, *args: object) -> int:
    con = await asyncpg.connect(migrated_dsn)
    try:
        return int(await con.fetchval(sql, *args))
    finally:
        await con.close()


async def test_chat_refuses_an_over_long_message_before_creating_anything(
        client: httpx.AsyncClient, alice: Account, migrated_dsn: str) -> None:
    before = await count(migrated_dsn, "SELECT count(*) FROM conversations WHERE user_id = $1", uuid.UUID(alice.id))
    response = await client.post("/chat", json={"message": TOO_LONG}, headers=alice.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "message"] and TOO_LONG not in response.text
    after = await count(migrated_dsn, "SELECT count(*) FROM conversations WHERE user_id = $1", uuid.UUID(alice.id))
    assert after == before
    # The cap itself is accepted, and the guard agrees on where the line is.
    assert validate_message(LONGEST) is None and validate_message(TOO_LONG) is not None
    accepted = await client.post("/chat", json={"message": LONGEST}, headers=alice.headers)
    assert accepted.status_code == 202  # stored and queued (this app runs no workers)


async def test_runs_and_answers_obey_the_same_cap(client: httpx.AsyncClient, alice: Account,
                                                   migrated_dsn: str) -> None:
    conversation = (await client.post("/conversations", json={"title": "cap"}, headers=alice.headers)).json()
    response = await client.post(f"/conversations/{conversation['id']}/runs", json={"message": TOO_LONG},
                                 headers=alice.headers)
    assert response.status_code == 422
    runs = await count(migrated_dsn, "SELECT count(*) FROM runs WHERE conversation_id = $1",
                       uuid.UUID(conversation["id"]))
    assert runs == 0
    # An answer is a message too, as text or as named facts (its JSON text counts).
    any_run = uuid.uuid4()
    text = await client.post(f"/runs/{any_run}/resume", json={"input": TOO_LONG}, headers=alice.headers)
    facts = await client.post(f"/runs/{any_run}/resume", headers=alice.headers,
                              json={"input": {"plan_type": "employer", "note": "c" * 2000, "more": "d" * 2000}})
    assert text.status_code == 422 and facts.status_code == 422
    # Within the cap the request passes validation and meets the run's owner check (404: no such run).
    short = await client.post(f"/runs/{any_run}/resume", json={"input": {"plan_type": "employer"}},
                              headers=alice.headers)
    assert short.status_code == 404
