"""The case graph: one pass per signal (opened, an event the person told, a timer that fired).

    case_manager -> strategy (when a letter is due) -> scheduler -> END

It runs on the durable run queue like the conversation graph (`durability="sync"`), on its own
thread: the case's id. Between passes the case waits on its timers and on the person's events,
whichever comes first, for as long as the case lasts; nothing is held in memory meanwhile.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.case.drafting import make_strategy_node, needs_letter
from agents.case.manager import make_case_manager_node
from agents.case.scheduler import make_scheduler_node
from agents.case.state import CASE_MANAGER, SCHEDULER, STRATEGY, CaseState
from agents.offline import OfflineChatModel
from agents.ports import PersonalContext


# Async although it only reads the state: LangGraph runs a plain router in a thread pool on every call.
async def _after_manager(state: CaseState) -> str:
    return STRATEGY if needs_letter(dict(state)) else SCHEDULER


def build_case_graph(checkpointer: BaseCheckpointSaver | None = None, model: BaseChatModel | None = None,
                     personal: PersonalContext | None = None) -> CompiledStateGraph:
    """The compiled case graph; defaults: the offline model, no personal context."""
    model = model if model is not None else OfflineChatModel()
    graph = StateGraph(CaseState)
    graph.add_node(CASE_MANAGER, make_case_manager_node(personal))
    graph.add_node(STRATEGY, make_strategy_node(model, personal))
    graph.add_node(SCHEDULER, make_scheduler_node())
    graph.add_edge(START, CASE_MANAGER)
    graph.add_conditional_edges(CASE_MANAGER, _after_manager, [STRATEGY, SCHEDULER])
    graph.add_edge(STRATEGY, SCHEDULER)
    graph.add_edge(SCHEDULER, END)
    return graph.compile(checkpointer=checkpointer)


def case_input(signal: dict[str, Any]) -> dict[str, Any]:
    """Graph input for one signal (it must carry its `type` and the time `at` it happened)."""
    return {"signal": dict(signal)}
