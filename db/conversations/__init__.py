"""Conversations and their messages: owned by one user, expiring after CONVERSATION_TTL_HOURS.

Every query filters by `user_id` and `expires_at > now()`, so a conversation
that belongs to someone else, or whose time is up, is `NotFound` at once (even
before any cleanup deletes it). The connection-level functions (`get_owned`,
`append_messages`) run inside another module's transaction (the run workers);
`ConversationService` is what the API uses.

The conversation id is the graph's `thread_id`; the workflow view reads the
checkpointer's projection (`workflow_states` / `agent_states`, written by
db/checkpoint/) read-only, joined to the owned conversation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from db.connection import Connection, as_uuid
from db.conversations.sql import (
    APPEND_MESSAGES,
    CONVERSATION_COLUMNS,
    COPY_MESSAGES,
    COPY_OWNED_CONVERSATION,
    COUNT_CONVERSATIONS,
    COUNT_MESSAGES,
    DELETE_OWNED_CONVERSATION,
    EXTEND_OWNED_CONVERSATION,
    INSERT_CONVERSATION,
    INSERT_CONVERSATION_WITH_ID,
    LIST_OWNED_CONVERSATIONS,
    LOCK_OWNED_CONVERSATION,
    LOCK_OWNED_CONVERSATION_RUNS,
    MERGE_OWNED_CONVERSATION_METADATA,
    SELECT_AGENT_STATES,
    SELECT_ALL_MESSAGES,
    SELECT_MESSAGES_AFTER,
    SELECT_OWNED_CONVERSATION,
    SELECT_OWNED_THREAD,
    SELECT_THREAD_GRAPH,
    SELECT_WORKFLOW_STATE,
    UPDATE_OWNED_CONVERSATION,
)
from db.errors import NotFound
from db.paging import MAX_PAGE_SIZE, Page, decode_cursor, encode_cursor

MESSAGE_ROLES = ("user", "assistant", "system")
DEFAULT_TTL_HOURS = 24


@dataclass(frozen=True)
class Conversation:
    id: uuid.UUID
    user_id: uuid.UUID
    title: str | None
    pinned: bool
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    graph_id: str = "navigator"


@dataclass(frozen=True)
class Message:
    id: int
    role: str
    content: str
    agent_name: str | None
    metadata: dict[str, Any]
    created_at: datetime


def to_conversation(row: Mapping[str, Any] | asyncpg.Record) -> Conversation:
    return Conversation(**{key: row[key] for key in CONVERSATION_COLUMNS.split(", ")})


def to_message(row: Mapping[str, Any] | asyncpg.Record) -> Message:
    return Message(id=row["id"], role=row["role"], content=row["content"], agent_name=row["agent_name"],
                   metadata=row["metadata"], created_at=row["created_at"])


def message_columns(messages: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[str], list[str | None], list[str]]:
    roles, contents, agents, metadata = [], [], [], []
    for message in messages:
        role = message.get("role")
        if role not in MESSAGE_ROLES:
            raise ValueError(f"message role must be one of {', '.join(MESSAGE_ROLES)}")
        content = message.get("content")
        if not isinstance(content, str):
            raise TypeError("message content must be a string")
        roles.append(role)
        contents.append(content)
        agents.append(message.get("agent_name"))
        metadata.append(json.dumps(message.get("metadata") or {}))
    return roles, contents, agents, metadata


async def insert_conversation(con: Connection, user_id: uuid.UUID, title: str | None, metadata: dict[str, Any],
                              ttl_hours: int) -> Conversation:
    """A new conversation of the user, in the caller's transaction (POST /chat creates it with its run)."""
    row = await con.fetchrow(INSERT_CONVERSATION, user_id, title, metadata, ttl_hours)
    assert row is not None
    return to_conversation(row)


async def get_owned(con: Connection, conversation_id: object, user_id: object) -> asyncpg.Record:
    """The conversation row; NotFound when missing, another user's, or past `expires_at`."""
    row = await con.fetchrow(SELECT_OWNED_CONVERSATION, as_uuid(conversation_id), as_uuid(user_id, "user"))
    if row is None:
        raise NotFound("conversation", conversation_id)
    return row


async def thread_graph(con: Connection | asyncpg.Pool, thread_id: uuid.UUID) -> str | None:
    """The graph that drives the thread, or None when it does not exist (any more)."""
    graph: str | None = await con.fetchval(SELECT_THREAD_GRAPH, thread_id)
    return graph


async def lock_owned(con: Connection, conversation_id: object, user_id: object) -> Conversation:
    """In the caller's transaction: the conversation, locked until it ends (NotFound as `get_owned`)."""
    row = await con.fetchrow(LOCK_OWNED_CONVERSATION, as_uuid(conversation_id), as_uuid(user_id, "user"))
    if row is None:
        raise NotFound("conversation", conversation_id)
    return to_conversation(row)


async def merge_metadata(con: Connection, conversation_id: object, user_id: object,
                         metadata: Mapping[str, Any]) -> Conversation:
    row = await con.fetchrow(MERGE_OWNED_CONVERSATION_METADATA, as_uuid(conversation_id),
                             as_uuid(user_id, "user"), dict(metadata))
    if row is None:
        raise NotFound("conversation", conversation_id)
    return to_conversation(row)


async def append_messages(con: Connection, conversation_id: object, user_id: object,
                          messages: list[dict[str, Any]]) -> None:
    """Append messages (dicts: role, content, agent_name?, metadata?) in order, in the caller's
    transaction; NotFound when the conversation is not the user's or has expired."""
    if not messages:
        await get_owned(con, conversation_id, user_id)
        return
    roles, contents, agents, metadata = message_columns(messages)
    rows = await con.fetch(APPEND_MESSAGES, as_uuid(conversation_id), as_uuid(user_id, "user"),
                           roles, contents, agents, metadata)
    if not rows:
        raise NotFound("conversation", conversation_id)


class ConversationService:
    """Conversation operations for the API; every method takes the acting user's id."""

    def __init__(self, pool: asyncpg.Pool, *, ttl_hours: int = DEFAULT_TTL_HOURS) -> None:
        self.pool = pool
        self.ttl_hours = ttl_hours

    async def create(self, user_id: object, title: str | None = None,
                     metadata: dict[str, Any] | None = None) -> Conversation:
        async with self.pool.acquire() as con:
            return await insert_conversation(con, as_uuid(user_id, "user"), title, metadata or {}, self.ttl_hours)

    async def get(self, conversation_id: object, user_id: object) -> Conversation:
        async with self.pool.acquire() as con:
            return to_conversation(await get_owned(con, conversation_id, user_id))

    async def thread(self, thread_id: object, user_id: object) -> Conversation:
        """A conversation or a case's thread (its `graph_id` says which); NotFound as `get`."""
        row = await self.pool.fetchrow(SELECT_OWNED_THREAD, as_uuid(thread_id), as_uuid(user_id, "user"))
        if row is None:
            raise NotFound("thread", thread_id)
        return to_conversation(row)

    async def list_page(self, user_id: object, *, limit: int = 20, cursor: str | None = None,
                        pinned: bool | None = None) -> Page:
        """Newest first, only the pinned (or unpinned) ones when `pinned` is given;
        raises ValueError on a bad cursor or limit outside 1..100."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        after_created, after_id = decode_cursor(cursor) if cursor else (None, None)
        rows = await self.pool.fetch(LIST_OWNED_CONVERSATIONS, as_uuid(user_id, "user"),
                                     after_created, after_id, limit + 1, pinned)
        items = [to_conversation(row) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items, encode_cursor(items[-1].created_at, items[-1].id) if more else None)

    async def extend(self, conversation_id: object, user_id: object, hours: int | None = None) -> Conversation:
        """Push `expires_at` to now + hours (default the TTL); an expired one cannot be revived."""
        row = await self.pool.fetchrow(EXTEND_OWNED_CONVERSATION, as_uuid(conversation_id),
                                       as_uuid(user_id, "user"), hours or self.ttl_hours)
        if row is None:
            raise NotFound("conversation", conversation_id)
        return to_conversation(row)

    async def update(self, conversation_id: object, user_id: object, *, title: str | None = None,
                     pinned: bool | None = None) -> Conversation:
        """Rename and/or pin; what is None stays as it is. NotFound when not owned or expired."""
        row = await self.pool.fetchrow(UPDATE_OWNED_CONVERSATION, as_uuid(conversation_id),
                                       as_uuid(user_id, "user"), title, pinned)
        if row is None:
            raise NotFound("conversation", conversation_id)
        return to_conversation(row)

    async def delete(self, conversation_id: object, user_id: object) -> None:
        from db.documents import delete_conversation_documents  # db.documents imports this module

        cid, uid = as_uuid(conversation_id), as_uuid(user_id, "user")
        async with self.pool.acquire() as con, con.transaction():
            await con.execute(LOCK_OWNED_CONVERSATION_RUNS, cid, uid)
            # Documents attached only to this conversation go with it (their links alone would cascade);
            # NotFound below rolls this back too.
            await delete_conversation_documents(con, cid, uid)
            # Its thread (checkpoints, workflow and agent states, risk detections) goes in the
            # same transaction: nothing left behind that the API could no longer reach. First:
            # row-level security shows them only while the conversation that owns them exists.
            # (Imported here: the checkpointer's SQL composes in the run queue's, which
            # composes in this module's; a top-level import would close that circle.)
            from db.lifecycle.erase import delete_thread

            await delete_thread(con, str(cid))
            deleted = await con.fetchval(DELETE_OWNED_CONVERSATION, cid, uid)
            if deleted is None:
                raise NotFound("conversation", conversation_id)

    async def append(self, conversation_id: object, user_id: object, messages: list[dict[str, Any]]) -> None:
        async with self.pool.acquire() as con:
            await append_messages(con, conversation_id, user_id, messages)

    async def history(self, conversation_id: object, user_id: object, *, limit: int = 50,
                      after_id: int = 0) -> Page:
        """Messages oldest first after `after_id`; the cursor is the last message id."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        cid, uid = as_uuid(conversation_id), as_uuid(user_id, "user")
        async with self.pool.acquire() as con:
            await get_owned(con, cid, uid)
            rows = await con.fetch(SELECT_MESSAGES_AFTER, cid, uid, after_id, limit + 1)
        items = [to_message(row) for row in rows[:limit]]
        return Page(items, str(items[-1].id) if len(rows) > limit else None)

    async def export(self, conversation_id: object, user_id: object) -> dict[str, Any]:
        """The conversation, all its messages and its workflow, read in one snapshot."""
        cid, uid = as_uuid(conversation_id), as_uuid(user_id, "user")
        async with self.pool.acquire() as con, con.transaction(isolation="repeatable_read", readonly=True):
            conversation = to_conversation(await get_owned(con, cid, uid))
            messages = [to_message(row) for row in await con.fetch(SELECT_ALL_MESSAGES, cid, uid)]
            workflow = await self._workflow(con, cid, uid)
        return {"conversation": conversation, "messages": messages, "workflow": workflow}

    async def workflow(self, conversation_id: object, user_id: object) -> dict[str, Any]:
        """Where the conversation's workflow is and what each agent concluded."""
        cid, uid = as_uuid(conversation_id), as_uuid(user_id, "user")
        async with self.pool.acquire() as con, con.transaction(isolation="repeatable_read", readonly=True):
            await get_owned(con, cid, uid)
            return await self._workflow(con, cid, uid)

    @staticmethod
    async def _workflow(con: Connection, cid: uuid.UUID, uid: uuid.UUID) -> dict[str, Any]:
        state = await con.fetchrow(SELECT_WORKFLOW_STATE, str(cid), uid)
        agents = await con.fetch(SELECT_AGENT_STATES, str(cid), uid)
        return {"conversation_id": cid,
                "workflow": dict(state) if state is not None else None,
                "agents": [dict(row) for row in agents]}

    async def create_with_id(self, user_id: object, conversation_id: object, title: str | None = None,
                             metadata: dict[str, Any] | None = None,
                             ttl_minutes: int | None = None) -> Conversation | None:
        """Create with the given id; None when that id exists already (the caller's or not)."""
        minutes = ttl_minutes if ttl_minutes is not None else self.ttl_hours * 60
        row = await self.pool.fetchrow(INSERT_CONVERSATION_WITH_ID, as_uuid(conversation_id),
                                       as_uuid(user_id, "user"), title, metadata or {}, minutes)
        return to_conversation(row) if row is not None else None

    async def update_metadata(self, conversation_id: object, user_id: object,
                              metadata: Mapping[str, Any]) -> Conversation:
        async with self.pool.acquire() as con:
            return await merge_metadata(con, conversation_id, user_id, metadata)

    async def copy(self, conversation_id: object, user_id: object) -> Conversation:
        """A new conversation with the same title, metadata, messages and whole checkpoint
        history (one transaction); its time to live starts now."""
        cid, uid = as_uuid(conversation_id), as_uuid(user_id, "user")
        async with self.pool.acquire() as con, con.transaction():
            row = await con.fetchrow(COPY_OWNED_CONVERSATION, cid, uid, self.ttl_hours)
            if row is None:
                raise NotFound("conversation", conversation_id)
            copied = to_conversation(row)
            await con.execute(COPY_MESSAGES, cid, copied.id)
            from db.checkpoint.sql import COPY_THREAD  # imported here: see `delete`

            await con.execute(COPY_THREAD, str(cid), str(copied.id))
        return copied

    async def counts(self) -> dict[str, int]:
        """Totals for the admin stats."""
        async with self.pool.acquire() as con:
            return {"conversations": await con.fetchval(COUNT_CONVERSATIONS),
                    "messages": await con.fetchval(COUNT_MESSAGES)}
