"""Conversations of the caller: create, list (limit + cursor), read, history,
extend, export, workflow, delete, and queue a run. Anything not the caller's,
or past its `expires_at`, is 404."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from api.deps import Conversations, CurrentUser, IdempotencyKey, Runs
from api.errors import AUTH_RESPONSES, OWNED_RESPONSES
from api.routes.runs import run_out
from api.schemas import (
    ConversationCreate,
    ConversationExport,
    ConversationExtend,
    ConversationOut,
    ConversationPage,
    ConversationUpdate,
    MessageOut,
    MessagePage,
    RunCreate,
    RunOut,
    WorkflowOut,
)
from db.conversations import Conversation, Message
from db.paging import CURSOR_PATTERN, MAX_PAGE_SIZE

router = APIRouter(prefix="/conversations", tags=["conversations"], responses=AUTH_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def conversation_out(conversation: Conversation) -> ConversationOut:
    return ConversationOut(id=conversation.id, title=conversation.title, pinned=conversation.pinned,
                           metadata=conversation.metadata,
                           created_at=conversation.created_at, updated_at=conversation.updated_at,
                           expires_at=conversation.expires_at)


def message_out(message: Message) -> MessageOut:
    return MessageOut(id=message.id, role=message.role, content=message.content,  # type: ignore[arg-type]
                      agent_name=message.agent_name, metadata=message.metadata, created_at=message.created_at)


def workflow_out(view: dict[str, Any]) -> WorkflowOut:
    return WorkflowOut.model_validate(view)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConversationOut)
async def create_conversation(body: ConversationCreate, user: CurrentUser,
                              conversations: Conversations) -> ConversationOut:
    return conversation_out(await conversations.create(user.id, body.title, body.metadata))


@router.get("", response_model=ConversationPage)
async def list_conversations(user: CurrentUser, conversations: Conversations, limit: Limit = 20,
                             cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
                             pinned: bool | None = None) -> ConversationPage:
    """Newest first. Pass `next_cursor` back as `cursor` for the next page; `pinned=true`
    (or `false`) lists only the pinned (or unpinned) ones."""
    page = await conversations.list_page(user.id, limit=limit, cursor=cursor, pinned=pinned)
    return ConversationPage(items=[conversation_out(c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/{conversation_id}", response_model=ConversationOut, responses=OWNED_RESPONSES)
async def get_conversation(conversation_id: uuid.UUID, user: CurrentUser,
                           conversations: Conversations) -> ConversationOut:
    return conversation_out(await conversations.get(conversation_id, user.id))


@router.patch("/{conversation_id}", response_model=ConversationOut, responses=OWNED_RESPONSES)
async def update_conversation(conversation_id: uuid.UUID, body: ConversationUpdate, user: CurrentUser,
                              conversations: Conversations) -> ConversationOut:
    """Rename (`title`) and/or pin (`pinned`); a field left out stays as it is. Not activity:
    `updated_at` does not move."""
    return conversation_out(await conversations.update(conversation_id, user.id, title=body.title,
                                                       pinned=body.pinned))


@router.get("/{conversation_id}/history", response_model=MessagePage, responses=OWNED_RESPONSES)
async def conversation_history(conversation_id: uuid.UUID, user: CurrentUser, conversations: Conversations,
                               limit: Limit = 50,
                               cursor: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]{1,18}$")]
                               = None) -> MessagePage:
    """Messages oldest first; `cursor` is the `next_cursor` of the previous page."""
    page = await conversations.history(conversation_id, user.id, limit=limit, after_id=int(cursor or 0))
    return MessagePage(items=[message_out(m) for m in page.items], next_cursor=page.next_cursor)


@router.post("/{conversation_id}/extend", response_model=ConversationOut, responses=OWNED_RESPONSES)
async def extend_conversation(conversation_id: uuid.UUID, user: CurrentUser, conversations: Conversations,
                              body: ConversationExtend | None = None) -> ConversationOut:
    """Move `expires_at` to now + `hours` (default CONVERSATION_TTL_HOURS). An expired one stays gone."""
    hours = body.hours if body is not None else None
    return conversation_out(await conversations.extend(conversation_id, user.id, hours))


@router.get("/{conversation_id}/export", response_model=ConversationExport, responses=OWNED_RESPONSES)
async def export_conversation(conversation_id: uuid.UUID, user: CurrentUser,
                              conversations: Conversations) -> ConversationExport:
    """The conversation, every message and the workflow state, from one consistent snapshot."""
    data = await conversations.export(conversation_id, user.id)
    return ConversationExport(conversation=conversation_out(data["conversation"]),
                              messages=[message_out(m) for m in data["messages"]],
                              workflow=workflow_out(data["workflow"]))


@router.get("/{conversation_id}/workflow", response_model=WorkflowOut, responses=OWNED_RESPONSES)
async def conversation_workflow(conversation_id: uuid.UUID, user: CurrentUser,
                                conversations: Conversations) -> WorkflowOut:
    """Where the workflow is (`workflow_states`) and what each agent concluded (`agent_states`)."""
    return workflow_out(await conversations.workflow(conversation_id, user.id))


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=OWNED_RESPONSES)
async def delete_conversation(conversation_id: uuid.UUID, user: CurrentUser, conversations: Conversations,
) -> Response:
    """Delete the conversation with its messages, runs and checkpoints (one transaction)."""
    await conversations.delete(conversation_id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{conversation_id}/runs", status_code=status.HTTP_202_ACCEPTED, response_model=RunOut,
             responses={**OWNED_RESPONSES, 409: {"description": "Idempotency-Key reused for another request"}})
async def create_run(conversation_id: uuid.UUID, body: RunCreate, user: CurrentUser, runs: Runs,
                     idempotency_key: IdempotencyKey = None,  # type: ignore[assignment]
                     ) -> RunOut:
    """Queue a run for one message; the same `Idempotency-Key` returns the same run."""
    run = await runs.create(user.id, conversation_id, body.message, idempotency_key)
    return run_out(run)
