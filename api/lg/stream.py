"""A run's Agent Protocol stream, rebuilt from durable rows only: the run's events (`run_events`)
say what happened and in which order; the checkpoints hold the values and each node's update.
Whatever a client was shown can therefore be shown again, by any server process, after any
restart: a reconnect with Last-Event-ID "E-k" resumes exactly after that event.

Mapping of durable events (everything else shows nothing):
- created: `metadata` (always the first event);
- the run's first node_started: `values` of the state it starts from;
- node_finished(node, step): `messages` for each message the node wrote (messages-tuple),
  `updates` {node: its writes}, and for the first node of the step `values` after it;
- interrupt: `updates` {"__interrupt__": [...]}, `values` with "__interrupt__", then `end`;
- done, cancelled: `end`; error: `error` {"error", "message"}, then `end`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
from langgraph.graph.state import CompiledStateGraph

from api.lg.reader import RunStates
from api.protocol.events import Position, error_payload, event_id
from api.protocol.serialize import to_jsonable
from api.protocol.shapes import state_interrupts
from db.runs.model import Run, RunEvent

Part = tuple[str, Any]


class RunStream:
    def __init__(self, pool: asyncpg.Pool, graph: CompiledStateGraph, run: Run, modes: Sequence[str]) -> None:
        self.run = run
        self.modes = frozenset(modes)
        self.states = RunStates(pool, graph, run)
        self._started = False
        self._last_step: int | None = None

    async def sse(self, events: AsyncIterator[RunEvent], after: Position | None) -> AsyncIterator[dict[str, str]]:
        """Server-Sent Events (id, event, data) for the durable events, skipping up to `after`.
        Events before the resume point only advance the state machine; nothing is loaded for them."""
        async for event in events:
            wanted = after is None or event.id >= after.event_id
            parts = await self.parts(event, load=wanted)
            for index, (name, data) in enumerate(parts):
                if after is not None and Position(event.id, index) <= after:
                    continue
                yield {"id": event_id(event.id, index), "event": name, "data": json.dumps(data)}

    async def parts(self, event: RunEvent, *, load: bool = True) -> list[Part]:
        kind, data = event.event, event.data
        if kind == "created":
            return [("metadata", {"run_id": str(self.run.id), "thread_id": str(self.run.conversation_id),
                                  "attempt": 1})]
        if kind == "node_started":
            first, self._started = not self._started, True
            if first and load and "values" in self.modes:
                return [("values", to_jsonable((await self.states.initial()).values or {}))]
            return []
        if kind == "node_finished":
            return await self._step(str(data.get("node")), data.get("step"), load)
        if kind == "interrupt":
            return await self._interrupt() if load else []
        if kind in ("done", "cancelled"):
            return [("end", None)]
        if kind == "error":
            return [("error", error_payload(data.get("error"))), ("end", None)]
        return []

    async def _step(self, node: str, step: Any, load: bool) -> list[Part]:
        first_of_step, self._last_step = step != self._last_step, step
        if not load or not isinstance(step, int):
            return []
        parts: list[Part] = []
        if self.modes & {"updates", "messages-tuple"}:
            update = await self.states.update_of(node, step)
            if "messages-tuple" in self.modes:
                metadata = {"run_id": str(self.run.id), "thread_id": str(self.run.conversation_id),
                            "langgraph_node": node, "langgraph_step": step, "langgraph_checkpoint_ns": ""}
                parts += [("messages", [to_jsonable(message), metadata]) for message in update.get("messages") or []]
            if "updates" in self.modes:
                parts.append(("updates", {node: to_jsonable(update)}))
        if first_of_step and "values" in self.modes:
            parts.append(("values", to_jsonable(await self.states.values_at(step))))
        return parts

    async def _interrupt(self) -> list[Part]:
        final = await self.states.final()
        interrupts = state_interrupts(final)
        parts: list[Part] = []
        if "updates" in self.modes:
            parts.append(("updates", {"__interrupt__": interrupts}))
        if "values" in self.modes:
            parts.append(("values", {**to_jsonable(final.values or {}), "__interrupt__": interrupts}))
        return [*parts, ("end", None)]
