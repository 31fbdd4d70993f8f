"""What a pass of the graph ended with: an answer, a question, or neither yet.

`RunOutcome` is built in one place (`outcome_from_state`) from the graph's
values, and everything that reports a run reads it: `POST /chat`, the run's
final events and stored output (`api.graph_runner`), and `navigator ask`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from agents.state import COMMUNICATOR, GUARD, STRATEGY

# answered: a reply; needs_input: an interrupt waits for the person; urgent: the safety reply;
# rejected: bad input (answered with a reason); incomplete: steps remain (e.g. after a crash);
# empty: no such thread; failed: the run ended in an error (only from a stored run).
OutcomeStatus = Literal["answered", "needs_input", "urgent", "rejected", "incomplete", "empty", "failed"]
# The run status each outcome is stored under.
RunEnding = Literal["success", "interrupted", "error"]
REPLIED: frozenset[OutcomeStatus] = frozenset({"answered", "urgent", "rejected"})


@dataclass(frozen=True)
class RunOutcome:
    status: OutcomeStatus
    reply: str | None = None
    reply_id: str | None = None
    agent_name: str | None = None
    question: str | None = None
    # The interrupt's whole value (JSON-able), of which `question` is the text.
    interrupt: dict[str, Any] | None = None
    intent: str | None = None
    current_step: str | None = None
    steps: list[str] = field(default_factory=list)
    next: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def run_status(self) -> RunEnding:
        if self.status == "needs_input":
            return "interrupted"
        if self.status == "failed":
            return "error"
        return "success"

    def as_output(self) -> dict[str, Any]:
        """The run's stored `output` (what GET /runs/{id} shows)."""
        if self.status == "needs_input":
            return {"question": self.question, "interrupt": self.interrupt}
        return _json_safe({"reply": self.reply or "", "message_id": self.reply_id, "agent_name": self.agent_name,
                           "intent": self.intent, "current_step": self.current_step})

    @classmethod
    def from_output(cls, run_status: str, output: Mapping[str, Any] | None, error: str | None = None) -> RunOutcome:
        """The outcome of a stored run, read back from its status and `output`."""
        output = output or {}
        if run_status == "error":
            return cls(status="failed", error=error)
        if run_status == "interrupted":
            interrupt = output.get("interrupt")
            question = output.get("question")
            if not isinstance(interrupt, dict):
                interrupt = {"question": question} if isinstance(question, str) else None
            return cls(status="needs_input", interrupt=interrupt,
                       question=question if isinstance(question, str) else None)
        if run_status != "success":
            return cls(status="incomplete")
        reply = output.get("reply")
        return cls(status="answered", reply=reply if isinstance(reply, str) else None,
                   reply_id=output.get("message_id"), agent_name=output.get("agent_name"),
                   intent=output.get("intent"), current_step=output.get("current_step"))


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _last_reply(values: Mapping[str, Any]) -> BaseMessage | None:
    for message in reversed(values.get("messages") or []):
        if isinstance(message, AIMessage) or getattr(message, "type", None) == "ai":
            return message  # type: ignore[no-any-return]
    return None


def outcome_from_state(values: Mapping[str, Any], interrupts: Sequence[Any] = (),
                       next_nodes: Sequence[str] = ()) -> RunOutcome:
    """The one place an outcome is made: from the graph's values, the interrupts waiting
    (objects with a `.value`, or the values themselves) and the nodes still to run."""
    guard_status = (values.get(GUARD) or {}).get("status")
    intent = values.get("intent")
    current_step = values.get("current_step")
    if interrupts:
        raw = getattr(interrupts[0], "value", interrupts[0])
        value = _json_safe(raw if isinstance(raw, dict) else {"question": str(raw)})
        return RunOutcome(status="needs_input", question=str(value.get("question", "")), interrupt=value,
                          intent=intent, current_step=current_step, next=list(next_nodes))
    status: OutcomeStatus
    if next_nodes:
        status = "incomplete"
    elif not values:
        status = "empty"
    elif guard_status in ("urgent", "rejected"):
        status = guard_status
    else:
        status = "answered"
    reply = _last_reply(values) if status in REPLIED else None
    text = agent = reply_id = None
    if reply is not None:
        content = reply.content
        text = content if isinstance(content, str) else json.dumps(_json_safe(content))
        agent = getattr(reply, "name", None) or COMMUNICATOR
        reply_id = getattr(reply, "id", None)
    steps = list((values.get(STRATEGY) or {}).get("steps", [])) if status == "answered" else []
    return RunOutcome(status=status, reply=text, reply_id=reply_id, agent_name=agent, intent=intent,
                      current_step=current_step, steps=steps, next=list(next_nodes))


async def read_outcome(graph: CompiledStateGraph, config: RunnableConfig) -> RunOutcome:
    """The outcome of the thread named by `config`, read from its latest checkpoint."""
    snapshot = await graph.aget_state(config)
    interrupts = [i for task in snapshot.tasks for i in task.interrupts]
    return outcome_from_state(dict(snapshot.values or {}), interrupts, snapshot.next)
