"""Request bodies of the /lg routes, named and typed as the LangGraph SDKs send them. Fields
this server reads are checked here; fields it does not need (tracing, durability: runs are
always durable) are accepted and ignored, so a newer SDK's extra fields do not break it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from api.schemas import NO_NUL, Metadata

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
StreamModeName = Annotated[str, Field(min_length=1, max_length=40, pattern=NO_NUL)]
StreamModes = StreamModeName | Annotated[list[StreamModeName], Field(max_length=20)]
Limit = Annotated[int, Field(ge=1, le=100)]
Offset = Annotated[int, Field(ge=0, le=100_000)]
Fields = Annotated[list[Annotated[str, Field(max_length=100, pattern=NO_NUL)]], Field(max_length=50)]
TtlMinutes = Annotated[int, Field(ge=1, le=525_600, description="minutes from now until the thread expires")]
CheckpointId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z-]+$")]


Empty = Literal["array", "object"] | None

SUPERSTEPS = "supersteps are not supported: a thread's state comes from its runs"
BY_VALUES = "searching threads by values is not supported; search by metadata or status"
EXTRACT = "extract is not supported; read values with select or get_state"
INTERRUPT_AT = "interrupt_before/interrupt_after are not supported: the graph asks the person itself when it needs one"
FROM_CHECKPOINT = "starting a run from an earlier checkpoint is not supported; copy the thread or start a new one"
WEBHOOK = "webhooks are not supported; stream the run or join it"
AFTER_SECONDS = "delayed runs (after_seconds) are not supported"


def refuse(reason: str, empty: Empty = None) -> AfterValidator:
    """A protocol field this server does not offer: only null (or an empty array/object, which
    SDKs send for "none") passes; anything else is refused with `reason` (422)."""
    def check(value: Any) -> Any:
        if value is None or (empty is not None and isinstance(value, list | dict) and not value):
            return value
        raise ValueError(reason)
    return AfterValidator(check)


def refused_schema(reason: str, empty: Empty = None) -> WithJsonSchema:
    """The same, said in the schema, so a client (or a fuzzer) can know it before sending."""
    allowed: list[dict[str, Any]] = [{"type": "null"}]
    if empty == "array":
        allowed.insert(0, {"type": "array", "maxItems": 0})
    elif empty == "object":
        allowed.insert(0, {"type": "object", "maxProperties": 0})
    return WithJsonSchema({"anyOf": allowed, "description": reason})


Supersteps = Annotated[Any, refuse(SUPERSTEPS, "array"), refused_schema(SUPERSTEPS, "array")]
SearchValues = Annotated[Any, refuse(BY_VALUES, "object"), refused_schema(BY_VALUES, "object")]
Extract = Annotated[Any, refuse(EXTRACT, "object"), refused_schema(EXTRACT, "object")]
InterruptAt = Annotated[Any, refuse(INTERRUPT_AT, "array"), refused_schema(INTERRUPT_AT, "array")]
FromCheckpoint = Annotated[Any, refuse(FROM_CHECKPOINT, "object"), refused_schema(FROM_CHECKPOINT, "object")]
FromCheckpointId = Annotated[Any, refuse(FROM_CHECKPOINT), refused_schema(FROM_CHECKPOINT)]
Webhook = Annotated[Any, refuse(WEBHOOK), refused_schema(WEBHOOK)]
AfterSeconds = Annotated[Any, refuse(AFTER_SECONDS), refused_schema(AFTER_SECONDS)]


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
    supersteps: Supersteps = None
    graph_id: Name | None = None


class ThreadPatch(LgModel):
    metadata: Metadata | None = None
    ttl: TtlMinutes | Ttl | None = None


class ThreadSearch(LgModel):
    metadata: Metadata | None = None
    values: SearchValues = None
    ids: Annotated[list[uuid.UUID], Field(max_length=100)] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: Limit = 10
    offset: Offset = 0
    sort_by: Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: Fields | None = None
    extract: Extract = None


class ThreadCount(LgModel):
    metadata: Metadata | None = None
    values: SearchValues = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None


class CheckpointRef(LgModel):
    checkpoint_id: CheckpointId | None = None
    checkpoint_ns: Literal[""] | None = Field(default=None, description="the graph has no subgraphs: always empty")


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
    interrupt_before: InterruptAt = None
    interrupt_after: InterruptAt = None
    webhook: Webhook = None
    checkpoint: FromCheckpoint = None
    checkpoint_id: FromCheckpointId = None
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    on_completion: Literal["delete", "keep"] | None = None
    after_seconds: AfterSeconds = None


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
