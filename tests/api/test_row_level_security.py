"""Isolation in PostgreSQL itself: with its own `user_id` filter defeated, a query of the service
run as the restricted service role for Alice sees none of Bob's rows.

Bob's data is made through the API (a chat that ran to the end, a document, a case, a profile,
keys, a webhook, a logout), so every table holds rows of his. Then, as the service role with
`app.user_id` = Alice: (1) every protected table, read whole (no filter at all), holds none of
Bob's rows; (2) every read-only statement of the modules that serve requests, given Bob's ids
(so its own `WHERE user_id = $n` matches Bob), returns nothing, while the same statement as the
tables' owner does return Bob's rows (so each probe could have failed).
"""

from __future__ import annotations

import asyncio
import importlib
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from db.scope import SET_ACTING_USER
from db.service_role import SERVICE_ROLE
from tests.api.conftest import Account, register_and_login
from tests.utils.db import service_role_dsn

# The modules whose statements serve requests, and those read on the owner's pool only.
MODULES = ["db.conversations.sql", "db.runs.sql", "db.documents", "db.profiles", "db.api_keys", "db.notifications",
           "db.webhooks", "db.cases", "db.protocol", "db.runs.outbox", "db.runs.timers", "db.checkpoint.sql",
           "db.risk"]
Ids = dict[str, Any]
# Each read-only statement with Bob's ids in the places its own filters compare.
PROBES: dict[str, Callable[[Ids], tuple[Any, ...]]] = {
    "SELECT_OWNED_CONVERSATION": lambda b: (b["conversation"], b["user"]),
    "LIST_OWNED_CONVERSATIONS": lambda b: (b["user"], None, None, 100, None),
    "SELECT_MESSAGES_AFTER": lambda b: (b["conversation"], b["user"], 0, 100),
    "SELECT_ALL_MESSAGES": lambda b: (b["conversation"], b["user"]),
    "SELECT_WORKFLOW_STATE": lambda b: (str(b["conversation"]), b["user"]),
    "SELECT_AGENT_STATES": lambda b: (str(b["conversation"]), b["user"]),
    "SELECT_THREAD_GRAPH": lambda b: (b["conversation"],),
    "SELECT_OWNED_THREAD": lambda b: (b["conversation"], b["user"]),
    "SELECT_RUN_BY_IDEMPOTENCY_KEY": lambda b: (b["user"], b["run_key"]),
    "SELECT_OWNED_RUN": lambda b: (b["run"], b["user"]),
    "SELECT_RUN_STATUS": lambda b: (b["run"], b["user"]),
    "SELECT_EVENTS_AFTER": lambda b: (b["run"], b["user"], 0, 100),
    "SELECT_OWNED_CONVERSATION_RUNS": lambda b: (b["conversation"], b["user"], None, 10, 0),
    "SELECT_LATEST_CONVERSATION_RUN": lambda b: (b["conversation"], b["user"]),
    "SELECT_DOCUMENT_BY_DIGEST": lambda b: (b["user"], b["digest"]),
    "SELECT_OWNED_DOCUMENT_ID": lambda b: (b["document"], b["user"]),
    "SELECT_OWNED_DOCUMENT": lambda b: (b["document"], b["user"]),
    "SELECT_OWNED_FILE": lambda b: (b["document"], b["user"]),
    "LIST_OWNED_DOCUMENTS": lambda b: (b["user"], None, None, 100, None),
    "EXPORT_OWNED_DOCUMENTS": lambda b: (b["user"],),
    "SELECT_CONTEXT_DOCUMENTS": lambda b: (b["user"], b["conversation"], True, 100),
    "SEARCH_CHUNKS": lambda b: (b["user"], "denied claim appeal", b["conversation"], 100, 0.3),
    "SELECT_PROFILE": lambda b: (b["user"],),
    "SELECT_ACTIVE_API_KEYS": lambda b: (b["user"],),
    "LIST_OWNED_NOTIFICATIONS": lambda b: (b["user"], None, None, 100, False),
    "LIST_OWNED_WEBHOOKS": lambda b: (b["user"],),
    "SELECT_CASE_ID_BY_IDEMPOTENCY_KEY": lambda b: (b["user"], CASE_KEY),
    "SELECT_CASE_ID_BY_SOURCE": lambda b: (b["user"], b["conversation"]),
    "SELECT_SOURCE_CONVERSATION": lambda b: (b["conversation"], b["user"]),
    "SELECT_OWNED_DOCUMENT_IDS": lambda b: ([b["document"]], b["user"]),
    "SELECT_EVENT_BY_KEY": lambda b: (b["case"], b["user"], b["case_event_key"]),
    "SELECT_OWNED_CASE": lambda b: (b["case"], b["user"]),
    "LIST_OWNED_CASES": lambda b: (b["user"], None, None, 100),
    "SELECT_THREAD_STATUS": lambda b: (b["conversation"], b["user"]),
    "SELECT_RUN_CHECKPOINTS": lambda b: (str(b["conversation"]), str(b["run"])),
    "SELECT_NOTIFICATION_DELIVERIES": lambda b: (b["notifications"], b["user"]),
    "COUNT_WEBHOOK_DELIVERIES": lambda b: (b["user"], [b["webhook"]]),
    "SELECT_THREAD_TIMERS": lambda b: (b["case"], b["user"]),
    "SELECT_CHECKPOINT_BY_ID": lambda b: (str(b["conversation"]), "", b["checkpoint"]),
    "SELECT_LATEST_CHECKPOINT": lambda b: (str(b["conversation"]), ""),
    "SELECT_LATEST_CHECKPOINT_ID": lambda b: (str(b["conversation"]), ""),
    "SELECT_CHECKPOINTS": lambda b: (str(b["conversation"]), None, None, None, None, None),
    "SELECT_NAMESPACE_HEADS": lambda b: (str(b["conversation"]),),
    "SELECT_RISK_DETECTIONS": lambda b: (str(b["conversation"]),),
    # The account export's (on the owner's pool today; bound all the same were it moved).
    "SELECT_OWNED_AMONG": lambda b: (b["user"], [b["conversation"]]),
    "SELECT_USER_CONVERSATION_IDS": lambda b: (b["user"],),
    **{name: lambda b: (b["user"],) for name in (
        "EXPORT_CONVERSATIONS", "EXPORT_MESSAGES", "EXPORT_RUNS", "EXPORT_DOCUMENTS", "EXPORT_DOCUMENT_CHUNKS",
        "EXPORT_DOCUMENT_LINKS", "EXPORT_PROFILE", "EXPORT_API_KEYS", "EXPORT_NOTIFICATIONS", "EXPORT_WEBHOOKS",
        "EXPORT_CASES", "EXPORT_CASE_EVENTS", "EXPORT_TIMERS")},
    **{name: lambda b: ([str(b["conversation"])],) for name in (
        "EXPORT_AGENT_STATES", "EXPORT_BLOBS", "EXPORT_CHECKPOINTS", "EXPORT_WORKFLOW_STATES", "EXPORT_WRITES")},
    "EXPORT_RISKS": lambda b: (b["user"], [str(b["conversation"])]),
}
# Read-only statements not probed, and why.
NOT_PROBED = {
    "DOCUMENT_COLUMNS": "a fragment, probed inside SELECT_OWNED_DOCUMENT and the lists",
    "SEARCH_CHUNKS_HYBRID": "needs pgvector's embeddings table, absent on the test server",
    "SELECT_RUN_OPTIONS": "rows only for Agent Protocol runs; its table is read whole below",
    "SELECT_LATER_RUN_EXISTS": "an EXISTS: always one row (its runs are read whole below)",
    "COUNT_UNREAD": "a count: always one row", "COUNT_THREADS": "a count: always one row",
    "LOCK_USER_WEBHOOKS": "takes an advisory lock, reads no table",
    "SELECT_DELIVERIES": "the outbox deliverer's, on the owner's pool",
    "SELECT_DELTA_HISTORY": "the checkpointer's replay, on the owner's pool",
    "SELECT_DELTA_CHAIN": "the checkpointer's pruning, on the owner's pool",
    "EXPORT_RUN_OPTIONS": "rows only for Agent Protocol runs; its table is read whole below",
    "ADVANCE_MESSAGE_IDS": "moves a sequence past the largest id (an import's), returns no row of anyone's",
    "ADVANCE_CASE_EVENT_IDS": "moves a sequence past the largest id (an import's), returns no row of anyone's",
    "LOCK_IDEMPOTENCY_KEY": "takes an advisory lock, reads no table",
    "SELECT_QUEUE_DEPTH": "a metric over every user's queue, read on the owner's pool at each scrape",
}
# Totals over every user, read on the owner's pool for admins (/stats) or by the workers.
WHOLE_TABLE = re.compile(r"^(COUNT_|SELECT_NEXT_DUE$|SELECT_RUNS_TABLE_EXISTS$|SELECT_EMBEDDINGS_TABLE$|FENCE_)")
CASE_KEY = "rls-case-key"


def read_only_statements() -> dict[str, str]:
    found = {}
    for name in MODULES:
        for key, value in vars(importlib.import_module(name)).items():
            if (re.fullmatch(r"[A-Z][A-Z0-9_]+", key) and isinstance(value, str)
                    and re.match(r"\s*(SELECT|WITH)\b", value)
                    and not re.search(r"\b(INSERT|UPDATE|DELETE)\b|FOR (UPDATE|SHARE)", value)):
                found[key] = value
    return found


def found_rows(rows: list[asyncpg.Record]) -> list[asyncpg.Record]:
    """Rows that hold something (a lateral read answers one all-NULL row when it finds nothing)."""
    return [row for row in rows if any(value is not None for value in row.values())]


async def settle(pool: asyncpg.Pool, user: uuid.UUID) -> None:
    for _ in range(300):
        if not await pool.fetchval("SELECT count(*) FROM runs WHERE user_id = $1 AND status IN ('pending', 'running')",
                                   user):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the user's runs did not settle")


async def populate(client: httpx.AsyncClient, account: Account) -> uuid.UUID:
    """Rows of `account` in every table a person's use of the service fills; its conversation id."""
    headers = account.headers
    assert (await client.put("/me/profile", json={"plan_type": "employer", "insurer": "Acme Health"},
                             headers=headers)).status_code == 200
    assert (await client.post("/auth/api-keys", json={"name": "laptop"}, headers=headers)).status_code == 201
    hook = await client.post("/me/webhooks", json={"url": "https://hooks.example.com/navigator"}, headers=headers)
    assert hook.status_code == 201, hook.text
    chat = await client.post("/chat", json={"message": "My MRI claim was denied. Should I appeal?"},
                             headers=headers)
    assert chat.status_code == 200, chat.text
    conversation = uuid.UUID(chat.json()["conversation_id"])
    crisis = await client.post("/chat", json={"message": "I want to kill myself",
                                              "conversation_id": str(conversation)}, headers=headers)
    assert crisis.status_code == 200, crisis.text
    letter = b"Your claim for the MRI was denied as not medically necessary. You may appeal within 180 days."
    uploaded = await client.post("/documents", headers=headers, data={"conversation_id": str(conversation),
                                                                      "kind": "denial_letter"},
                                 files={"file": ("denial.txt", letter, "text/plain")})
    assert uploaded.status_code == 201, uploaded.text
    case = await client.post("/cases", json={"kind": "appeal", "conversation_id": str(conversation),
                                             "document_ids": [uploaded.json()["id"]]},
                             headers={**headers, "Idempotency-Key": CASE_KEY})
    assert case.status_code == 201, case.text
    # Filed: the case arms its timers (the decision's deadline) when its run goes through.
    filed = await client.post(f"/cases/{case.json()['id']}/events", json={"type": "filed"},
                              headers={**headers, "Idempotency-Key": "rls-filed"})
    assert filed.status_code == 202, filed.text
    # A second session, ended: its access token is revoked.
    second = await client.post("/auth/login", json={"email": account.email, "password": account.password})
    token = second.json()["access_token"]
    assert (await client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})).status_code == 204
    return conversation


async def notify(pool: asyncpg.Pool, user: uuid.UUID) -> None:
    """What a case step decides, as its trigger writes it: a notification and its webhook delivery."""
    await pool.execute(
        "WITH n AS (INSERT INTO notifications (user_id, case_id, idempotency_key, kind, title, body, created_at) "
        "SELECT $1, c.id, 'rls:' || c.id::text, 'reminder', 'Appeal deadline', 'File by Friday', now() "
        "FROM cases c WHERE c.user_id = $1 RETURNING id) "
        "INSERT INTO outbox (notification_id, user_id, channel, webhook_id, next_attempt_at, status) "
        "SELECT n.id, $1, 'webhook', w.id, now() + interval '1 day', 'pending' FROM n, webhooks w WHERE w.user_id = $1",
        user)


@pytest.fixture(scope="module")
async def accounts(wclient: httpx.AsyncClient, worker_app: FastAPI) -> tuple[Ids, Ids]:
    pool = worker_app.state.pool
    found = []
    for name in ("alice", "bob"):
        account = await register_and_login(wclient, f"{name}-{uuid.uuid4().hex[:8]}@example.com")
        conversation = await populate(wclient, account)
        user = uuid.UUID(account.id)
        await settle(pool, user)
        await notify(pool, user)
        run = await pool.fetchrow("SELECT id FROM runs WHERE conversation_id = $1 ORDER BY seq LIMIT 1", conversation)
        case = await pool.fetchval("SELECT id FROM cases WHERE user_id = $1", user)
        found.append({
            "user": user, "conversation": conversation, "run": run["id"], "case": case,
            "run_key": await pool.fetchval("SELECT idempotency_key FROM runs WHERE user_id = $1 "
                                           "AND idempotency_key IS NOT NULL LIMIT 1", user),
            "document": await pool.fetchval("SELECT id FROM documents WHERE user_id = $1", user),
            "digest": await pool.fetchval("SELECT digest FROM documents WHERE user_id = $1", user),
            "case_event_key": await pool.fetchval("SELECT idempotency_key FROM case_events WHERE case_id = $1 "
                                                  "AND idempotency_key IS NOT NULL LIMIT 1", case),
            "webhook": await pool.fetchval("SELECT id FROM webhooks WHERE user_id = $1", user),
            "notifications": [r["id"] for r in await pool.fetch("SELECT id FROM notifications WHERE user_id = $1",
                                                                 user)],
            "checkpoint": await pool.fetchval("SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = $1",
                                              str(conversation)),
        })
    return found[0], found[1]


@pytest.fixture(scope="module")
async def as_service(migrated_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    con = await asyncpg.connect(service_role_dsn(migrated_dsn))
    yield con
    await con.close()


async def read_as(con: asyncpg.Connection, user: uuid.UUID | None, sql: str, *args: Any) -> list[asyncpg.Record]:
    """`sql` in a transaction of its own acting for `user` (None: as the connection's role plainly), rolled back."""
    transaction = con.transaction()
    await transaction.start()
    try:
        if user is not None:
            await con.execute(SET_ACTING_USER, str(user))
        return await con.fetch(sql, *args)
    finally:
        await transaction.rollback()


async def test_every_read_only_statement_is_probed_or_says_why_not() -> None:
    statements = read_only_statements()
    unaccounted = sorted(k for k in statements if k not in PROBES and k not in NOT_PROBED and not WHOLE_TABLE.match(k))
    assert unaccounted == [], f"add these statements to PROBES (with the victim's ids) or NOT_PROBED: {unaccounted}"
    assert set(PROBES) <= set(statements), set(PROBES) - set(statements)


async def test_the_services_queries_with_their_filter_defeated_see_nothing_of_another_user(
        accounts: tuple[Ids, Ids], worker_app: FastAPI, as_service: asyncpg.Connection) -> None:
    alice, bob = accounts
    statements = read_only_statements()
    async with worker_app.state.pool.acquire() as owner:
        problems = []
        for name, args_of in PROBES.items():
            sql = statements[name]
            if not found_rows(await read_as(owner, None, sql, *args_of(bob))):
                problems.append(f"{name} finds nothing of Bob's even as the owner: the probe proves nothing")
            elif found_rows(await read_as(as_service, alice["user"], sql, *args_of(bob))):
                problems.append(f"{name} with Bob's ids showed Alice's session Bob's rows")
            elif not found_rows(await read_as(as_service, bob["user"], sql, *args_of(bob))):
                # The policies are no blanket refusal: Bob's own session does see them.
                problems.append(f"{name} hides Bob's rows from Bob's own session")
    assert problems == [], "\n".join(problems)


async def test_every_protected_table_read_whole_shows_only_the_acting_users_rows(
        accounts: tuple[Ids, Ids], worker_app: FastAPI, as_service: asyncpg.Connection) -> None:
    """No filter at all: `SELECT * FROM t` as the service role for Alice holds none of Bob's rows."""
    alice, bob = accounts
    owner = worker_app.state.pool
    tables = await owner.fetch(
        "SELECT c.relname, array_agg(a.attname::text) AS columns FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity GROUP BY c.relname")
    with_rows_of_bob = []
    for table in tables:
        name, columns = table["relname"], set(table["columns"])
        assert re.fullmatch(r"[a-z_]+", name)
        if "user_id" in columns:
            owned = "user_id = $1"
        elif "thread_id" in columns:
            owned = "thread_id IN (SELECT id::text FROM conversations WHERE user_id = $1)"
        elif "conversation_id" in columns:
            owned = "conversation_id::text IN (SELECT id::text FROM conversations WHERE user_id = $1)"
        elif "run_id" in columns:
            owned = "run_id IN (SELECT id FROM runs WHERE user_id = $1)"
        else:
            raise AssertionError(f"{name}: how does a row of it belong to a user?")
        rows_of_bob = {r["row"] for r in await owner.fetch(
            f'SELECT row_to_json(t)::text AS row FROM "{name}" t WHERE {owned}', bob["user"])}  # noqa: S608
        if rows_of_bob:
            with_rows_of_bob.append(name)
        if not await owner.fetchval("SELECT has_table_privilege($1, $2, 'SELECT')", SERVICE_ROLE, name):
            continue  # not the service role's at all (the audit trail): nothing of anyone's to see
        seen_by_alice = {r["row"] for r in await read_as(
            as_service, alice["user"], f'SELECT row_to_json(t)::text AS row FROM "{name}" t')}  # noqa: S608
        assert not rows_of_bob & seen_by_alice, f"{name}: Alice's session sees Bob's rows"
        seen_by_bob = {r["row"] for r in await read_as(
            as_service, bob["user"], f'SELECT row_to_json(t)::text AS row FROM "{name}" t')}  # noqa: S608
        assert rows_of_bob <= seen_by_bob, f"{name}: Bob's own session misses rows of his"
    expected = {"conversations", "conversation_messages", "runs", "run_events", "checkpoints", "checkpoint_blobs",
                "checkpoint_writes", "workflow_states", "agent_states", "refresh_tokens", "revoked_access_tokens",
                "analytics_events", "api_keys", "user_profiles", "documents", "document_conversations",
                "document_chunks", "cases", "case_events", "webhooks", "risk_detections"}
    assert expected <= set(with_rows_of_bob), expected - set(with_rows_of_bob)
