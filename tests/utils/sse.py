"""A small Server-Sent Events reader for the API tests (the wire format, not a client library)."""

from __future__ import annotations

from collections.abc import Iterable


def sse_events(lines: Iterable[str], limit: int | None = None) -> list[dict[str, str]]:
    """Events that carry an id, from the stream's lines; stops after `limit` events."""
    events: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "id" in fields:
                events.append(fields)
                if limit is not None and len(events) >= limit:
                    return events
            fields = {}
            continue
        if line.startswith(":") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        fields[key] = value.removeprefix(" ")
    if "id" in fields:
        events.append(fields)
    return events


def parse_sse(text: str) -> list[dict[str, str]]:
    """Events of a whole response body."""
    return sse_events(text.replace("\r\n", "\n").split("\n"))
