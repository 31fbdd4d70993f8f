"""What the /lg routes share: the service dependency, documented answers, and the headers that
tell an SDK where a run lives and where its stream or result can be rejoined."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from api.deps import from_state
from api.errors import AUTH_RESPONSES, OWNED_RESPONSES
from api.lg.service import AgentProtocol, Unsupported
from db.runs.model import Run

Protocol = Annotated[AgentProtocol, Depends(from_state("agent_protocol"))]

LG_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    **OWNED_RESPONSES,
    409: {"description": "The thread is busy, exists already, or has no question waiting"},
    422: {"description": "Invalid input, or a protocol feature this server does not offer (the detail says which)"},
}
EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"description": "Server-Sent Events: `metadata` first, then `values`, `updates`, `messages` as asked, "
                         "`error` on failure, `end` last. Each `id` can be sent back as Last-Event-ID to "
                         "the run's join stream to resume after it.",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}},
}


def run_headers(run: Run, rejoin: str | None = None) -> dict[str, str]:
    """Content-Location names the run; Location, where a cut-off client reconnects. Both are
    relative to the /lg mount, which is how the SDKs resolve them (against their base URL)."""
    run_path = f"/threads/{run.conversation_id}/runs/{run.id}"
    headers = {"Content-Location": run_path}
    if rejoin is not None:
        headers["Location"] = f"{run_path}/{rejoin}"
    return headers


def refuse_if(condition: object, reason: str) -> None:
    if condition:
        raise Unsupported(reason)
