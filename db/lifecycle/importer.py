"""Reading an export back (`navigator import`): each user in one transaction, keeping ids and
timestamps, and idempotent: a row already stored stays as it is and is not stored twice, so an
import run twice leaves the same rows as run once.

An account whose id or email another account holds is not touched (the report says so), nor is
any row whose conversation or document belongs to another account. Runs arrive settled (one that
was pending or running is cancelled: it cannot continue here); documents are encrypted again with
this server's key. Messages keep their ids where those ids are free; a database whose ids have run
elsewhere gives the rest new ones, and a message is recognised by its conversation, time, role and
words, so it is never stored twice either.
"""

from __future__ import annotations

import base64
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from db import document_crypto, webhooks
from db.analytics import IMPORT_EVENTS
from db.api_keys import IMPORT_API_KEYS
from db.cases import ADVANCE_CASE_EVENT_IDS, IMPORT_CASE_EVENTS_KEEPING_IDS, IMPORT_CASE_EVENTS_NEW_IDS, IMPORT_CASES
from db.checkpoint.sql import (
    IMPORT_AGENT_STATES,
    IMPORT_BLOBS,
    IMPORT_CHECKPOINTS,
    IMPORT_WORKFLOW_STATES,
    IMPORT_WRITES,
)
from db.connection import Connection, command_rows
from db.conversations.sql import (
    ADVANCE_MESSAGE_IDS,
    IMPORT_CONVERSATIONS,
    IMPORT_MESSAGES_KEEPING_IDS,
    IMPORT_MESSAGES_NEW_IDS,
    SELECT_OWNED_AMONG,
)
from db.documents import IMPORT_DOCUMENT_CHUNKS, IMPORT_DOCUMENT_LINKS, IMPORT_DOCUMENTS
from db.lifecycle.export import FORMAT, VERSION
from db.notifications import IMPORT_NOTIFICATIONS
from db.profiles import IMPORT_PROFILE
from db.protocol import IMPORT_RUN_OPTIONS
from db.risk import IMPORT_RISKS
from db.runs.sql import IMPORT_RUNS
from db.runs.timers import IMPORT_TIMERS
from db.users import IMPORT_USER, LOCK_USER_IMPORT, SELECT_USER_ID_BY_EMAIL
from db.webhooks import IMPORT_WEBHOOKS

# Stored for an account imported without its password hash: no password verifies against it.
NO_PASSWORD = "!imported-without-password"


class NotAnExport(ValueError):
    """The file is not an export this service reads (answered as one line, nothing stored)."""


@dataclass
class ImportReport:
    users_created: int = 0
    users_existing: int = 0
    # Rows stored now, and rows left out (already stored, or belonging to another account), per section.
    stored: Counter[str] = field(default_factory=Counter)
    left: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise NotAnExport("a user's created_at and updated_at must be ISO 8601 times")
    return datetime.fromisoformat(value)


def check_document(document: Any) -> list[Mapping[str, Any]]:
    """The users of an export document; NotAnExport when it is not one."""
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise NotAnExport(f"not an export of this service (no \"format\": \"{FORMAT}\")")
    if document.get("version") != VERSION:
        raise NotAnExport(f"export version {document.get('version')!r} is not {VERSION}, the one this version reads")
    users = document.get("users")
    if not isinstance(users, list) or not all(isinstance(u, Mapping) and isinstance(u.get("user"), Mapping)
                                               for u in users):
        raise NotAnExport("\"users\" must be a list of objects, each with a \"user\"")
    return users


async def _section(con: Connection, report: ImportReport, name: str, rows: list[Any], statement: str,
                   *args: Any) -> None:
    """Run one section's import statement (`args` are its parameters, `rows` among them) and count."""
    if not rows:
        return
    stored = command_rows(await con.execute(statement, *args))
    report.stored[name] += stored
    report.left[name] += len(rows) - stored


def _documents(rows: list[Mapping[str, Any]], key: bytes, user_id: uuid.UUID,
               report: ImportReport) -> list[dict[str, Any]]:
    """Documents with their file encrypted for this server (those exported without one are left out)."""
    ready = []
    for row in rows:
        if row.get("file") is None:
            report.problems.append(f"document {row.get('id')} has no file in the export (it could not be decrypted "
                                   "where it was exported); left out")
            continue
        data = base64.b64decode(row["file"])
        document_id = uuid.UUID(str(row["id"]))
        sealed = document_crypto.encrypt(key, data, user_id=user_id, document_id=document_id)
        ready.append({**{k: v for k, v in row.items() if k != "file"},
                      "digest": base64.b64encode(document_crypto.file_digest(key, data)).decode(),
                      "content": base64.b64encode(sealed).decode(), "key_id": document_crypto.key_id(key)})
    return ready


async def import_sections(con: Connection, user_id: uuid.UUID, entry: Mapping[str, Any], key: bytes,
                          report: ImportReport) -> None:
    """Everything of one user but the account row, in the caller's transaction."""
    def rows(name: str) -> list[Any]:
        value = entry.get(name) or []
        if not isinstance(value, list):
            raise NotAnExport(f"section {name!r} must be a list")
        return value

    profile = entry.get("profile")
    if profile:
        report.stored["profile"] += command_rows(await con.execute(IMPORT_PROFILE, user_id, profile))
    keys = rows("api_keys")
    await _section(con, report, "api_keys", keys, IMPORT_API_KEYS, user_id, keys)
    conversations = rows("conversations")
    await _section(con, report, "conversations", conversations, IMPORT_CONVERSATIONS, user_id, conversations)
    wanted = [uuid.UUID(str(c["id"])) for c in conversations]
    owned = {row["id"] for row in await con.fetch(SELECT_OWNED_AMONG, user_id, wanted)}
    if len(owned) < len(set(wanted)):
        report.problems.append(f"{len(set(wanted)) - len(owned)} conversations left out: their ids belong to "
                               "another account")
    owned_ids, threads = list(owned), {str(cid) for cid in owned}

    await _import_numbered(con, report, "conversation_messages", rows("conversation_messages"),
                           (IMPORT_MESSAGES_KEEPING_IDS, ADVANCE_MESSAGE_IDS, IMPORT_MESSAGES_NEW_IDS),
                           user_id, owned_ids)

    runs = rows("runs")
    await _section(con, report, "runs", runs, IMPORT_RUNS, user_id, runs, owned_ids)
    documents = _documents(rows("documents"), key, user_id, report)
    for name, statement, given in (("run_protocol_options", IMPORT_RUN_OPTIONS, rows("run_protocol_options")),
                                   ("documents", IMPORT_DOCUMENTS, documents),
                                   ("document_conversations", IMPORT_DOCUMENT_LINKS, rows("document_conversations")),
                                   ("document_chunks", IMPORT_DOCUMENT_CHUNKS, rows("document_chunks")),
                                   ("risk_detections", IMPORT_RISKS, _of(rows("risk_detections"), threads)),
                                   ("analytics_events", IMPORT_EVENTS, rows("analytics_events"))):
        await _section(con, report, name, given, statement, user_id, given)
    await _import_cases(con, user_id, rows, owned_ids, key, report)
    # The threads of the user's conversations only: rows first ($1), like the checkpointer's statements.
    for name, statement in (("checkpoints", IMPORT_CHECKPOINTS), ("checkpoint_blobs", IMPORT_BLOBS),
                            ("checkpoint_writes", IMPORT_WRITES), ("agent_states", IMPORT_AGENT_STATES)):
        given = _of(rows(name), threads)
        await _section(con, report, name, given, statement, given)
    workflows = _of(rows("workflow_states"), threads)
    await _section(con, report, "workflow_states", workflows, IMPORT_WORKFLOW_STATES, workflows, user_id)


async def _import_numbered(con: Connection, report: ImportReport, name: str, given: list[Any],
                           statements: tuple[str, str, str], *args: Any) -> None:
    """Rows numbered by an identity column: those whose id is free keep it, the counter then moves
    past every stored id, and only then the rest get new ids (numbered before the move, a new id
    could be one just kept). `statements`: keeping ids, moving the counter, new ids."""
    keeping, advance, new_ids = statements
    numbered = [row for row in given if isinstance(row, Mapping) and row.get("id") is not None]
    kept = renumbered = 0
    if numbered:
        kept = command_rows(await con.execute(keeping, args[0], numbered, *args[1:]))
        if kept:
            await con.execute(advance)
    if given:
        renumbered = command_rows(await con.execute(new_ids, args[0], given, *args[1:]))
    report.stored[name] += kept + renumbered
    report.left[name] += len(given) - kept - renumbered


async def _import_cases(con: Connection, user_id: uuid.UUID, rows: Callable[[str], list[Any]],
                        owned_ids: list[uuid.UUID], key: bytes, report: ImportReport) -> None:
    """Cases with their events, timers, webhooks and notifications: before the threads' projection,
    whose trigger then finds the timers and notifications it would write already stored."""
    cases = rows("cases")
    await _section(con, report, "cases", cases, IMPORT_CASES, user_id, cases, owned_ids)
    await _import_numbered(con, report, "case_events", rows("case_events"),
                           (IMPORT_CASE_EVENTS_KEEPING_IDS, ADVANCE_CASE_EVENT_IDS, IMPORT_CASE_EVENTS_NEW_IDS),
                           user_id)
    timers = rows("timers")
    await _section(con, report, "timers", timers, IMPORT_TIMERS, user_id, timers, owned_ids)
    hooks = []
    for hook in rows("webhooks"):
        if not isinstance(hook, Mapping) or not hook.get("secret"):
            report.left["webhooks"] += 1  # exported without its secret: it could sign nothing
            continue
        sealed = webhooks.seal_secret(key, str(hook["secret"]), webhook_id=uuid.UUID(str(hook["id"])))
        hooks.append({**hook, "secret": base64.b64encode(sealed).decode(), "key_id": webhooks.key_id(key)})
    await _section(con, report, "webhooks", hooks, IMPORT_WEBHOOKS, user_id, hooks)
    told = rows("notifications")
    await _section(con, report, "notifications", told, IMPORT_NOTIFICATIONS, user_id, told)


def _of(rows: list[Any], threads: set[str]) -> list[Any]:
    """The rows naming one of these threads (as `thread_id` or `conversation_id`)."""
    return [r for r in rows if isinstance(r, Mapping) and r.get("thread_id", r.get("conversation_id")) in threads]


async def import_user(con: Connection, entry: Mapping[str, Any], key: bytes, report: ImportReport) -> None:
    """One user of an export, in the caller's transaction."""
    account = entry["user"]
    try:
        user_id = uuid.UUID(str(account["id"]))
        email = str(account["email"])
    except (KeyError, ValueError):
        raise NotAnExport("every user needs an \"id\" (a UUID) and an \"email\"") from None
    await con.execute(LOCK_USER_IMPORT, user_id)  # two imports of one account take turns
    created = await con.fetchval(IMPORT_USER, user_id, email, account.get("password_hash") or NO_PASSWORD,
                                 account.get("full_name"), account.get("role", "user"),
                                 account.get("is_active", True), _time(account.get("created_at")),
                                 _time(account.get("updated_at")))
    if created is None and await con.fetchval(SELECT_USER_ID_BY_EMAIL, email) != user_id:
        report.problems.append(f"user {user_id} left out: its id or its email belongs to another account")
        return
    if created is None:
        report.users_existing += 1
    else:
        report.users_created += 1
    await import_sections(con, user_id, entry, key, report)


async def import_document(pool: asyncpg.Pool, document: Any, key: bytes) -> ImportReport:
    """Import an export document: each user in a transaction of its own."""
    report = ImportReport()
    for entry in check_document(document):
        async with pool.acquire() as con, con.transaction():
            await import_user(con, entry, key, report)
    return report


async def import_into_account(pool: asyncpg.Pool, user_id: uuid.UUID, entry: Mapping[str, Any],
                              key: bytes) -> ImportReport:
    """Import sections (conversations and messages from another app, say) into an existing account."""
    report = ImportReport()
    async with pool.acquire() as con, con.transaction():
        await con.execute(LOCK_USER_IMPORT, user_id)
        await import_sections(con, user_id, entry, key, report)
    return report
