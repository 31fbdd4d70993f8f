"""What a run ended with, read from the graph's state: an answer, a question, or neither yet."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from agents.state import GUARD, STRATEGY


async def read_outcome(graph: CompiledStateGraph, config: RunnableConfig) -> dict[str, Any]:
    """`{"status", "intent", "answer", "question", "steps", "current_step", "next"}`.

    status: `answered`, `needs_input` (an interrupt waits for the person),
    `urgent` (safety reply), `rejected` (bad input), `incomplete` (steps
    remain, e.g. after a crash: continue it), or `empty` (no such thread).
    """
    snapshot = await graph.aget_state(config)
    values: dict[str, Any] = dict(snapshot.values or {})
    interrupts = [i for task in snapshot.tasks for i in task.interrupts]
    question = None
    guard_status = (values.get(GUARD) or {}).get("status")
    if interrupts:
        status = "needs_input"
        value = interrupts[0].value
        question = value.get("question") if isinstance(value, dict) else str(value)
    elif snapshot.next:
        status = "incomplete"
    elif not values:
        status = "empty"
    elif guard_status in ("urgent", "rejected"):
        status = str(guard_status)
    else:
        status = "answered"
    answer = None
    if status in ("answered", "urgent", "rejected"):
        last = next((m for m in reversed(values.get("messages", [])) if isinstance(m, AIMessage)), None)
        answer = str(last.content) if last is not None else None
    steps = list((values.get(STRATEGY) or {}).get("steps", [])) if status == "answered" else []
    return {
        "thread_id": (config.get("configurable") or {}).get("thread_id"),
        "status": status,
        "intent": values.get("intent"),
        "answer": answer,
        "question": question,
        "steps": steps,
        "current_step": values.get("current_step"),
        "next": list(snapshot.next),
    }
