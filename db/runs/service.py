"""The API side of durable runs: create, read, cancel and resume runs, and replay
or follow their events (`RunService`).

A run is one pass of the graph for one user message, or one resume of an
interrupted pass. Workers claim, heartbeat, fence and finish them
(`db.runs.queue`, driven by `db.runs.executor`). PostgreSQL is the only
broker: ordering, idempotency and "one resume per interrupt" are unique
indexes, not Python checks.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg

from db.connection import Connection, as_uuid
from db.conversations import append_messages, get_owned, insert_conversation
from db.errors import Conflict, NotFound
from db.runs.model import SETTLED_STATUSES, Run, RunEvent, to_event, to_run
from db.runs.notify import RunEventNotifier
from db.runs.sql import (
    CANCEL_RUN,
    COUNT_RUNS_BY_STATUS,
    DELETE_OWNED_SETTLED_RUN,
    INSERT_RUN,
    LOCK_IDEMPOTENCY_KEY,
    SELECT_EVENTS_AFTER,
    SELECT_LATER_RUN_EXISTS,
    SELECT_LATEST_CONVERSATION_RUN,
    SELECT_OWNED_CONVERSATION_RUNS,
    SELECT_OWNED_RUN,
    SELECT_OWNED_RUN_FOR_UPDATE,
    SELECT_RUN_BY_IDEMPOTENCY_KEY,
    SELECT_RUN_STATUS,
)
from db.scope import raw_pool

MAX_INPUT_CHARS = 32_000
MAX_EVENTS_PAGE = 1000
STREAM_POLL_SECONDS = 1.0


def message_input(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """Validate a run's input: a non-empty message (a string or `{"message": str}`)."""
    message = value.get("message") if isinstance(value, Mapping) else value
    if not isinstance(message, str) or not message.strip():
        raise ValueError("input must be a non-empty message")
    if len(message) > MAX_INPUT_CHARS:
        raise ValueError(f"message is longer than {MAX_INPUT_CHARS} characters")
    return {"message": message}


def resume_input(value: Any) -> dict[str, Any]:
    """Validate the answer to an interrupt: any JSON value, not empty, of bounded size."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("the answer must not be empty")
    try:
        encoded = json.dumps(value)
    except (TypeError, ValueError):
        raise ValueError("the answer must be JSON") from None
    if len(encoded) > MAX_INPUT_CHARS:
        raise ValueError(f"the answer is longer than {MAX_INPUT_CHARS} characters")
    return {"resume": value}


def said_text(payload: Mapping[str, Any]) -> str:
    """What the person said in a run's input: the message, or the answer to the question."""
    if "resume" in payload:
        answer = payload["resume"]
        return answer if isinstance(answer, str) else json.dumps(answer)
    return str(payload["message"])


async def _store_said(con: Connection, run: Run) -> None:
    # The person's words are kept from the moment the run exists, in its transaction, whatever
    # the run becomes (the reply is stored when it ends): a cancelled or failed run loses nothing
    # that was said, and a retried request (same idempotency key) stores nothing twice.
    await append_messages(con, run.conversation_id, run.user_id,
                          [{"role": "user", "content": said_text(run.input), "metadata": {"run_id": str(run.id)}}])


async def insert_message_run(con: Connection, user_id: uuid.UUID, conversation_id: uuid.UUID,
                             payload: dict[str, Any], idempotency_key: str | None = None) -> Run:
    """Inside the caller's transaction (which an error aborts): queue a run for a validated
    `message_input` payload and store the message in the conversation (NotFound unless the
    conversation is the user's and live; a reused key returns its run and stores nothing)."""
    try:
        await get_owned(con, conversation_id, user_id)
        row = await con.fetchrow(INSERT_RUN, conversation_id, user_id, "message", None, payload, idempotency_key)
        if row is None:  # the key was used before: that run, if it is the same request
            row = await con.fetchrow(SELECT_RUN_BY_IDEMPOTENCY_KEY, user_id, idempotency_key)
            assert row is not None
            if row["conversation_id"] != conversation_id or row["input"] != payload:
                raise Conflict("idempotency key already used for a different request", idempotency_key)
            return to_run(row)
        run = to_run(row)
        await _store_said(con, run)
    except asyncpg.ForeignKeyViolationError:
        # The conversation was deleted between get_owned and the insert.
        raise NotFound("conversation", conversation_id) from None
    return run


async def insert_resume_run(con: Connection, run_id: uuid.UUID, user_id: uuid.UUID,
                            payload: dict[str, Any]) -> Run:
    """Inside the caller's transaction: queue the continuation of an interrupted run with a
    validated `resume_input` payload (see `RunService.resume`)."""
    try:
        run = await con.fetchrow(SELECT_OWNED_RUN_FOR_UPDATE, run_id, user_id)
        if run is None:
            raise NotFound("run", run_id)
        if run["status"] != "interrupted":
            raise Conflict(f"run {run_id} is {run['status']}, not waiting for an answer", run_id)
        if await con.fetchval(SELECT_LATER_RUN_EXISTS, run["conversation_id"], run["seq"]):
            raise Conflict(f"run {run_id} was already resumed or superseded by a newer message", run_id)
        await get_owned(con, run["conversation_id"], user_id)
        row = await con.fetchrow(INSERT_RUN, run["conversation_id"], user_id, "resume", run_id, payload, None)
        continuation = to_run(row)
        await _store_said(con, continuation)
    except asyncpg.UniqueViolationError:
        raise Conflict(f"run {run_id} was already resumed", run_id) from None
    except asyncpg.ForeignKeyViolationError:
        raise NotFound("run", run_id) from None  # its conversation was deleted meanwhile
    return continuation


async def count_runs_by_status(pool: asyncpg.Pool) -> dict[str, int]:
    """Totals over every user's runs, for the admin /stats view (the owner's pool)."""
    return {row["status"]: row["n"] for row in await pool.fetch(COUNT_RUNS_BY_STATUS)}


class RunService:
    """Runs for the API: every method takes the acting user's id, and another user's run is NotFound."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        # LISTEN holds its connection outside any transaction: the plain pool's.
        self.notifier = RunEventNotifier(raw_pool(pool))

    async def counts_by_status(self) -> dict[str, int]:
        return await count_runs_by_status(self.pool)

    async def create(self, user_id: object, conversation_id: object, input: str | Mapping[str, Any],
                     idempotency_key: str | None = None) -> Run:
        """Queue a run for one user message; a key this user already used returns that run."""
        uid, cid = as_uuid(user_id, "user"), as_uuid(conversation_id, "conversation")
        payload = message_input(input)
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            raise ValueError("idempotency key must be 1 to 255 characters")
        async with self.pool.acquire() as con, con.transaction():
            return await insert_message_run(con, uid, cid, payload, idempotency_key)

    async def start_chat(self, user_id: object, conversation_id: object | None, message: str, *,
                         title: str | None, ttl_hours: int, idempotency_key: str | None = None) -> Run:
        """POST /chat in one transaction: the conversation (a new one, titled `title`, when
        `conversation_id` is None), the run and the message. A key this user used before returns
        that run and creates nothing, also when the first request made the conversation;
        Conflict when the key was used for another message or conversation."""
        uid = as_uuid(user_id, "user")
        payload = message_input(message)
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            raise ValueError("idempotency key must be 1 to 255 characters")
        async with self.pool.acquire() as con, con.transaction():
            if idempotency_key is not None:
                await con.execute(LOCK_IDEMPOTENCY_KEY, uid, idempotency_key)
                row = await con.fetchrow(SELECT_RUN_BY_IDEMPOTENCY_KEY, uid, idempotency_key)
                if row is not None:
                    same_conversation = conversation_id is None or row["conversation_id"] == as_uuid(conversation_id)
                    if row["input"] != payload or not same_conversation:
                        raise Conflict("idempotency key already used for a different request", idempotency_key)
                    return to_run(row)
            if conversation_id is None:
                cid = (await insert_conversation(con, uid, title, {}, ttl_hours)).id
            else:
                cid = as_uuid(conversation_id)
            return await insert_message_run(con, uid, cid, payload, idempotency_key)

    async def get(self, run_id: object, user_id: object) -> Run:
        row = await self.pool.fetchrow(SELECT_OWNED_RUN, as_uuid(run_id, "run"), as_uuid(user_id, "user"))
        if row is None:
            raise NotFound("run", run_id)
        return to_run(row)

    async def list_for_conversation(self, conversation_id: object, user_id: object, *, limit: int = 10,
                                    offset: int = 0, statuses: list[str] | None = None) -> list[Run]:
        """The conversation's runs, newest first, of the given statuses (all when None); an empty
        list for a conversation that is not the user's."""
        rows = await self.pool.fetch(SELECT_OWNED_CONVERSATION_RUNS, as_uuid(conversation_id),
                                     as_uuid(user_id, "user"), statuses, limit, offset)
        return [to_run(row) for row in rows]

    async def latest(self, conversation_id: object, user_id: object) -> Run | None:
        """The conversation's newest run, or None."""
        row = await self.pool.fetchrow(SELECT_LATEST_CONVERSATION_RUN, as_uuid(conversation_id),
                                       as_uuid(user_id, "user"))
        return to_run(row) if row is not None else None

    async def delete(self, run_id: object, user_id: object) -> None:
        """Delete a settled run with its events (its checkpoints stay: they are the thread's state).
        Conflict while it is pending or running, or when a continuation answers it."""
        rid = as_uuid(run_id, "run")
        row = await self.pool.fetchrow(DELETE_OWNED_SETTLED_RUN, rid, as_uuid(user_id, "user"))
        if row is None:
            raise NotFound("run", run_id)
        if not row["deleted"]:
            if row["resumed"]:
                raise Conflict(f"run {rid} was answered by a later run; delete that one first", rid)
            raise Conflict(f"run {rid} is {row['status']}; cancel it before deleting it", rid)

    async def cancel(self, run_id: object, user_id: object) -> Run:
        """Cancel a pending or interrupted run now, a running one at its next step boundary."""
        rid, uid = as_uuid(run_id, "run"), as_uuid(user_id, "user")
        async with self.pool.acquire() as con, con.transaction():
            if await con.fetchrow(CANCEL_RUN, rid, uid) is None:
                raise NotFound("run", run_id)
            row = await con.fetchrow(SELECT_OWNED_RUN, rid, uid)
        return to_run(row)

    async def resume(self, run_id: object, user_id: object, value: Any) -> Run:
        """Queue the continuation of an interrupted run with the person's answer.

        Exactly one resume per interrupt: the row lock serialises concurrent
        resumes and the unique `resumes_run_id` backs it, so the loser gets
        Conflict, as does a resume after a newer message superseded the question.
        """
        rid, uid = as_uuid(run_id, "run"), as_uuid(user_id, "user")
        payload = resume_input(value)
        async with self.pool.acquire() as con, con.transaction():
            return await insert_resume_run(con, rid, uid, payload)

    async def list_events(self, run_id: object, user_id: object, after_id: int = 0,
                          limit: int = 100) -> list[RunEvent]:
        """Events with id > after_id in order (NotFound for a run that is not the user's)."""
        rid, uid = as_uuid(run_id, "run"), as_uuid(user_id, "user")
        if after_id < 0:
            raise ValueError("after_id must be >= 0")
        limit = max(1, min(limit, MAX_EVENTS_PAGE))
        rows = await self.pool.fetch(SELECT_EVENTS_AFTER, rid, uid, after_id, limit)
        if not rows and await self.pool.fetchval(SELECT_RUN_STATUS, rid, uid) is None:
            raise NotFound("run", run_id)
        return [to_event(row) for row in rows]

    async def stream_events(self, run_id: object, user_id: object, after_id: int = 0) -> AsyncIterator[RunEvent]:
        """Yield events after `after_id` as they are written; end once the run is settled and
        everything it wrote was yielded. Woken by NOTIFY, polling when that is unavailable."""
        rid, uid = as_uuid(run_id, "run"), as_uuid(user_id, "user")
        last = after_id
        async with self.notifier.subscribe(rid) as wake:
            while True:
                wake.clear()
                # Status first: the final events commit with the final status, so a settled
                # status read before the events guarantees the events read next are complete.
                status = await self.pool.fetchval(SELECT_RUN_STATUS, rid, uid)
                if status is None:
                    raise NotFound("run", run_id)
                while True:
                    rows = await self.pool.fetch(SELECT_EVENTS_AFTER, rid, uid, last, MAX_EVENTS_PAGE)
                    for row in rows:
                        event = to_event(row)
                        last = event.id
                        yield event
                    if len(rows) < MAX_EVENTS_PAGE:
                        break
                if status in SETTLED_STATUSES:
                    return
                await _wait(wake, STREAM_POLL_SECONDS)

    # `timeout` is part of the API contract, and unlike asyncio.timeout it returns the run, not raises.
    async def wait(self, run_id: object, user_id: object, timeout: float) -> Run:  # noqa: ASYNC109
        """The run once settled, or as it is when `timeout` seconds have passed."""
        rid = as_uuid(run_id, "run")
        deadline = time.monotonic() + timeout
        async with self.notifier.subscribe(rid) as wake:
            while True:
                wake.clear()
                run = await self.get(rid, user_id)
                remaining = deadline - time.monotonic()
                if run.settled or remaining <= 0:
                    return run
                await _wait(wake, min(remaining, STREAM_POLL_SECONDS))


async def _wait(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        pass
