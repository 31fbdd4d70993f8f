"""The assistants this server offers: one per graph, read-only, addressed by a stable id or by
their graph id. Threads of the navigator graph are conversations; a second graph (long-running
case threads) adds its `Assistant` here and names which threads are its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_type_hints

from agents.case.state import GRAPH_ID as CASE_GRAPH_ID
from agents.case.state import CaseState
from agents.state import NavigatorState

# Assistant ids are uuid5(namespace, graph_id): the same on every server, restart and replica.
ASSISTANT_NAMESPACE = uuid.UUID("6f1c2a55-3d0e-4b8e-9a41-0c7d2e9b5f10")
# Assistants are part of the code, not rows: created with the release that shipped them.
ASSISTANTS_CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)

MESSAGE_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "messages": {
            "type": "array", "minItems": 1, "maxItems": 1,
            "description": "exactly one user message; the thread keeps the history",
            "items": {"type": "object", "required": ["content"], "properties": {
                "role": {"enum": ["user", "human"]}, "type": {"enum": ["human"]},
                "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": {
                    "type": "object", "properties": {"type": {"const": "text"}, "text": {"type": "string"}}}}]},
            }},
        },
    },
    "required": ["messages"],
}


def _state_schema(state: type) -> dict[str, Any]:
    """The graph state's keys (the TypedDict's own JSON schema cannot be generated on Python 3.11)."""
    properties: dict[str, Any] = {name: {} for name in get_type_hints(state)}
    if "messages" in properties:
        properties["messages"] = {"type": "array", "items": {"type": "object", "description": "a LangChain message"}}
    return {"title": state.__name__, "type": "object", "properties": properties}


@dataclass(frozen=True)
class Assistant:
    graph_id: str
    name: str
    description: str
    input_schema: dict[str, Any]
    state_schema: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def assistant_id(self) -> uuid.UUID:
        return uuid.uuid5(ASSISTANT_NAMESPACE, self.graph_id)

    def as_json(self) -> dict[str, Any]:
        created = ASSISTANTS_CREATED_AT.isoformat()
        return {"assistant_id": str(self.assistant_id), "graph_id": self.graph_id, "name": self.name,
                "description": self.description, "config": {}, "context": {}, "metadata": dict(self.metadata),
                "version": 1, "created_at": created, "updated_at": created}

    def schemas(self) -> dict[str, Any]:
        return {"graph_id": self.graph_id, "input_schema": self.input_schema, "output_schema": self.state_schema,
                "state_schema": self.state_schema, "config_schema": {"type": "object", "properties": {}},
                "context_schema": None}


NAVIGATOR = Assistant(
    graph_id="navigator",
    name="Insurance Navigator",
    description="Answers health-insurance questions (guard, navigator, strategy, communicator); asks the "
                "person for missing facts with an interrupt.",
    input_schema=MESSAGE_INPUT_SCHEMA,
    state_schema=_state_schema(NavigatorState),
    metadata={"created_by": "system"},
)
CASE = Assistant(
    graph_id=CASE_GRAPH_ID,
    name="Insurance case",
    description="Follows one appeal, prior authorization or billing dispute for weeks: drafts the letter, works out "
                "the deadlines with their dates, reminds the person before each and says how to escalate when a "
                "decision is late. Its threads are the person's cases (opened with POST /cases or by asking a "
                "conversation to track it); its runs come from the case's events (POST /cases/{id}/events) and "
                "timers.",
    input_schema={"type": "object", "description": "runs are started by the case's events and timers, not here",
                  "properties": {}},
    state_schema=_state_schema(CaseState),
    metadata={"created_by": "system"},
)
ASSISTANTS: tuple[Assistant, ...] = (NAVIGATOR, CASE)
# What a case's thread says it is, as the Agent Protocol's clients filter threads (by graph or assistant).
CASE_THREAD_METADATA = {"graph_id": CASE.graph_id, "assistant_id": str(CASE.assistant_id)}


def find_assistant(ident: object) -> Assistant | None:
    """By assistant id or by graph id."""
    text = str(ident)
    for assistant in ASSISTANTS:
        if text in (str(assistant.assistant_id), assistant.graph_id):
            return assistant
    return None
