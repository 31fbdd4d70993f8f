"""Assistants: one per graph, read-only (search, count, get, graph, schemas, subgraphs).
Addressed by assistant id or by graph id ("navigator")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import CurrentUser
from api.protocol.assistants import ASSISTANTS, Assistant, find_assistant
from api.protocol.serialize import to_jsonable
from api.protocol.shapes import select_fields
from api.routes.lg.common import LG_RESPONSES, Protocol
from api.routes.lg.schemas import AssistantCount, AssistantSearch
from db.errors import NotFound

router = APIRouter(tags=["agent protocol"], responses=LG_RESPONSES)

AssistantId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$",
                                  description="an assistant id, or its graph id (navigator, case)")]



def assistant_or_404(assistant_id: str) -> Assistant:
    assistant = find_assistant(assistant_id)
    if assistant is None:
        raise NotFound("assistant", assistant_id)
    return assistant


def matching(body: AssistantSearch | AssistantCount) -> list[Assistant]:
    return [assistant for assistant in ASSISTANTS
            if (not body.graph_id or assistant.graph_id == body.graph_id)
            and (not body.name or body.name.lower() in assistant.name.lower())
            and all(assistant.metadata.get(key) == value for key, value in (body.metadata or {}).items())]


@router.post("/assistants/search", response_model=list[dict[str, Any]])
async def search_assistants(body: AssistantSearch, user: CurrentUser) -> list[dict[str, Any]]:
    """The assistants matching graph id, name (substring) and metadata."""
    found = sorted(matching(body), key=lambda a: str(a.as_json()[body.sort_by or "created_at"]),
                   reverse=body.sort_order == "desc")
    return [select_fields(a.as_json(), body.select) for a in found[body.offset:body.offset + body.limit]]


@router.post("/assistants/count", response_model=int)
async def count_assistants(body: AssistantCount, user: CurrentUser) -> int:
    return len(matching(body))


@router.get("/assistants/{assistant_id}", response_model=dict[str, Any])
async def get_assistant(assistant_id: AssistantId, user: CurrentUser) -> dict[str, Any]:
    return assistant_or_404(assistant_id).as_json()


@router.get("/assistants/{assistant_id}/graph", response_model=dict[str, Any])
async def get_assistant_graph(assistant_id: AssistantId, user: CurrentUser, protocol: Protocol,
                              xray: Annotated[bool | int, Query()] = False) -> dict[str, Any]:
    """Nodes and edges of the assistant's graph (it has no subgraphs, so xray changes nothing)."""
    assistant = assistant_or_404(assistant_id)
    graph: dict[str, Any] = to_jsonable(protocol.reader(assistant.graph_id).get_graph().to_json())
    return graph


@router.get("/assistants/{assistant_id}/schemas", response_model=dict[str, Any])
async def get_assistant_schemas(assistant_id: AssistantId, user: CurrentUser) -> dict[str, Any]:
    return assistant_or_404(assistant_id).schemas()


@router.get("/assistants/{assistant_id}/subgraphs", response_model=dict[str, Any])
async def get_assistant_subgraphs(assistant_id: AssistantId, user: CurrentUser) -> dict[str, Any]:
    assistant_or_404(assistant_id)
    return {}
