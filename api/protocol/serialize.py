"""Graph values as the LangGraph server sends them: LangChain messages as their dicts
(`{"type": "human", "content": ..., "id": ...}`), interrupts as `{"value", "id"}`."""

from __future__ import annotations

import dataclasses
import enum
import math
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.types import Interrupt
from pydantic import BaseModel


def to_jsonable(value: Any) -> Any:
    """A JSON-able copy of a graph value (what a LangGraph client expects to read)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, BaseMessage):
        return to_jsonable(value.model_dump())
    if isinstance(value, Interrupt):
        return {"value": to_jsonable(value.value), "id": value.id}
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    return str(value)


def interrupts_json(interrupts: Any) -> list[dict[str, Any]]:
    return [to_jsonable(item) if isinstance(item, Interrupt) else {"value": to_jsonable(item), "id": ""}
            for item in interrupts or ()]
