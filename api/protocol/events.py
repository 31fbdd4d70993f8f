"""Event ids of a rebuilt run stream, and the error payload of a failed run.

A run's protocol events are derived from its durable events (`run_events`), one durable event
giving zero or more protocol events; the k-th protocol event of durable event E has the id
"E-k". A client that reconnects with Last-Event-ID "E-k" gets everything after it, rebuilt
from the same rows, so a stream survives a restart of the server that was sending it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LAST_EVENT_ID_PATTERN = r"^(-1|[0-9]{1,18}(-[0-9]{1,6})?)$"
_LAST_EVENT_ID = re.compile(LAST_EVENT_ID_PATTERN)


@dataclass(frozen=True, order=True)
class Position:
    """The last protocol event a client has: durable event `event_id`, its `index`-th part."""

    event_id: int
    index: int


def event_id(durable_id: int, index: int) -> str:
    return f"{durable_id}-{index}"


def parse_last_event_id(value: str | None) -> Position | None:
    """None: from the start (no header, or "-1" as the JS client sends to replay everything).
    A bare durable id "E" means all of E was received (the ids of /runs/{id}/events)."""
    if value is None or value == "" or value == "-1":
        return None
    if not _LAST_EVENT_ID.match(value):
        raise ValueError("Last-Event-ID must be an id this server sent (like 12-0)")
    durable, _, index = value.partition("-")
    return Position(int(durable), int(index) if index else 1_000_000)


def error_payload(reason: str | None) -> dict[str, Any]:
    """`{"error": kind, "message": text}` from a run's stored error ("Kind: text")."""
    reason = reason or "error"
    kind, sep, message = reason.partition(": ")
    if not sep or " " in kind:
        return {"error": "RunError", "message": reason}
    return {"error": kind, "message": message}
