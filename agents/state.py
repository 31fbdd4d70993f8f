"""The graph's state: what each step reads and the conclusions it leaves behind.

`messages` is a DeltaChannel so a long thread stores one delta per step, not
the whole history; every message carries an id (the delta reducer does not
assign them). Each agent keeps its conclusions under its own key, which is
what the projection copies to `agent_states`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict, get_args

from langchain_core.messages import AnyMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.graph.message import _messages_delta_reducer

from agents.facts import add_facts

Intent = Literal[
    "coverage_check",
    "prior_authorization",
    "claim_denial_appeal",
    "find_provider",
    "cost_estimate",
    "enrollment",
    "billing_dispute",
    "prescription_drugs",
    "continuation_coverage",
    "other",
]
INTENTS: tuple[str, ...] = get_args(Intent)

# Node names; `current_step` names the node that last completed.
GUARD = "guard"
NAVIGATOR = "navigator"
CLARIFY = "clarify"
STRATEGY = "strategy"
COMMUNICATOR = "communicator"
AGENT_KEYS: tuple[str, ...] = (GUARD, NAVIGATOR, STRATEGY, COMMUNICATOR)

WORKFLOW_TYPE = "insurance_navigation"


class NavigatorState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], DeltaChannel(_messages_delta_reducer)]
    intent: str | None
    # What the person said in this conversation (agents.facts.FACT_KEYS); each update is merged in.
    facts: Annotated[dict[str, Any], add_facts]
    # Facts known from outside the conversation (a profile, documents), set by the caller with the input;
    # the conversation's facts win over them.
    known_facts: dict[str, Any]
    current_step: str
    # Per-agent conclusions (plain JSON-able dicts).
    guard: dict[str, Any]
    navigator: dict[str, Any]
    strategy: dict[str, Any]
    communicator: dict[str, Any]
    summary: str
