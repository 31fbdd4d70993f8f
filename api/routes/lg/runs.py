"""Runs on a thread (and stateless ones, which get a new thread): create in the background,
stream, wait, join, join the stream (resumable with Last-Event-ID), list, get, cancel, delete.

A run here is a run of the service's own queue: the same workers execute it, the same fence
guards it, and its stream is rebuilt from its durable events and checkpoints.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import Field
from sse_starlette import EventSourceResponse

from api.deps import CurrentUser
from api.instrumentation import counted_stream
from api.lg.service import AgentProtocol, RunRequest
from api.protocol.events import LAST_EVENT_ID_PATTERN, parse_last_event_id
from api.routes.lg.assistants import assistant_or_404
from api.routes.lg.common import EVENT_STREAM, LG_RESPONSES, Protocol, refuse_if, run_headers
from api.routes.lg.schemas import RunCreate
from api.schemas import NO_NUL
from db.runs.model import Run
from db.users import User

router = APIRouter(tags=["agent protocol"], responses=LG_RESPONSES)

QueryStreamMode = Annotated[str, Field(max_length=40, pattern=NO_NUL)]

SSE_PING_SECONDS = 15
# How long wait and join hold the request before answering with the state as it is.
WAIT_SECONDS = 240.0
# Cancels started when a client leaves a stream with on_disconnect="cancel" (kept until done).
_CANCELLING: set[asyncio.Task[Any]] = set()


def run_request(body: RunCreate) -> RunRequest:
    """The run asked for: 404 for an unknown assistant, else 422 for input it cannot run."""
    return RunRequest.parse(assistant_or_404(body.assistant_id), input=body.input, command=body.command,
                            metadata=body.metadata, stream_mode=body.stream_mode,
                            multitask_strategy=body.multitask_strategy)


async def start(protocol: AgentProtocol, user: User, thread_id: uuid.UUID | None, body: RunCreate) -> Run:
    if thread_id is not None and body.if_not_exists != "create":
        await protocol.conversations.thread(thread_id, user.id)  # another user's thread: 404 before anything else
    return await protocol.start_run(user.id, thread_id, run_request(body),
                                    create_thread=body.if_not_exists == "create")


def stream_response(protocol: AgentProtocol, user: User, run: Run, modes: list[str], last_event_id: str | None,
                    cancel_on_disconnect: bool) -> EventSourceResponse:
    after = parse_last_event_id(last_event_id)

    async def events() -> Any:
        finished = False
        try:
            async for message in protocol.stream(user.id, run, modes, after):
                yield message
            finished = True
        finally:
            if cancel_on_disconnect and not finished:
                task = asyncio.create_task(protocol.runs.cancel(run.id, user.id))
                _CANCELLING.add(task)
                task.add_done_callback(_CANCELLING.discard)

    return EventSourceResponse(counted_stream(events()), ping=SSE_PING_SECONDS, headers=run_headers(run, "stream"))


async def wait_response(protocol: AgentProtocol, user: User, run: Run) -> JSONResponse:
    """The values the run ended with (see AgentProtocol.final_values); after WAIT_SECONDS, the
    thread's values as they are (the run goes on: join it)."""
    settled = await protocol.runs.wait(run.id, user.id, WAIT_SECONDS)
    values = await protocol.final_values(settled)
    return JSONResponse(values, headers=run_headers(settled, "join"))


@router.post("/threads/{thread_id}/runs", response_model=dict[str, Any])
async def create_run(thread_id: uuid.UUID, body: RunCreate, user: CurrentUser, protocol: Protocol,
                     response: Response) -> dict[str, Any]:
    """Queue a run: `input` with one user message, or `command.resume` with the answer to the
    question the thread waits on. `multitask_strategy`: reject (default) or enqueue."""
    run = await start(protocol, user, thread_id, body)
    response.headers.update(run_headers(run))
    return await protocol.run_json(run)


@router.post("/threads/{thread_id}/runs/stream", responses=EVENT_STREAM)
async def stream_run(thread_id: uuid.UUID, body: RunCreate, user: CurrentUser,
                     protocol: Protocol) -> EventSourceResponse:
    """Queue a run and stream it (`stream_mode`: values, updates, messages-tuple)."""
    run = await start(protocol, user, thread_id, body)
    return stream_response(protocol, user, run, await protocol.stream_modes_of(run, None), None,
                           body.on_disconnect == "cancel")


@router.post("/threads/{thread_id}/runs/wait", response_model=dict[str, Any])
async def wait_run(thread_id: uuid.UUID, body: RunCreate, user: CurrentUser, protocol: Protocol) -> JSONResponse:
    """Queue a run and answer with the values it ends with ("__interrupt__" when it asks a question)."""
    return await wait_response(protocol, user, await start(protocol, user, thread_id, body))


@router.post("/runs", response_model=dict[str, Any])
async def create_stateless_run(body: RunCreate, user: CurrentUser, protocol: Protocol,
                               response: Response) -> dict[str, Any]:
    """A run on a new thread (kept as a conversation of yours, expiring like the others)."""
    run = await start(protocol, user, None, body)
    response.headers.update(run_headers(run))
    return await protocol.run_json(run)


@router.post("/runs/stream", responses=EVENT_STREAM)
async def stream_stateless_run(body: RunCreate, user: CurrentUser, protocol: Protocol) -> EventSourceResponse:
    run = await start(protocol, user, None, body)
    return stream_response(protocol, user, run, await protocol.stream_modes_of(run, None), None,
                           body.on_disconnect == "cancel")


@router.post("/runs/wait", response_model=dict[str, Any])
async def wait_stateless_run(body: RunCreate, user: CurrentUser, protocol: Protocol) -> JSONResponse:
    return await wait_response(protocol, user, await start(protocol, user, None, body))


@router.get("/threads/{thread_id}/runs", response_model=list[dict[str, Any]])
async def list_runs(thread_id: uuid.UUID, user: CurrentUser, protocol: Protocol,
                    limit: Annotated[int, Query(ge=1, le=100)] = 10,
                    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
                    status: Literal["pending", "running", "error", "success", "timeout", "interrupted"] | None = None,
                    select: Annotated[list[str] | None, Query(max_length=20)] = None) -> list[dict[str, Any]]:
    """The thread's runs, newest first."""
    return await protocol.list_runs(user.id, thread_id, limit=limit, offset=offset, status=status, select=select)


@router.get("/threads/{thread_id}/runs/{run_id}", response_model=dict[str, Any])
async def get_run(thread_id: uuid.UUID, run_id: uuid.UUID, user: CurrentUser, protocol: Protocol) -> dict[str, Any]:
    return await protocol.run_json(await protocol.owned_run(user.id, thread_id, run_id))


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_run(thread_id: uuid.UUID, run_id: uuid.UUID, user: CurrentUser, protocol: Protocol,
                     wait: Annotated[bool, Query()] = False,
                     action: Literal["interrupt", "rollback"] = "interrupt") -> Response:
    """Cancel now if pending or waiting, at the next step boundary if running; `wait` until it has stopped."""
    run = await protocol.owned_run(user.id, thread_id, run_id)
    refuse_if(action == "rollback", "action='rollback' is not supported: the steps a run completed are the "
                                    "thread's history; cancel with action='interrupt'")
    await protocol.runs.cancel(run.id, user.id)
    if wait:
        await protocol.runs.wait(run.id, user.id, WAIT_SECONDS)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/threads/{thread_id}/runs/{run_id}/join", response_model=dict[str, Any])
async def join_run(thread_id: uuid.UUID, run_id: uuid.UUID, user: CurrentUser, protocol: Protocol) -> JSONResponse:
    """Wait for the run and answer with the values it ended with."""
    return await wait_response(protocol, user, await protocol.owned_run(user.id, thread_id, run_id))


@router.get("/threads/{thread_id}/runs/{run_id}/stream", responses=EVENT_STREAM)
async def join_run_stream(thread_id: uuid.UUID, run_id: uuid.UUID, user: CurrentUser, protocol: Protocol,
                          stream_mode: Annotated[list[QueryStreamMode] | None, Query(max_length=20)] = None,
                          cancel_on_disconnect: Annotated[bool, Query()] = False,
                          last_event_id: Annotated[str, Header(pattern=LAST_EVENT_ID_PATTERN)]
                          = None,  # type: ignore[assignment]  # optional without a null in the schema
                          ) -> EventSourceResponse:
    """The run's stream from the start, or after `Last-Event-ID` (any id this server sent, also
    before a restart); it ends when the run has finished or waits for an answer."""
    run = await protocol.owned_run(user.id, thread_id, run_id)
    # The Python SDK sends `stream_mode=` (empty) when it has none to ask for.
    modes = await protocol.stream_modes_of(run, [mode for mode in stream_mode or [] if mode])
    return stream_response(protocol, user, run, modes, last_event_id, cancel_on_disconnect)


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_run(thread_id: uuid.UUID, run_id: uuid.UUID, user: CurrentUser, protocol: Protocol) -> Response:
    """Delete a finished run and its events (the thread's state stays as it is)."""
    run = await protocol.owned_run(user.id, thread_id, run_id)
    await protocol.runs.delete(run.id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
