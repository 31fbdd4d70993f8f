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
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from db.batch import BatchStats, StatementBatcher
from db.errors import NotFound

# A plain connection or one borrowed from the pool: both work for every helper here.
Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

# graph_id: the graph that drives the thread (`navigator`; `case` for a case's thread, db/cases.py).
CONVERSATION_COLUMNS = "id, user_id, title, pinned, metadata, created_at, updated_at, expires_at, graph_id"
_SELECT_CONVERSATION_COLUMNS = "\nSELECT " + CONVERSATION_COLUMNS

INSERT_CONVERSATION = """
INSERT INTO conversations (user_id, title, metadata, expires_at)
VALUES ($1, $2, $3, now() + make_interval(hours => $4))
RETURNING """ + CONVERSATION_COLUMNS
# A case's thread (graph_id 'case', db/cases.py) is not a conversation of the person: the case's
# routes reach it, these do not (extending or deleting it here would break its case).
SELECT_OWNED_CONVERSATION = _SELECT_CONVERSATION_COLUMNS + """
  FROM conversations
 WHERE id = $1 AND user_id = $2 AND expires_at > now() AND graph_id = 'navigator'
"""
# Keyset pagination, newest first; the cursor is the last row's (created_at, id).
LIST_OWNED_CONVERSATIONS = _SELECT_CONVERSATION_COLUMNS + """
  FROM conversations
 WHERE user_id = $1 AND expires_at > now() AND graph_id = 'navigator'
   AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
   AND ($5::boolean IS NULL OR pinned = $5)
 ORDER BY created_at DESC, id DESC
 LIMIT $4
"""
EXTEND_OWNED_CONVERSATION = """
UPDATE conversations
   SET expires_at = now() + make_interval(hours => $3), updated_at = now()
 WHERE id = $1 AND user_id = $2 AND expires_at > now() AND graph_id = 'navigator'
RETURNING """ + CONVERSATION_COLUMNS
# Rename and/or pin: a NULL leaves that column as it is. Not activity, so updated_at stays.
UPDATE_OWNED_CONVERSATION = """
UPDATE conversations
   SET title = COALESCE($3, title), pinned = COALESCE($4, pinned)
 WHERE id = $1 AND user_id = $2 AND expires_at > now() AND graph_id = 'navigator'
RETURNING """ + CONVERSATION_COLUMNS
# Before a delete: lock the conversation's runs, so the delete takes its locks in the order a
# finishing run does (its `runs` row, then the conversation) instead of deadlocking with it.
LOCK_OWNED_CONVERSATION_RUNS = """
SELECT r.id FROM runs r
 WHERE r.conversation_id = $1 AND r.user_id = $2
   AND r.status IN ('pending', 'running', 'interrupted')
 ORDER BY r.id
   FOR UPDATE
"""
DELETE_OWNED_CONVERSATION = """
DELETE FROM conversations WHERE id = $1 AND user_id = $2 AND expires_at > now() AND graph_id = 'navigator'
RETURNING id
"""
# One round trip: touch the owned (unexpired) conversation and insert every message.
APPEND_MESSAGES = """
WITH owned AS (
    UPDATE conversations SET updated_at = now()
     WHERE id = $1 AND user_id = $2 AND expires_at > now()
    RETURNING id, user_id
)
INSERT INTO conversation_messages (conversation_id, user_id, role, content, agent_name, metadata)
SELECT owned.id, owned.user_id, m.role, m.content, m.agent_name, m.metadata::jsonb
  FROM owned, unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
       AS m(role, content, agent_name, metadata, position)
 ORDER BY m.position
RETURNING id
"""
# The same, composed into a statement of the run queue (db/runs/sql.py: FINISH_RUN) that
# defines `message_target (conversation_id, user_id)`; the messages are its $8-$11.
APPEND_MESSAGES_TO_TARGET = """,
touched AS (
    UPDATE conversations c SET updated_at = now()
      FROM message_target t
     WHERE c.id = t.conversation_id AND c.user_id = t.user_id AND c.expires_at > now()
       AND cardinality($8::text[]) > 0
    RETURNING c.id, c.user_id
), appended AS (
    INSERT INTO conversation_messages (conversation_id, user_id, role, content, agent_name, metadata)
    SELECT touched.id, touched.user_id, m.role, m.content, m.agent_name, m.metadata::jsonb
      FROM touched, unnest($8::text[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY
           AS m(role, content, agent_name, metadata, position)
     ORDER BY m.position
)"""
SELECT_MESSAGES_AFTER = """
SELECT id, role, content, agent_name, metadata, created_at
  FROM conversation_messages
 WHERE conversation_id = $1 AND user_id = $2 AND id > $3
 ORDER BY id
 LIMIT $4
"""
SELECT_ALL_MESSAGES = """
SELECT id, role, content, agent_name, metadata, created_at
  FROM conversation_messages
 WHERE conversation_id = $1 AND user_id = $2
 ORDER BY id
"""
SELECT_WORKFLOW_STATE = """
SELECT w.workflow_type, w.current_step, w.state_data, w.updated_at
  FROM workflow_states w
  JOIN conversations c ON c.id::text = w.conversation_id
 WHERE w.conversation_id = $1::text AND c.user_id = $2 AND c.expires_at > now() AND c.graph_id = 'navigator'
   AND (w.user_id IS NULL OR w.user_id = $2)
"""
SELECT_AGENT_STATES = """
SELECT a.agent_name, a.state_data, a.workflow_step, a.updated_at
  FROM agent_states a
  JOIN conversations c ON c.id::text = a.conversation_id
 WHERE a.conversation_id = $1::text AND c.user_id = $2 AND c.expires_at > now() AND c.graph_id = 'navigator'
 ORDER BY a.agent_name
"""
# --- the Agent Protocol's threads are conversations (api/agent_protocol.py) ---------------

# A client-chosen id; DO NOTHING when it exists (whoever owns it), so the caller can tell.
INSERT_CONVERSATION_WITH_ID = """
INSERT INTO conversations (id, user_id, title, metadata, expires_at)
VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5))
ON CONFLICT (id) DO NOTHING
RETURNING """ + CONVERSATION_COLUMNS
# Keys given replace those stored; other keys stay (LangGraph's metadata update).
MERGE_OWNED_CONVERSATION_METADATA = """
UPDATE conversations SET metadata = metadata || $3::jsonb, updated_at = now()
 WHERE id = $1 AND user_id = $2 AND expires_at > now()
RETURNING """ + CONVERSATION_COLUMNS
# Serialises the runs an Agent Protocol client starts on one thread (multitask_strategy).
LOCK_OWNED_CONVERSATION = SELECT_OWNED_CONVERSATION.rstrip() + "\n   FOR UPDATE\n"
COPY_OWNED_CONVERSATION = """
INSERT INTO conversations (user_id, title, metadata, expires_at)
SELECT user_id, title, metadata, now() + make_interval(hours => $3)
  FROM conversations WHERE id = $1 AND user_id = $2 AND expires_at > now()
RETURNING """ + CONVERSATION_COLUMNS
COPY_MESSAGES = """
INSERT INTO conversation_messages (conversation_id, user_id, role, content, agent_name, metadata, created_at)
SELECT $2, user_id, role, content, agent_name, metadata, created_at
  FROM conversation_messages WHERE conversation_id = $1 ORDER BY id
"""

# Which graph drives a thread: 'navigator' (a conversation) or 'case' (db/cases.py); one row
# (null) when the thread does not exist, so that lookups can be batched (db/batch.py).
SELECT_THREAD_GRAPH = "SELECT (SELECT graph_id FROM conversations WHERE id = $1) AS graph_id"
# A thread of either graph, for readers that show both (the Agent Protocol's threads).
SELECT_OWNED_THREAD = _SELECT_CONVERSATION_COLUMNS + """
  FROM conversations
 WHERE id = $1 AND user_id = $2 AND expires_at > now()
"""
COUNT_CONVERSATIONS = "SELECT count(*) FROM conversations WHERE expires_at > now() AND graph_id = 'navigator'"
COUNT_MESSAGES = "SELECT count(*) FROM conversation_messages"

# --- expiry: the cleanup job (db/lifecycle/cleanup.py) deletes what expired ---------------

# Fragments of the cleanup's one statement per batch. `expired (id)`: a batch of expired
# conversations, oldest expiry first, once the statement's `cleanup_lock` is held ($2 the batch
# size). One with a run pending or running waits until the run settles; a row another transaction
# holds (a run finishing, a delete) is skipped, never waited for.
EXPIRED_BATCH = """
expired AS (
    SELECT c.id FROM conversations c
     WHERE (SELECT held FROM cleanup_lock) AND c.expires_at <= now()
       AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id AND r.status IN ('pending', 'running'))
     ORDER BY c.expires_at
     LIMIT $2
       FOR UPDATE OF c SKIP LOCKED
)"""
# Last: the conversations go, taking their messages, runs (with their events and protocol
# options) and document links along (ON DELETE CASCADE).
DELETE_EXPIRED_BATCH = """,
expired_conversations AS (DELETE FROM conversations WHERE id = ANY (ARRAY(SELECT id FROM expired)) RETURNING id)"""

# --- the account export and import (db/lifecycle/transfer.py) ------------------------------

# A case's thread is a conversation too (graph_id 'case'); it never expires ("infinity").
EXPORT_CONVERSATIONS = """
SELECT id, graph_id, title, pinned, metadata, created_at, updated_at, expires_at
  FROM conversations WHERE user_id = $1 ORDER BY created_at, id
"""
IMPORT_CONVERSATIONS = """
INSERT INTO conversations (user_id, id, graph_id, title, pinned, metadata, created_at, updated_at, expires_at)
SELECT $1, r.id, coalesce(r.graph_id, 'navigator'), r.title, r.pinned, r.metadata, r.created_at, r.updated_at,
       r.expires_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id uuid, graph_id text, title text, pinned boolean, metadata jsonb,
                                     created_at timestamptz, updated_at timestamptz, expires_at timestamptz)
 ORDER BY e.ord
ON CONFLICT (id) DO NOTHING
"""
# Which of these ids are the user's conversations (after an import: an id someone else holds is not).
SELECT_OWNED_AMONG = "SELECT id FROM conversations WHERE user_id = $1 AND id = ANY($2::uuid[])"
SELECT_USER_CONVERSATION_IDS = "SELECT id FROM conversations WHERE user_id = $1"
EXPORT_MESSAGES = """
SELECT id, conversation_id, role, content, agent_name, metadata, created_at
  FROM conversation_messages WHERE user_id = $1 ORDER BY id
"""
# A message already stored (same conversation, time, role and words) is not stored again ($3 the
# user's conversations). The first statement keeps each message's id where that id is free; the
# second stores the rest under new ids (a database whose ids have run elsewhere).
_IMPORT_MESSAGES_FROM = """
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id bigint, conversation_id uuid, role text, content text, agent_name text,
                                     metadata jsonb, created_at timestamptz)
 WHERE r.conversation_id = ANY($3::uuid[])
   AND NOT EXISTS (SELECT 1 FROM conversation_messages m
                    WHERE m.conversation_id = r.conversation_id AND m.created_at = r.created_at
                      AND m.role = r.role AND m.content = r.content)
 ORDER BY e.ord"""
IMPORT_MESSAGES_KEEPING_IDS = """
INSERT INTO conversation_messages (user_id, id, conversation_id, role, content, agent_name, metadata, created_at)
OVERRIDING SYSTEM VALUE
SELECT $1, r.id, r.conversation_id, r.role, r.content, r.agent_name, r.metadata, r.created_at""" \
    + _IMPORT_MESSAGES_FROM + """
ON CONFLICT (id) DO NOTHING
"""
IMPORT_MESSAGES_NEW_IDS = """
INSERT INTO conversation_messages (user_id, conversation_id, role, content, agent_name, metadata, created_at)
SELECT $1, r.conversation_id, r.role, r.content, r.agent_name, r.metadata, r.created_at""" \
    + _IMPORT_MESSAGES_FROM + "\n"
# After ids were given explicitly: the next message is numbered past every stored one.
ADVANCE_MESSAGE_IDS = """
SELECT setval(s, greatest((SELECT max(id) FROM conversation_messages), pg_sequence_last_value(s), 1))
  FROM CAST(pg_get_serial_sequence('conversation_messages', 'id') AS regclass) AS s
"""
# What the cleanup has still to delete (admin /stats, `navigator cleanup --dry-run`).
COUNT_EXPIRED = """
SELECT count(*) AS conversations,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id
                                        AND r.status IN ('pending', 'running'))) AS waiting_for_runs,
       coalesce(sum((SELECT count(*) FROM conversation_messages m WHERE m.conversation_id = c.id)), 0)::bigint
           AS messages,
       coalesce(sum((SELECT count(*) FROM runs r WHERE r.conversation_id = c.id)), 0)::bigint AS runs
  FROM conversations c
 WHERE c.expires_at <= now()
"""

MESSAGE_ROLES = ("user", "assistant", "system")
MAX_PAGE_SIZE = 100
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


@dataclass(frozen=True)
class Page:
    """One page of a list and the opaque cursor of the next one (None at the end)."""

    items: list[Any]
    next_cursor: str | None


def as_uuid(value: object, kind: str = "conversation") -> uuid.UUID:
    """A UUID from a UUID or its text; anything else names nothing, so NotFound."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(kind, value) from None


def to_conversation(row: Mapping[str, Any] | asyncpg.Record) -> Conversation:
    return Conversation(**{key: row[key] for key in CONVERSATION_COLUMNS.split(", ")})


def to_message(row: Mapping[str, Any] | asyncpg.Record) -> Message:
    return Message(id=row["id"], role=row["role"], content=row["content"], agent_name=row["agent_name"],
                   metadata=row["metadata"], created_at=row["created_at"])


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# "<microseconds since the epoch>-<uuid hex>": every string matching this is a valid cursor.
CURSOR_PATTERN = r"^[0-9]{1,16}-[0-9a-f]{32}$"
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(created_at: datetime, ident: uuid.UUID) -> str:
    micros = (created_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{ident.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Raises ValueError on anything that is not shaped like a cursor this module makes."""
    if not _CURSOR.match(cursor):
        raise ValueError("invalid cursor")
    micros, ident = cursor.split("-")
    return EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=ident)


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


def thread_graph_lookup(pool: asyncpg.Pool, stats: BatchStats | None = None,
                        ) -> Callable[[uuid.UUID], Awaitable[str | None]]:
    """`thread_graph` for the run executors: the lookups of runs claimed together (made in the same
    event-loop iteration) share one round trip."""
    batch = StatementBatcher(pool, SELECT_THREAD_GRAPH, returns_row=True, stats=stats)

    async def lookup(thread_id: uuid.UUID) -> str | None:
        row = await batch.submit([thread_id], durable=False, key=str(thread_id))
        return row["graph_id"] if row is not None else None

    return lookup


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
            # Its thread (checkpoints, workflow and agent states) goes in the same
            # transaction: no checkpoints left behind that the API could no longer reach. First:
            # row-level security shows them only while the conversation that owns them exists.
            # (Imported here: the checkpointer's SQL composes in the run queue's, which
            # composes in this module's; a top-level import would close that circle.)
            from db.checkpoint.sql import DELETE_THREAD

            await con.execute(DELETE_THREAD, str(cid))
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
