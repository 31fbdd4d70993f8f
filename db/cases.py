"""Cases (this module owns `cases` and `case_events`): long-running workflows for one appeal,
prior authorization or billing dispute, each on a thread of its own.

A case owns a conversations row (graph_id 'case', never expiring while the case exists): its
id is the case's id and the case graph's thread id, so the durable run queue drives it like a
conversation. Whatever the person tells a case (it was opened, facts, a document, a filing, a
decision, a closing) is a `case_events` row and, in the same transaction, a queued run of kind
`event` carrying it to the graph (idempotency key `case-event:<id>`); timers queue runs of
kind `timer` (db/runs/timers.py). Where the case stands (stage, deadlines, next action,
timeline, letter) is the graph's projection in `workflow_states`, read here joined to the case.
Every query filters by `user_id`: another person's case is NotFound.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from db.clock import Clock
from db.connection import Connection, as_uuid
from db.conversations.sql import LOCK_OWNED_CONVERSATION_RUNS
from db.errors import Conflict, NotFound
from db.lifecycle.erase import delete_thread
from db.paging import MAX_PAGE_SIZE, Page, decode_cursor, encode_cursor
from db.runs.model import Run, to_run
from db.runs.sql import INSERT_RUN
from db.runs.timers import Timer, lock_thread_timers, thread_timers

CASE_KINDS = ("appeal", "prior_authorization", "billing_dispute")
EVENT_TYPES = ("opened", "facts", "document", "filed", "decision", "closed", "note")
# What a conversation's intent becomes when the person asks to track it.
KIND_OF_INTENT = {"claim_denial_appeal": "appeal", "prior_authorization": "prior_authorization",
                  "billing_dispute": "billing_dispute", "prescription_drugs": "appeal"}
MAX_DOCUMENTS = 10

INSERT_CASE_THREAD = """
INSERT INTO conversations (user_id, title, metadata, graph_id, expires_at) VALUES ($1, $2, $3, 'case', 'infinity')
RETURNING id
"""
INSERT_CASE = """
INSERT INTO cases (id, user_id, kind, title, source_conversation_id, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6)
"""
SELECT_CASE_ID_BY_IDEMPOTENCY_KEY = "SELECT id FROM cases WHERE user_id = $1 AND idempotency_key = $2"
SELECT_CASE_ID_BY_SOURCE = """
SELECT id FROM cases WHERE user_id = $1 AND source_conversation_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1
"""
# The conversation a case is opened from: the person's, live, and a conversation (not a case).
SELECT_SOURCE_CONVERSATION = """
SELECT id FROM conversations WHERE id = $1 AND user_id = $2 AND expires_at > now() AND graph_id = 'navigator'
"""
SELECT_OWNED_DOCUMENT_IDS = "SELECT id FROM documents WHERE id = ANY($1::uuid[]) AND user_id = $2"
INSERT_EVENT = """
INSERT INTO case_events (case_id, user_id, type, data, occurred_at, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (case_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, case_id, type, data, occurred_at, run_id, created_at
"""
SELECT_EVENT_BY_KEY = """
SELECT id, case_id, type, data, occurred_at, run_id, created_at
  FROM case_events WHERE case_id = $1 AND user_id = $2 AND idempotency_key = $3
"""
SET_EVENT_RUN = "UPDATE case_events SET run_id = $2 WHERE id = $1"

# The case, where its graph says it stands, and whether a run of it is queued or running.
_CASE_VIEW = """
SELECT c.id, c.user_id, c.kind, c.title, c.source_conversation_id, c.created_at,
       coalesce(w.updated_at, c.created_at) AS updated_at, {state} AS state,
       EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id AND r.status IN ('pending', 'running'))
           AS processing
  FROM cases c
  LEFT JOIN workflow_states w ON w.conversation_id = c.id::text
"""
SELECT_OWNED_CASE = _CASE_VIEW.format(state="coalesce(w.state_data, '{}'::jsonb)") + """
 WHERE c.id = $1 AND c.user_id = $2
"""
# Lists leave out what only one case's page shows (the letter, the timeline).
LIST_OWNED_CASES = _CASE_VIEW.format(state="coalesce(w.state_data, '{}'::jsonb) - ARRAY['letter', 'timeline']") + """
 WHERE c.user_id = $1
   AND ($2::timestamptz IS NULL OR (c.created_at, c.id) < ($2, $3::uuid))
 ORDER BY c.created_at DESC, c.id DESC
 LIMIT $4
"""
DELETE_OWNED_CASE_THREAD = """
DELETE FROM conversations WHERE id = $1 AND user_id = $2 AND graph_id = 'case' RETURNING id
"""
COUNT_CASES = "SELECT count(*) FROM cases"

# --- the account export and import (db/lifecycle) ------------------------------------------
EXPORT_CASES = """
SELECT id, kind, title, source_conversation_id, idempotency_key, created_at
  FROM cases WHERE user_id = $1 ORDER BY created_at, id
"""
# $3 the user's conversations: a case's thread must be one; a source conversation that is not is forgotten.
IMPORT_CASES = """
INSERT INTO cases (user_id, id, kind, title, source_conversation_id, idempotency_key, created_at)
SELECT $1, r.id, r.kind, r.title,
       CASE WHEN r.source_conversation_id = ANY($3::uuid[]) THEN r.source_conversation_id END,
       r.idempotency_key, r.created_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id uuid, kind text, title text, source_conversation_id uuid,
                                     idempotency_key text, created_at timestamptz)
 WHERE r.id = ANY($3::uuid[])
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""
EXPORT_CASE_EVENTS = """
SELECT id, case_id, type, data, occurred_at, run_id, idempotency_key, created_at
  FROM case_events WHERE user_id = $1 ORDER BY id
"""
# As conversation messages: the id kept where it is free, else a new one; an event already stored
# (same case, type, time and data) is not stored again.
_IMPORT_CASE_EVENTS_FROM = """
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id bigint, case_id uuid, type text, data jsonb, occurred_at timestamptz,
                                     run_id uuid, idempotency_key text, created_at timestamptz)
 WHERE EXISTS (SELECT 1 FROM cases c WHERE c.id = r.case_id AND c.user_id = $1)
   AND NOT EXISTS (SELECT 1 FROM case_events x
                    WHERE x.case_id = r.case_id AND x.type = r.type AND x.occurred_at = r.occurred_at
                      AND x.data = r.data)
 ORDER BY e.ord"""
IMPORT_CASE_EVENTS_KEEPING_IDS = """
INSERT INTO case_events (user_id, id, case_id, type, data, occurred_at, run_id, idempotency_key, created_at)
OVERRIDING SYSTEM VALUE
SELECT $1, r.id, r.case_id, r.type, r.data, r.occurred_at, r.run_id, r.idempotency_key, r.created_at""" \
    + _IMPORT_CASE_EVENTS_FROM + """
ON CONFLICT DO NOTHING
"""
IMPORT_CASE_EVENTS_NEW_IDS = """
INSERT INTO case_events (user_id, case_id, type, data, occurred_at, run_id, idempotency_key, created_at)
SELECT $1, r.case_id, r.type, r.data, r.occurred_at, r.run_id, r.idempotency_key, r.created_at""" \
    + _IMPORT_CASE_EVENTS_FROM + """
ON CONFLICT DO NOTHING
"""
ADVANCE_CASE_EVENT_IDS = """
SELECT setval(s, greatest((SELECT max(id) FROM case_events), pg_sequence_last_value(s), 1))
  FROM CAST(pg_get_serial_sequence('case_events', 'id') AS regclass) AS s
"""


@dataclass(frozen=True)
class Case:
    id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    title: str
    source_conversation_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    # The graph's projection (stage, deadlines, next_action, timeline, letter...); {} until its first step.
    state: dict[str, Any]
    processing: bool
    timers: list[Timer]

    @property
    def stage(self) -> str:
        return str(self.state.get("stage") or "gathering")


@dataclass(frozen=True)
class CaseEvent:
    id: int
    case_id: uuid.UUID
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    run_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True)
class Opened:
    case: Case
    run: Run | None  # the run delivering the opening (None when an earlier request opened it)
    created: bool


def _to_case(row: asyncpg.Record, timers: list[Timer]) -> Case:
    return Case(id=row["id"], user_id=row["user_id"], kind=row["kind"], title=row["title"],
                source_conversation_id=row["source_conversation_id"], created_at=row["created_at"],
                updated_at=row["updated_at"], state=row["state"], processing=row["processing"], timers=timers)


def _to_event(row: asyncpg.Record) -> CaseEvent:
    return CaseEvent(id=row["id"], case_id=row["case_id"], type=row["type"], data=row["data"],
                     occurred_at=row["occurred_at"], run_id=row["run_id"], created_at=row["created_at"])


def default_title(kind: str, facts: Mapping[str, Any]) -> str:
    label = {"appeal": "Appeal", "prior_authorization": "Prior authorization",
             "billing_dispute": "Billing dispute"}[kind]
    service = facts.get("service")
    return f"{label}: {service}"[:200] if service else label


async def _queue_event(con: Connection, case_id: uuid.UUID, user_id: uuid.UUID, kind: str, data: Mapping[str, Any],
                       at: datetime, idempotency_key: str | None) -> tuple[CaseEvent, Run | None]:
    """The event row and the run that delivers it to the case's graph (one per event, ever)."""
    row = await con.fetchrow(INSERT_EVENT, case_id, user_id, kind, dict(data), at, idempotency_key)
    if row is None:  # this key was used before: that event
        existing = await con.fetchrow(SELECT_EVENT_BY_KEY, case_id, user_id, idempotency_key)
        assert existing is not None
        event = _to_event(existing)
        if event.type != kind or event.data != dict(data):
            raise Conflict("idempotency key already used for a different event", idempotency_key)
        return event, None
    event = _to_event(row)
    signal = {**data, "type": kind, "at": at.isoformat(), "event_id": event.id}
    run_row = await con.fetchrow(INSERT_RUN, case_id, user_id, "event", None, {"signal": signal},
                                 f"case-event:{event.id}")
    run = to_run(run_row)
    await con.execute(SET_EVENT_RUN, event.id, run.id)
    return replace(event, run_id=run.id), run


class CaseService:
    """Cases for the API: every method takes the acting user's id; another person's case is NotFound."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, *, thread_metadata: Mapping[str, Any] | None = None) -> None:
        self.pool = pool
        self.clock = clock
        # What a case's thread says it is (the application adds its assistant id for the Agent Protocol).
        self.thread_metadata = dict(thread_metadata or {"graph_id": "case"})

    async def open(self, user_id: object, kind: str, *, facts: Mapping[str, Any] | None = None,
                   title: str | None = None, source_conversation_id: object = None,
                   document_ids: Sequence[object] = (), idempotency_key: str | None = None) -> Opened:
        """Open a case: its thread, its row, the 'opened' event and the run that starts its graph,
        in one transaction. A key this user already used returns that case."""
        if kind not in CASE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(CASE_KINDS)}")
        if len(document_ids) > MAX_DOCUMENTS:
            raise ValueError(f"at most {MAX_DOCUMENTS} documents")
        uid = as_uuid(user_id, "user")
        source = as_uuid(source_conversation_id) if source_conversation_id is not None else None
        documents = list(dict.fromkeys(as_uuid(d, "document") for d in document_ids))
        facts = dict(facts or {})
        title = title or default_title(kind, facts)
        at = self.clock.now()
        async with self.pool.acquire() as con, con.transaction():
            if idempotency_key is not None:
                existing = await con.fetchval(SELECT_CASE_ID_BY_IDEMPOTENCY_KEY, uid, idempotency_key)
                if existing is not None:
                    return Opened(await self._get(con, existing, uid), None, False)
            if source is not None and await con.fetchval(SELECT_SOURCE_CONVERSATION, source, uid) is None:
                raise NotFound("conversation", source_conversation_id)
            owned = {row["id"] for row in await con.fetch(SELECT_OWNED_DOCUMENT_IDS, documents, uid)}
            if missing := [d for d in documents if d not in owned]:
                raise NotFound("document", missing[0])
            case_id = await con.fetchval(INSERT_CASE_THREAD, uid, title, self.thread_metadata)
            try:
                async with con.transaction():
                    await con.execute(INSERT_CASE, case_id, uid, kind, title, source, idempotency_key)
            except asyncpg.UniqueViolationError:
                raise Conflict("a concurrent request with this idempotency key opened the case", idempotency_key) \
                    from None
            data = {"kind": kind, "title": title, "facts": facts, "documents": [str(d) for d in documents],
                    "source_conversation_id": str(source) if source else None}
            _event, run = await _queue_event(con, case_id, uid, "opened", data, at, None)
            return Opened(await self._get(con, case_id, uid), run, True)

    async def open_from_conversation(self, user_id: object, conversation_id: object, intent: str | None,
                                     facts: Mapping[str, Any], *, idempotency_key: str | None = None,
                                     ) -> Opened | None:
        """"Track this for me": the case the conversation already has, or a new one of the kind its
        intent names; None when the intent is nothing a case tracks."""
        uid, cid = as_uuid(user_id, "user"), as_uuid(conversation_id)
        existing = await self.pool.fetchval(SELECT_CASE_ID_BY_SOURCE, uid, cid)
        if existing is not None:
            async with self.pool.acquire() as con:
                return Opened(await self._get(con, existing, uid), None, False)
        kind = KIND_OF_INTENT.get(str(intent))
        if kind is None:
            return None
        return await self.open(uid, kind, facts=facts, source_conversation_id=cid, idempotency_key=idempotency_key)

    async def tell(self, case_id: object, user_id: object, kind: str, data: Mapping[str, Any], *,
                   idempotency_key: str | None = None) -> tuple[CaseEvent, Run | None]:
        """Record what the person tells the case and queue the run that brings it to the graph.
        Conflict when the case is closed (a note is always taken)."""
        if kind not in EVENT_TYPES or kind == "opened":
            raise ValueError(f"event type must be one of {', '.join(t for t in EVENT_TYPES if t != 'opened')}")
        cid, uid = as_uuid(case_id, "case"), as_uuid(user_id, "user")
        async with self.pool.acquire() as con, con.transaction():
            row = await con.fetchrow(SELECT_OWNED_CASE, cid, uid)
            if row is None:
                raise NotFound("case", case_id)
            # Racing a closing event is harmless: the graph records a late event as ignored.
            if row["state"].get("stage") == "closed" and kind != "note":
                raise Conflict(f"case {cid} is closed", cid)
            document_id = data.get("document_id")
            if document_id is not None:
                did = as_uuid(document_id, "document")
                if not await con.fetch(SELECT_OWNED_DOCUMENT_IDS, [did], uid):
                    raise NotFound("document", document_id)
            return await _queue_event(con, cid, uid, kind, data, self.clock.now(), idempotency_key)

    async def get(self, case_id: object, user_id: object) -> Case:
        async with self.pool.acquire() as con, con.transaction(isolation="repeatable_read", readonly=True):
            return await self._get(con, as_uuid(case_id, "case"), as_uuid(user_id, "user"))

    async def _get(self, con: Connection, case_id: uuid.UUID, user_id: uuid.UUID) -> Case:
        row = await con.fetchrow(SELECT_OWNED_CASE, case_id, user_id)
        if row is None:
            raise NotFound("case", case_id)
        return _to_case(row, await thread_timers(con, case_id, user_id))

    async def list_page(self, user_id: object, *, limit: int = 20, cursor: str | None = None) -> Page:
        """Newest first, without letters and timelines; ValueError on a bad cursor or limit."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        after_created, after_id = decode_cursor(cursor) if cursor else (None, None)
        rows = await self.pool.fetch(LIST_OWNED_CASES, as_uuid(user_id, "user"), after_created, after_id, limit + 1)
        items = [_to_case(row, []) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items, encode_cursor(items[-1].created_at, items[-1].id) if more else None)

    async def delete(self, case_id: object, user_id: object) -> None:
        """Delete the case with its thread: events, runs, timers, checkpoints, notifications and
        their deliveries, in one transaction."""
        cid, uid = as_uuid(case_id, "case"), as_uuid(user_id, "user")
        async with self.pool.acquire() as con, con.transaction():
            if await con.fetchrow(SELECT_OWNED_CASE, cid, uid) is None:
                raise NotFound("case", case_id)
            # Locks in the order a step of the case takes them (its run, then the timers its
            # projection arms or cancels, then the thread), and a timer firing (timers, then the
            # thread): a step in flight commits first, then the thread goes.
            await con.execute(LOCK_OWNED_CONVERSATION_RUNS, cid, uid)
            await lock_thread_timers(con, cid)
            # The thread's checkpoints before its conversation: row-level security shows them only
            # while the conversation that owns them exists.
            await delete_thread(con, str(cid))
            if await con.fetchval(DELETE_OWNED_CASE_THREAD, cid, uid) is None:
                raise NotFound("case", case_id)

    async def count(self) -> int:
        return await count_cases(self.pool)


async def count_cases(pool: asyncpg.Pool) -> int:
    """Every user's cases (admin totals: the owner's pool)."""
    return int(await pool.fetchval(COUNT_CASES))
