"""Request bodies of the /lg routes, named and typed as the LangGraph SDKs send them. Fields
this server reads are checked here; fields it does not need (tracing, durability: runs are
always durable) are accepted and ignored, so a newer SDK's extra fields do not break it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import NO_NUL, Metadata

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
StreamModeName = Annotated[str, Field(min_length=1, max_length=40, pattern=NO_NUL)]
StreamModes = StreamModeName | Annotated[list[StreamModeName], Field(max_length=20)]
Limit = Annotated[int, Field(ge=1, le=100)]
Offset = Annotated[int, Field(ge=0, le=100_000)]
Fields = Annotated[list[Annotated[str, Field(max_length=100, pattern=NO_NUL)]], Field(max_length=50)]
TtlMinutes = Annotated[int, Field(ge=1, le=525_600, description="minutes from now until the thread expires")]
CheckpointId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z-]+$")]


class LgModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Ttl(LgModel):
    ttl: TtlMinutes
    strategy: Literal["delete"] = "delete"


class ThreadCreate(LgModel):
    thread_id: uuid.UUID | None = None
    metadata: Metadata | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    ttl: TtlMinutes | Ttl | None = None
    supersteps: list[Any] | None = Field(default=None, description="not supported (422 when not empty)")
    graph_id: Name | None = None


class ThreadPatch(LgModel):
    metadata: Metadata | None = None
    ttl: TtlMinutes | Ttl | None = None


class ThreadSearch(LgModel):
    metadata: Metadata | None = None
    values: dict[str, Any] | None = Field(default=None, description="not supported (422 when not empty)")
    ids: Annotated[list[uuid.UUID], Field(max_length=100)] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: Limit = 10
    offset: Offset = 0
    sort_by: Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: Fields | None = None
    extract: dict[str, Any] | None = Field(default=None, description="not supported (422 when not empty)")


class ThreadCount(LgModel):
    metadata: Metadata | None = None
    values: dict[str, Any] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None


class CheckpointRef(LgModel):
    checkpoint_id: CheckpointId | None = None
    checkpoint_ns: Annotated[str, Field(max_length=200, pattern=NO_NUL)] | None = None


class StateAt(LgModel):
    checkpoint: CheckpointRef
    subgraphs: bool | None = None


class HistoryQuery(LgModel):
    limit: Limit = 10
    before: CheckpointId | CheckpointRef | None = None
    metadata: Metadata | None = None
    checkpoint: CheckpointRef | None = None
    select: Fields | None = None


class RunCreate(LgModel):
    assistant_id: Name
    input: dict[str, Any] | None = Field(default=None, description='{"messages": [{"role": "user", "content": "..."}]}')
    command: dict[str, Any] | None = Field(default=None, description='{"resume": <the answer to the question>}')
    metadata: Metadata | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    stream_mode: StreamModes | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    webhook: Annotated[str, Field(max_length=2000)] | None = None
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: Annotated[str, Field(max_length=64)] | None = None
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    on_completion: Literal["delete", "keep"] | None = None
    after_seconds: float | None = None


class AssistantSearch(LgModel):
    metadata: Metadata | None = None
    graph_id: Name | None = None
    name: Name | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 10
    offset: Offset = 0
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: Fields | None = None


class AssistantCount(LgModel):
    metadata: Metadata | None = None
    graph_id: Name | None = None
    name: Name | None = None
