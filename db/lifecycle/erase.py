"""An account's erasure (`DELETE /me`): everything of the person, in one transaction.

Deleting the `users` row takes every table with a foreign key to it along (conversations with
their messages, runs and events; documents with their passages and links; the profile, API keys,
sessions). What names the person or their conversations without a foreign key goes first, in the
same transaction: their threads' checkpoints, blobs, writes, workflow and agent states, risk
detections and analytics events. A run of theirs in flight is locked first (the order a finishing
run takes its locks), so the erasure waits for its step instead of deadlocking with it; the run's
next write then finds nothing and stops.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from db.analytics import DELETE_USER_EVENTS
from db.checkpoint.sql import DELETE_THREAD, DELETE_THREADS, DELETE_USER_WORKFLOWS
from db.connection import Connection
from db.conversations.sql import SELECT_USER_CONVERSATION_IDS
from db.errors import NotFound
from db.risk import DELETE_RISKS_OF_THREADS, DELETE_USER_RISKS
from db.runs.sql import LOCK_USER_RUNS_IN_FLIGHT
from db.users import DELETE_USER

# Tables that keep a person's rows after the erasure, on purpose, and why.
# The erasure test (tests/api/test_account_data.py) allows rows left in exactly these.
OUTLIVES_THE_ACCOUNT: dict[str, str] = {
    "audit_events": "the security record (sign-ins, the export, the deletion itself) is kept for "
                    "AUDIT_RETENTION_DAYS without a foreign key; it holds ids and labels, never what was said",
}

# Called in the erasure's transaction once everything is deleted (the audit trail records the
# deletion there, so the record and the deletion commit together or not at all).
OnErased = Callable[[Connection], Awaitable[None]]


async def delete_thread(con: Connection, thread_id: str) -> None:
    """One conversation's or case's rows that name its thread without a foreign key (the rest goes
    with the conversation row): checkpoints, blobs, writes, workflow and agent states, risk
    detections (db/lifecycle/cleanup.py UNLINKED_CONVERSATION_COLUMNS lists them)."""
    await con.execute(DELETE_THREAD, thread_id)
    await con.execute(DELETE_RISKS_OF_THREADS, [thread_id])


async def erase_account(pool: asyncpg.Pool, user_id: uuid.UUID, *, on_erased: OnErased | None = None) -> None:
    """Delete the account and all of its data; NotFound when there is no such account."""
    async with pool.acquire() as con, con.transaction():
        await con.execute(LOCK_USER_RUNS_IN_FLIGHT, user_id)
        threads = [str(row["id"]) for row in await con.fetch(SELECT_USER_CONVERSATION_IDS, user_id)]
        await con.execute(DELETE_THREADS, threads)
        await con.execute(DELETE_USER_WORKFLOWS, user_id)
        await con.execute(DELETE_RISKS_OF_THREADS, threads)
        await con.execute(DELETE_USER_RISKS, user_id)
        await con.execute(DELETE_USER_EVENTS, user_id)
        if await con.fetchval(DELETE_USER, user_id) is None:
            raise NotFound("user", user_id)
        if on_erased is not None:
            await on_erased(con)
