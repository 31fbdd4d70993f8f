"""Users and conversations inserted straight into a test database (no password hashing, no API)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg

INSERT_TEST_USER = "INSERT INTO users (email, password_hash) VALUES ($1, 'not-a-real-hash') RETURNING id"
INSERT_TEST_CONVERSATION = (
    "INSERT INTO conversations (user_id, title, expires_at) VALUES ($1, 'test', now() + interval '1 day') RETURNING id"
)

NewUser = Callable[[], Awaitable[uuid.UUID]]
NewConversation = Callable[[uuid.UUID], Awaitable[uuid.UUID]]


async def insert_user(con: asyncpg.Connection | asyncpg.Pool) -> uuid.UUID:
    return await con.fetchval(INSERT_TEST_USER, f"user-{uuid.uuid4().hex[:12]}@example.com")


async def insert_conversation(con: asyncpg.Connection | asyncpg.Pool, user_id: uuid.UUID) -> uuid.UUID:
    return await con.fetchval(INSERT_TEST_CONVERSATION, user_id)
