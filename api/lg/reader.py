"""Thread states read from the checkpointer through the graph (values, next, tasks with their
results and interrupts), and the states a run passed through, found by the run id that every
checkpoint's metadata carries."""

from __future__ import annotations

from typing import Any

import asyncpg
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot

from agents.case.graph import build_case_graph
from agents.case.state import GRAPH_ID as CASE_GRAPH
from agents.graph import build_graph
from db.checkpoint import AsyncpgSaver
from db.protocol import RunCheckpoint, run_checkpoints
from db.runs.model import Run

NAVIGATOR_GRAPH = "navigator"


def thread_config(thread_id: object, checkpoint_id: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": str(thread_id), "checkpoint_ns": ""}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def reader_graph(pool: asyncpg.Pool) -> CompiledStateGraph:
    """The navigator graph on a plain saver: it reads states and never runs (its model is never called)."""
    return build_graph(checkpointer=AsyncpgSaver(pool))


def readers(pool: asyncpg.Pool) -> dict[str, CompiledStateGraph]:
    """A reader per graph id: conversations' threads are read with the navigator graph, cases' with the case graph."""
    return {NAVIGATOR_GRAPH: reader_graph(pool), CASE_GRAPH: build_case_graph(AsyncpgSaver(pool))}


class RunStates:
    """The states one run passed through, loaded once each (a stream asks for them repeatedly)."""

    def __init__(self, pool: asyncpg.Pool, graph: CompiledStateGraph, run: Run) -> None:
        self.pool = pool
        self.graph = graph
        self.run = run
        self._checkpoints: list[RunCheckpoint] = []
        self._snapshots: dict[str, StateSnapshot] = {}
        self._complete: dict[str, StateSnapshot] = {}

    async def snapshot(self, checkpoint_id: str | None, *, stepped_past: bool = False) -> StateSnapshot:
        """The state at a checkpoint (None: the thread's latest). Its values never change, but the
        results of its tasks grow until the next checkpoint exists: `stepped_past` says it does,
        and only such a snapshot is reused for task results."""
        if checkpoint_id is None:
            return await self.graph.aget_state(thread_config(self.run.conversation_id))
        cache = self._complete if stepped_past else self._snapshots
        cached = cache.get(checkpoint_id) or (self._complete.get(checkpoint_id) if not stepped_past else None)
        if cached is None:
            cached = await self.graph.aget_state(thread_config(self.run.conversation_id, checkpoint_id))
            cache[checkpoint_id] = cached
        return cached

    async def checkpoints(self, refresh: bool = False) -> list[RunCheckpoint]:
        if refresh or not self._checkpoints:
            self._checkpoints = await run_checkpoints(self.pool, self.run.conversation_id, self.run.id)
        return self._checkpoints

    async def at_step(self, step: int) -> RunCheckpoint | None:
        """The run's checkpoint after `step` (a step event commits with its checkpoint, so a
        missing one only means the list is older than the event)."""
        for refresh in (False, True):
            found = [c for c in await self.checkpoints(refresh) if c.step == step and c.source == "loop"]
            if found:
                return found[-1]
        return None

    async def values_at(self, step: int) -> dict[str, Any]:
        checkpoint = await self.at_step(step)
        snapshot = await self.snapshot(checkpoint.checkpoint_id if checkpoint else None)
        return dict(snapshot.values or {})

    async def update_of(self, node: str, step: int) -> dict[str, Any]:
        """What `node` wrote in `step`: the result of its task, kept with the checkpoint it ran from."""
        checkpoint = await self.at_step(step)
        if checkpoint is None or checkpoint.parent_checkpoint_id is None:
            return {}
        parent = await self.snapshot(checkpoint.parent_checkpoint_id, stepped_past=True)
        for task in parent.tasks:
            if task.name == node and task.result is not None:
                return dict(task.result)
        return {}

    async def initial(self) -> StateSnapshot:
        """The state the run started from: after its input was applied (a message), or the state
        that waited for the answer (a resume). Before its first step commits: the thread's latest."""
        checkpoints = [c for c in await self.checkpoints(refresh=True) if c.source == "loop"]
        if not checkpoints:
            return await self.snapshot(None)
        first = min(checkpoints, key=lambda c: (c.step if c.step is not None else 0, c.checkpoint_id))
        if self.run.kind == "resume":
            return await self.snapshot(first.parent_checkpoint_id)
        return await self.snapshot(first.checkpoint_id)

    async def final(self) -> StateSnapshot:
        """The state the run ended in (its last checkpoint; the thread's latest if it wrote none)."""
        checkpoints = await self.checkpoints(refresh=True)
        return await self.snapshot(checkpoints[-1].checkpoint_id if checkpoints else None)
