"""Threads: a thread is one of the caller's conversations (same row, owner and time to live;
its metadata is the conversation's). Create, read, update metadata, delete, search, count,
copy, and its state (now, at a checkpoint, and its history) from the checkpointer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from api.deps import Conversations, CurrentUser
from api.routes.lg.common import LG_RESPONSES, Protocol
from api.routes.lg.schemas import (
    CheckpointRef,
    HistoryQuery,
    StateAt,
    ThreadCount,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
    Ttl,
)

router = APIRouter(tags=["agent protocol"], responses=LG_RESPONSES)

Subgraphs = Annotated[bool, Query(description="ignored: the graph has no subgraphs")]


def minutes(ttl: int | Ttl | None) -> int | None:
    return ttl.ttl if isinstance(ttl, Ttl) else ttl


@router.post("/threads", response_model=dict[str, Any])
async def create_thread(body: ThreadCreate, user: CurrentUser, protocol: Protocol) -> dict[str, Any]:
    """A new thread (a conversation). With `thread_id` and `if_exists="do_nothing"`, your existing
    thread of that id is returned; `ttl` (minutes) sets when it expires."""
    metadata = dict(body.metadata or {})
    if body.graph_id:
        metadata["graph_id"] = body.graph_id
    return await protocol.create_thread(user.id, thread_id=body.thread_id, metadata=metadata,
                                        if_exists=body.if_exists or "raise", ttl_minutes=minutes(body.ttl))


@router.post("/threads/search", response_model=list[dict[str, Any]])
async def search_threads(body: ThreadSearch, user: CurrentUser, protocol: Protocol) -> list[dict[str, Any]]:
    """Your threads whose metadata contains `metadata`, by status, newest first unless sorted."""
    return await protocol.search_threads(user.id, metadata=body.metadata, ids=body.ids, status=body.status,
                                         sort_by=body.sort_by or "created_at", sort_order=body.sort_order or "desc",
                                         limit=body.limit, offset=body.offset, select=body.select)


@router.post("/threads/count", response_model=int)
async def count_threads(body: ThreadCount, user: CurrentUser, protocol: Protocol) -> int:
    return await protocol.store.count_threads(user.id, metadata=body.metadata, status=body.status)


@router.get("/threads/{thread_id}", response_model=dict[str, Any])
async def get_thread(thread_id: uuid.UUID, user: CurrentUser, protocol: Protocol) -> dict[str, Any]:
    return await protocol.thread(user.id, thread_id)


@router.patch("/threads/{thread_id}", response_model=dict[str, Any])
async def update_thread(thread_id: uuid.UUID, body: ThreadPatch, user: CurrentUser,
                        protocol: Protocol) -> dict[str, Any]:
    """Merge `metadata` into the thread's (keys given replace those stored); `ttl` moves its expiry."""
    return await protocol.update_thread(user.id, thread_id, body.metadata or {}, minutes(body.ttl))


@router.delete("/threads/{thread_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_thread(thread_id: uuid.UUID, user: CurrentUser, conversations: Conversations) -> Response:
    """Delete the thread with its runs and checkpoints (it is the conversation: that goes too)."""
    await conversations.delete(thread_id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/threads/{thread_id}/copy", response_model=dict[str, Any])
async def copy_thread(thread_id: uuid.UUID, user: CurrentUser, protocol: Protocol) -> dict[str, Any]:
    """A new thread with this one's metadata, messages and whole checkpoint history (no runs)."""
    return await protocol.copy_thread(user.id, thread_id)


@router.get("/threads/{thread_id}/state", response_model=dict[str, Any])
async def get_state(thread_id: uuid.UUID, user: CurrentUser, protocol: Protocol,
                    subgraphs: Subgraphs = False) -> dict[str, Any]:
    """The latest state: values, next nodes, tasks with their interrupts (the question waiting), checkpoint."""
    return await protocol.state(user.id, thread_id)


@router.get("/threads/{thread_id}/state/{checkpoint_id}", response_model=dict[str, Any])
async def get_state_at(thread_id: uuid.UUID, checkpoint_id: uuid.UUID, user: CurrentUser, protocol: Protocol,
                       subgraphs: Subgraphs = False) -> dict[str, Any]:
    return await protocol.state(user.id, thread_id, str(checkpoint_id))


@router.post("/threads/{thread_id}/state/checkpoint", response_model=dict[str, Any])
async def get_state_at_checkpoint(thread_id: uuid.UUID, body: StateAt, user: CurrentUser,
                                  protocol: Protocol) -> dict[str, Any]:
    return await protocol.state(user.id, thread_id, body.checkpoint.checkpoint_id)


@router.post("/threads/{thread_id}/history", response_model=list[dict[str, Any]])
async def get_history(thread_id: uuid.UUID, body: HistoryQuery, user: CurrentUser,
                      protocol: Protocol) -> list[dict[str, Any]]:
    """States newest first, `limit` of them, older than `before` (a checkpoint id) when given."""
    before = body.before.checkpoint_id if isinstance(body.before, CheckpointRef) else body.before
    checkpoint_id = body.checkpoint.checkpoint_id if body.checkpoint is not None else None
    states = await protocol.history(user.id, thread_id, limit=body.limit, before=before, checkpoint_id=checkpoint_id,
                                    metadata=body.metadata)
    return [{k: v for k, v in state.items() if not body.select or k in body.select} for state in states]
