"""The graph: guard -> navigator -> (clarify) -> strategy -> communicator.

Run it with `durability="sync"` so every step is on disk before the next one
starts. Build inputs with `user_input` / `resume_input`: they mask SSNs and
card numbers before LangGraph writes the input to the checkpointer.
"""

from __future__ import annotations

import uuid
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from agents.case.track import TRACK, asks_to_track, make_track_node
from agents.communicator import make_communicator_node
from agents.guard import make_guard_node, mask_sensitive
from agents.kb import InMemoryRetriever
from agents.navigator import latest_question, make_clarify_node, make_navigator_node
from agents.offline import OfflineChatModel
from agents.ports import CaseTracker, PersonalContext, Retriever, RiskRecorder
from agents.state import CLARIFY, COMMUNICATOR, GUARD, NAVIGATOR, STRATEGY, NavigatorState
from agents.strategy import make_strategy_node


# The routers are `async def` although they only read the state: LangGraph runs a plain function
# given to add_conditional_edges in a thread pool on every call (a thread hand-off per branch), and
# an async one inline on the event loop.
async def _after_guard(state: NavigatorState) -> str:
    return _guard_passed(state)


def _guard_passed(state: NavigatorState) -> str:
    return NAVIGATOR if (state.get("guard") or {}).get("status") == "ok" else END


async def _after_guard_or_track(state: NavigatorState) -> str:
    """With a case tracker: "track this for me" opens a case instead of a new answer."""
    after = _guard_passed(state)
    return TRACK if after == NAVIGATOR and asks_to_track(latest_question(state.get("messages", []))) else after


async def _after_navigator(state: NavigatorState) -> str:
    return CLARIFY if (state.get("navigator") or {}).get("missing") else STRATEGY


async def _after_clarify(state: NavigatorState) -> str:
    # The answer to the question can itself be a call for help: then the safety reply was the answer.
    return END if (state.get("guard") or {}).get("status") == "urgent" else STRATEGY


def build_graph(
    checkpointer: BaseCheckpointSaver | None = None,
    model: BaseChatModel | None = None,
    retriever: Retriever | None = None,
    risk_recorder: RiskRecorder | None = None,
    personal: PersonalContext | None = None,
    cases: CaseTracker | None = None,
) -> CompiledStateGraph:
    """The compiled graph; defaults: offline model, in-memory knowledge search, no risk log, no
    personal context (the person's profile and documents), no case tracking.

    A remote model also judges every message for urgent risk, added to the guard's rules; the
    offline model is not asked, since its judgement would be those same rules.
    """
    model = model if model is not None else OfflineChatModel()
    retriever = retriever if retriever is not None else InMemoryRetriever()
    judge = None if isinstance(model, OfflineChatModel) else model
    graph = StateGraph(NavigatorState)
    graph.add_node(GUARD, make_guard_node(risk_recorder, judge))
    graph.add_node(NAVIGATOR, make_navigator_node(model, retriever, personal))
    graph.add_node(CLARIFY, make_clarify_node(model, risk_recorder, judge))
    graph.add_node(STRATEGY, make_strategy_node(model))
    graph.add_node(COMMUNICATOR, make_communicator_node(model))
    graph.add_edge(START, GUARD)
    if cases is not None:
        graph.add_node(TRACK, make_track_node(model, cases))
        graph.add_conditional_edges(GUARD, _after_guard_or_track, [NAVIGATOR, TRACK, END])
        graph.add_edge(TRACK, END)
    else:
        graph.add_conditional_edges(GUARD, _after_guard, [NAVIGATOR, END])
    graph.add_conditional_edges(NAVIGATOR, _after_navigator, [CLARIFY, STRATEGY])
    graph.add_conditional_edges(CLARIFY, _after_clarify, [STRATEGY, END])
    graph.add_edge(STRATEGY, COMMUNICATOR)
    graph.add_edge(COMMUNICATOR, END)
    return graph.compile(checkpointer=checkpointer)


def user_input(text: str, message_id: str | None = None,
               known_facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Graph input for one user message: masked, with an id (the delta channel needs ids).

    `known_facts`: facts known from outside the conversation (a profile, documents; keys of
    agents.facts.FACT_KEYS); they are used and never asked for, and what the person says wins.
    """
    graph_input: dict[str, Any] = {
        "messages": [HumanMessage(content=mask_sensitive(text), id=message_id or str(uuid.uuid4()))]}
    if known_facts is not None:
        graph_input["known_facts"] = dict(known_facts)
    return graph_input


def resume_input(answer: str) -> Command:
    """Resume a graph waiting on the person's answer (masked before LangGraph stores it)."""
    return Command(resume=mask_sensitive(answer))
