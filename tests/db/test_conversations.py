"""db/conversations against the real server: ownership, expiry, order, pagination."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from db.conversations import ConversationService, append_messages, get_owned
from db.errors import NotFound

INSERT_USER = "INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id"


async def new_user(pool: asyncpg.Pool) -> uuid.UUID:
    return await pool.fetchval(INSERT_USER, f"{uuid.uuid4().hex}@example.com")


async def test_owned_conversation_is_found_only_by_its_owner(pool: asyncpg.Pool) -> None:
    service = ConversationService(pool)
    alice, bob = await new_user(pool), await new_user(pool)
    conversation = await service.create(alice, "MRI denial")
    async with pool.acquire() as con:
        row = await get_owned(con, conversation.id, alice)
        assert row["title"] == "MRI denial"
        with pytest.raises(NotFound):
            await get_owned(con, conversation.id, bob)
        with pytest.raises(NotFound):
            await get_owned(con, "not-a-uuid", alice)
    with pytest.raises(NotFound):
        await service.delete(conversation.id, bob)
    assert (await service.get(conversation.id, alice)).id == conversation.id


async def test_expired_conversation_is_not_found_before_cleanup(pool: asyncpg.Pool) -> None:
    service = ConversationService(pool)
    alice = await new_user(pool)
    conversation = await service.create(alice)
    await pool.execute("UPDATE conversations SET expires_at = now() - interval '1 second' WHERE id = $1",
                       conversation.id)
    with pytest.raises(NotFound):
        await service.get(conversation.id, alice)
    with pytest.raises(NotFound):
        await service.extend(conversation.id, alice)
    with pytest.raises(NotFound):
        await service.append(conversation.id, alice, [{"role": "user", "content": "hi"}])
    assert await pool.fetchval("SELECT count(*) FROM conversations WHERE id = $1", conversation.id) == 1


async def test_append_keeps_order_and_runs_in_the_callers_transaction(pool: asyncpg.Pool) -> None:
    service = ConversationService(pool)
    alice, bob = await new_user(pool), await new_user(pool)
    conversation = await service.create(alice)
    messages = [{"role": "user", "content": f"m{i}", "metadata": {"i": i}} for i in range(5)]
    messages.append({"role": "assistant", "content": "reply", "agent_name": "communicator"})
    async with pool.acquire() as con:
        with pytest.raises(RuntimeError):
            async with con.transaction():
                await append_messages(con, conversation.id, alice, messages)
                raise RuntimeError("roll back")
        with pytest.raises(NotFound):
            await append_messages(con, conversation.id, bob, messages)
    assert (await service.history(conversation.id, alice)).items == []
    await service.append(conversation.id, alice, messages)
    page = await service.history(conversation.id, alice, limit=4)
    assert [m.content for m in page.items] == ["m0", "m1", "m2", "m3"]
    assert page.items[2].metadata == {"i": 2}
    rest = await service.history(conversation.id, alice, limit=4, after_id=int(page.next_cursor or 0))
    assert [(m.content, m.agent_name) for m in rest.items] == [("m4", None), ("reply", "communicator")]
    assert rest.next_cursor is None
    with pytest.raises(ValueError):
        await service.append(conversation.id, alice, [{"role": "robot", "content": "x"}])


async def test_list_paginates_newest_first_with_a_cursor(pool: asyncpg.Pool) -> None:
    service = ConversationService(pool)
    alice, bob = await new_user(pool), await new_user(pool)
    created = [await service.create(alice, f"c{i}") for i in range(5)]
    await service.create(bob, "not alice's")
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        page = await service.list_page(alice, limit=2, cursor=cursor)
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [c.id for c in reversed(created)]
    with pytest.raises(ValueError):
        await service.list_page(alice, cursor="garbage!")
    with pytest.raises(ValueError):
        await service.list_page(alice, limit=101)


async def test_workflow_reads_projection_of_owned_conversation_only(pool: asyncpg.Pool) -> None:
    service = ConversationService(pool)
    alice, bob = await new_user(pool), await new_user(pool)
    conversation = await service.create(alice)
    await pool.execute("INSERT INTO workflow_states (conversation_id, user_id, workflow_type, current_step, "
                       "state_data) VALUES ($1, $2, 'navigation', 'strategy', $3)",
                       str(conversation.id), alice, {"intent": "claim_denial"})
    await pool.execute("INSERT INTO agent_states (conversation_id, agent_name, state_data, workflow_step) "
                       "VALUES ($1, 'navigator', $2, 'navigator')", str(conversation.id), {"plan": "appeal"})
    view = await service.workflow(conversation.id, alice)
    assert view["workflow"]["current_step"] == "strategy"
    assert view["agents"][0]["state_data"] == {"plan": "appeal"}
    with pytest.raises(NotFound):
        await service.workflow(conversation.id, bob)
    exported = await service.export(conversation.id, alice)
    assert exported["workflow"]["workflow"]["state_data"] == {"intent": "claim_denial"}


