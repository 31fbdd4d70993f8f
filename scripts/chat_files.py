"""A file-based chat app's history, read as an import: one JSON file per conversation with `id`,
`created_at`, `title` and `messages` (`[{"role": ..., "content": ...}]`), given as files or a
folder of them (a file may also hold a list of such conversations).

Pure: the files' contents become the `conversations` and `conversation_messages` sections of an
export (db/lifecycle/export.py), owned by the account they are imported into. Ids that are not
UUIDs become stable UUIDs (the same file imported twice names the same conversation), and a
message without its own time is placed a microsecond after the one before it, so messages keep
their order and an import run twice stores nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant", "bot": "assistant",
         "model": "assistant", "system": "system"}
# Conversation ids from another app, mapped into this service's UUIDs per account.
CHAT_FILES_NAMESPACE = uuid.UUID("6f1c1f5e-3b1a-5c2e-9d4f-7a8b9c0d1e2f")
MAX_TITLE_CHARS = 200


class BadChatFile(ValueError):
    """A file that is not a conversation of that layout; the message names the file and the problem."""


def looks_like_chat_file(document: Any) -> bool:
    items = document if isinstance(document, list) else [document]
    return bool(items) and all(isinstance(item, Mapping) and "messages" in item for item in items)


def parse_time(value: Any, where: str) -> datetime:
    """ISO 8601 (a time without a zone is UTC) or seconds (or milliseconds) since the epoch."""
    if isinstance(value, bool) or value is None:
        raise BadChatFile(f"{where}: created_at is missing")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadChatFile(f"{where}: created_at {value!r} is not an ISO 8601 time") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise BadChatFile(f"{where}: created_at must be a time")


def message_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": "..."}]
        texts = [part["text"] for part in content
                 if isinstance(part, Mapping) and isinstance(part.get("text"), str)]
        if texts:
            return "\n".join(texts)
    raise BadChatFile(f"{where}: content must be text")


def conversation_id(raw: Any, user_id: uuid.UUID) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return uuid.uuid5(CHAT_FILES_NAMESPACE, f"{user_id}:{raw}")


def read_conversation(item: Mapping[str, Any], where: str, user_id: uuid.UUID, expires_at: datetime,
                      messages_out: list[dict[str, Any]]) -> dict[str, Any]:
    raw_id = item.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        raise BadChatFile(f"{where}: id is missing")
    cid = conversation_id(raw_id, user_id)
    started = parse_time(item.get("created_at"), where)
    title = item.get("title")
    if title is not None and not isinstance(title, str):
        raise BadChatFile(f"{where}: title must be text")
    messages = item.get("messages")
    if not isinstance(messages, list):
        raise BadChatFile(f"{where}: messages must be a list")
    last = started
    for index, message in enumerate(messages):
        at = f"{where}: messages[{index}]"
        if not isinstance(message, Mapping):
            raise BadChatFile(f"{at} must be an object with role and content")
        role = ROLES.get(str(message.get("role", "")).lower())
        if role is None:
            raise BadChatFile(f"{at}: role must be one of {', '.join(sorted(ROLES))}")
        own_time = message.get("created_at", message.get("timestamp"))
        said_at = parse_time(own_time, at) if own_time is not None else last + timedelta(microseconds=1)
        last = max(last, said_at)
        messages_out.append({"id": None, "conversation_id": str(cid), "role": role,
                             "content": message_text(message.get("content"), at), "agent_name": None,
                             "metadata": {}, "created_at": said_at.isoformat()})
    return {"id": str(cid), "title": title.strip()[:MAX_TITLE_CHARS] if title and title.strip() else None,
            "pinned": False, "metadata": {"imported_from": "chat_files", "source_id": str(raw_id)},
            "created_at": started.isoformat(), "updated_at": last.isoformat(), "expires_at": expires_at.isoformat()}


def chat_files_entry(files: list[tuple[str, Any]], user_id: uuid.UUID, ttl_hours: int,
                     now: datetime | None = None) -> dict[str, Any]:
    """The import sections for these (name, parsed JSON) files. Conversations from another app get
    a full CONVERSATION_TTL_HOURS from their first import."""
    expires_at = (now or datetime.now(UTC)) + timedelta(hours=ttl_hours)
    conversations: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for name, document in files:
        items = document if isinstance(document, list) else [document]
        for index, item in enumerate(items):
            where = name if len(items) == 1 else f"{name}[{index}]"
            if not isinstance(item, Mapping):
                raise BadChatFile(f"{where}: not a conversation object")
            conversations.append(read_conversation(item, where, user_id, expires_at, messages))
    return {"conversations": conversations, "conversation_messages": messages}
