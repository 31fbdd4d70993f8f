"""Runs of the caller: read, cancel, resume with an answer, and the durable
event log as Server-Sent Events (resumable with Last-Event-ID)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse

from api.deps import CurrentUser, Runs
from api.errors import AUTH_RESPONSES, OWNED_RESPONSES
from api.instrumentation import counted_stream
from api.schemas import RunEventOut, RunOut, RunResume
from db.runs.model import Run, RunEvent

router = APIRouter(prefix="/runs", tags=["runs"], responses={**AUTH_RESPONSES, **OWNED_RESPONSES})

SSE_PING_SECONDS = 15
EVENT_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The run's events as Server-Sent Events: `id` (use as Last-Event-ID), "
                       "`event` (its kind) and `data` (JSON). The stream ends when the run has "
                       "finished or waits for an answer.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
}


def run_out(run: Run) -> RunOut:
    return RunOut.model_validate(run)


def event_out(event: RunEvent) -> RunEventOut:
    return RunEventOut.model_validate(event)


def sse_message(event: RunEvent) -> dict[str, str]:
    payload = event_out(event).model_dump(mode="json")
    return {"id": str(event.id), "event": event.event, "data": json.dumps(payload)}


@router.get("/{run_id}", response_model=RunOut)
async def get_run(run_id: uuid.UUID, user: CurrentUser, runs: Runs) -> RunOut:
    return run_out(await runs.get(run_id, user.id))


@router.post("/{run_id}/cancel", response_model=RunOut)
async def cancel_run(run_id: uuid.UUID, user: CurrentUser, runs: Runs) -> RunOut:
    """Cancel now if pending or waiting, at the next step boundary if running; finished runs stay as they are."""
    return run_out(await runs.cancel(run_id, user.id))


@router.post("/{run_id}/resume", status_code=202, response_model=RunOut,
             responses={409: {"description": "The run is not waiting for an answer, or was already resumed"}})
async def resume_run(run_id: uuid.UUID, body: RunResume, user: CurrentUser, runs: Runs) -> RunOut:
    """Answer an interrupted run's question: queues its continuation (a new run) once."""
    return run_out(await runs.resume(run_id, user.id, body.input))


@router.get("/{run_id}/events", responses=EVENT_STREAM_RESPONSES)
async def run_events(run_id: uuid.UUID, user: CurrentUser, runs: Runs,
                     last_event_id: Annotated[str, Header(pattern=r"^[0-9]{1,18}$")]
                     = None,  # type: ignore[assignment]  # optional without a null in the schema
                     after: Annotated[int | None, Query(ge=0, le=10**18)] = None) -> EventSourceResponse:
    """Replays every event after `Last-Event-ID` (or `after`), then follows the run live."""
    await runs.get(run_id, user.id)  # 404 before the stream starts
    start = int(last_event_id) if last_event_id is not None else (after or 0)

    async def stream() -> AsyncIterator[dict[str, str]]:
        async for event in runs.stream_events(run_id, user.id, after_id=start):
            yield sse_message(event)

    return EventSourceResponse(counted_stream(stream()), ping=SSE_PING_SECONDS)
