"""An account's whole data as one JSON document: what `GET /me/export` answers and `navigator
export` writes, and what `navigator import` reads back.

The document is `{"format": FORMAT, "users": [...], "version": 1}`; each user is an object of
sections named after the tables they come from (`EXPORTED_SECTIONS`), rows as JSON objects with
the tables' own column names: ids and timestamps as stored, binary values in base64. Uploaded
files are in it decrypted (`documents[].file`), because they are the person's files. The password
hash, API key hashes and webhook signing secrets are in it only `with_secrets` (a move of the
whole service to another database); without them an imported account cannot sign in and its keys
and webhooks are not restored.

Everything is read in one repeatable-read transaction, and rows are ordered by stable keys, so
exporting the same data twice gives the same bytes (`dumps`).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import asyncpg

from db import document_crypto, webhooks
from db.analytics import EXPORT_EVENTS
from db.api_keys import EXPORT_API_KEYS
from db.cases import EXPORT_CASE_EVENTS, EXPORT_CASES
from db.checkpoint.sql import (
    EXPORT_AGENT_STATES,
    EXPORT_BLOBS,
    EXPORT_CHECKPOINTS,
    EXPORT_WORKFLOW_STATES,
    EXPORT_WRITES,
)
from db.connection import Connection
from db.conversations.sql import EXPORT_CONVERSATIONS, EXPORT_MESSAGES
from db.documents import EXPORT_DOCUMENT_CHUNKS, EXPORT_DOCUMENT_LINKS, EXPORT_DOCUMENTS
from db.errors import NotFound, Undecryptable
from db.notifications import EXPORT_NOTIFICATIONS
from db.profiles import EXPORT_PROFILE
from db.protocol import EXPORT_RUN_OPTIONS
from db.risk import EXPORT_RISKS
from db.runs.sql import EXPORT_RUNS
from db.runs.timers import EXPORT_TIMERS
from db.users import EXPORT_USER, SELECT_USER_IDS
from db.webhooks import EXPORT_WEBHOOKS

FORMAT = "insurance-navigator-export"
VERSION = 1
INFINITY = "infinity"

# The sections of a user in the export and the table each holds rows of (`user` and `profile`
# are one row, or null for a profile never saved); the others are lists.
EXPORTED_SECTIONS = {
    "user": "users", "profile": "user_profiles", "api_keys": "api_keys", "conversations": "conversations",
    "conversation_messages": "conversation_messages", "runs": "runs", "run_protocol_options": "run_protocol_options",
    "documents": "documents", "document_conversations": "document_conversations",
    "document_chunks": "document_chunks", "checkpoints": "checkpoints", "checkpoint_blobs": "checkpoint_blobs",
    "checkpoint_writes": "checkpoint_writes", "workflow_states": "workflow_states", "agent_states": "agent_states",
    "risk_detections": "risk_detections", "analytics_events": "analytics_events", "cases": "cases",
    "case_events": "case_events", "timers": "timers", "webhooks": "webhooks", "notifications": "notifications",
}
# Tables holding rows of a person that the export leaves out, and why (the tests hold every table
# of the catalog that names a user or a conversation to one of the two lists).
NOT_EXPORTED = {
    "refresh_tokens": "sign-in sessions: credentials, valid only where they were issued",
    "revoked_access_tokens": "logged-out tokens, kept only until they expire",
    "run_events": "each run's progress log; what it says is in the messages and the run's output",
    "document_chunk_embeddings": "vectors an embedding model derived from the passages; not portable between models",
    "outbox": "deliveries of notifications, made (or given up) where they were sent; an imported notification "
              "is not sent again",
    "audit_events": "the service's security record about the account (sign-ins, exports, the deletion); it "
                    "outlives the account for AUDIT_RETENTION_DAYS and is not the person's to move or rewrite",
}
SECRET_COLUMNS: dict[str, tuple[str, ...]] = {"user": ("password_hash",), "api_keys": ("key_hash",),
                                              "webhooks": ("secret",)}


def jsonable(value: Any) -> Any:
    """A column value as JSON: ids and times as text (an infinite time as "infinity"), bytes as base64."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None and value in (datetime.max, datetime.min):  # asyncpg's +/-infinity
            return INFINITY if value == datetime.max else "-" + INFINITY
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def row_json(row: Mapping[str, Any] | asyncpg.Record, *, without: Iterable[str] = ()) -> dict[str, Any]:
    left_out = set(without)
    return {key: jsonable(row[key]) for key in row.keys() if key not in left_out}


async def _rows(con: Connection, statement: str, *args: Any, without: Iterable[str] = ()) -> list[dict[str, Any]]:
    return [row_json(row, without=without) for row in await con.fetch(statement, *args)]


def _document(row: asyncpg.Record, key: bytes, user_id: uuid.UUID) -> dict[str, Any]:
    document = row_json(row, without=("content", "key_id"))
    try:
        data = document_crypto.decrypt(key, row["content"], user_id=user_id, document_id=row["id"],
                                       stored_key_id=row["key_id"])
    except Undecryptable:
        document["file"] = None  # encrypted with a key this server no longer has; text and facts still come
    else:
        document["file"] = base64.b64encode(data).decode()
    return document


def _webhook(row: asyncpg.Record, key: bytes) -> dict[str, Any]:
    """A webhook with its signing secret opened (for an export --with-secrets)."""
    webhook = row_json(row, without=("secret", "key_id"))
    try:
        webhook["secret"] = webhooks.open_secret(key, row["secret"], webhook_id=row["id"],
                                                 stored_key_id=row["key_id"])
    except Undecryptable:
        webhook["secret"] = None
    return webhook


async def export_user(con: Connection, user_id: uuid.UUID, key: bytes, *, with_secrets: bool = False) -> dict[str, Any]:
    """One user's sections, read on `con` (inside the caller's repeatable-read transaction)."""
    secrets: dict[str, tuple[str, ...]] = {} if with_secrets else SECRET_COLUMNS
    user = await con.fetchrow(EXPORT_USER, user_id)
    if user is None:
        raise NotFound("user", user_id)
    profile = await con.fetchrow(EXPORT_PROFILE, user_id)
    conversations = await _rows(con, EXPORT_CONVERSATIONS, user_id)
    threads = [c["id"] for c in conversations]
    return {
        "user": row_json(user, without=secrets.get("user", ())),
        "profile": row_json(profile) if profile is not None else None,
        "api_keys": await _rows(con, EXPORT_API_KEYS, user_id, without=secrets.get("api_keys", ())),
        "conversations": conversations,
        "conversation_messages": await _rows(con, EXPORT_MESSAGES, user_id),
        "runs": await _rows(con, EXPORT_RUNS, user_id),
        "run_protocol_options": await _rows(con, EXPORT_RUN_OPTIONS, user_id),
        "documents": [_document(row, key, user_id) for row in await con.fetch(EXPORT_DOCUMENTS, user_id)],
        "document_conversations": await _rows(con, EXPORT_DOCUMENT_LINKS, user_id),
        "document_chunks": await _rows(con, EXPORT_DOCUMENT_CHUNKS, user_id),
        "checkpoints": await _rows(con, EXPORT_CHECKPOINTS, threads),
        "checkpoint_blobs": await _rows(con, EXPORT_BLOBS, threads),
        "checkpoint_writes": await _rows(con, EXPORT_WRITES, threads),
        "workflow_states": await _rows(con, EXPORT_WORKFLOW_STATES, threads),
        "agent_states": await _rows(con, EXPORT_AGENT_STATES, threads),
        "risk_detections": await _rows(con, EXPORT_RISKS, user_id, threads),
        "analytics_events": await _rows(con, EXPORT_EVENTS, user_id),
        "cases": await _rows(con, EXPORT_CASES, user_id),
        "case_events": await _rows(con, EXPORT_CASE_EVENTS, user_id),
        "timers": await _rows(con, EXPORT_TIMERS, user_id),
        "webhooks": [_webhook(row, key) if with_secrets else row_json(row, without=("secret", "key_id"))
                     for row in await con.fetch(EXPORT_WEBHOOKS, user_id)],
        "notifications": await _rows(con, EXPORT_NOTIFICATIONS, user_id),
    }


async def export_users(pool: asyncpg.Pool, key: bytes, user_ids: list[uuid.UUID] | None = None, *,
                       with_secrets: bool = False) -> dict[str, Any]:
    """The export document of these users (every user when None), read in one snapshot."""
    async with pool.acquire() as con, con.transaction(isolation="repeatable_read", readonly=True):
        ids = user_ids if user_ids is not None else [row["id"] for row in await con.fetch(SELECT_USER_IDS)]
        users = [await export_user(con, user_id, key, with_secrets=with_secrets) for user_id in ids]
    return {"format": FORMAT, "users": users, "version": VERSION}


def dumps(document: Mapping[str, Any]) -> bytes:
    """The document's bytes: keys sorted and a fixed layout, so equal data gives equal bytes."""
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()
