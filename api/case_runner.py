"""Driving case threads on the run queue, beside conversations.

`ThreadRouter` is the `RunOne` the executors call: it hands a claimed run to the runner of the
graph that drives its thread (`conversations.graph_id`: 'navigator' or 'case'), so cases use the
same queue, leases, fences and recovery as conversations. `CaseRunner` runs one pass of the case
graph for one signal (the case was opened, an event, a timer that fired), with
`durability="sync"`; the checkpointer is an `AsyncpgSaver` with the case projection, whose
timers and notifications a trigger writes in each step's transaction (migration `cases`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

import asyncpg

from agents.case.graph import build_case_graph, case_input
from agents.case.projection import project_case_step
from agents.case.state import GRAPH_ID
from api.graph_runner import drive_graph
from api.next_tasks import NextTasks
from api.personal_context import personal_context
from db.checkpoint import AsyncpgSaver
from db.runs.executor import RunOne
from db.runs.fence import RunFence
from db.runs.lease import RunLease
from db.runs.model import Run
from db.settings import Settings

log = logging.getLogger(__name__)

NAVIGATOR_GRAPH = "navigator"


def case_signal(run: Run) -> dict[str, Any]:
    """What a run brings to its case: the signal its input carries (events, timers), or a note
    for a message someone sent to the case's thread."""
    signal = run.input.get("signal")
    if isinstance(signal, Mapping):
        return dict(signal)
    text = run.input.get("message") or run.input.get("resume") or ""
    return {"type": "note", "text": str(text)[:2000], "at": run.created_at.isoformat()}


def case_outcome(values: Mapping[str, Any]) -> dict[str, Any]:
    """The run's stored output: where the case stands after the pass."""
    return {"stage": values.get("stage"), "next_action": values.get("next_action"),
            "deadlines": values.get("deadlines") or []}


class CaseRunner:
    """Runs one claimed run of a case thread: one pass of the case graph for its signal."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.next_tasks = NextTasks(graph)

    async def __call__(self, lease: RunLease) -> None:
        # A run that committed a step continues from its checkpoint; one that did not replays its signal.
        graph_input = case_input(case_signal(lease.run)) if lease.steps == 0 else None
        # as conversations: drained, retried, failed
        values = await drive_graph(self.graph, lease, graph_input, self.next_tasks)
        if values is None:
            return
        output = case_outcome(values)
        await lease.finish("success", output=output, events=[("case", output), ("done", {})])


class ThreadRouter:
    """The executors' `RunOne`: each run goes to the runner of its thread's graph (which the claim
    read with the run)."""

    def __init__(self, pool: asyncpg.Pool, runners: Mapping[str, RunOne]) -> None:
        self.pool = pool
        self.runners = dict(runners)

    async def __call__(self, lease: RunLease) -> None:
        # The claim found no thread only when it was deleted with the run: nothing left to run.
        if lease.thread_graph is None:
            log.info("run %s: its thread was deleted after the claim (the run went with it)", lease.run.id)
            return
        await (self.runners.get(lease.thread_graph) or self.runners[NAVIGATOR_GRAPH])(lease)


async def case_graph(pool: asyncpg.Pool, settings: Settings, fence: RunFence | None) -> Any:
    """The case graph on PostgreSQL: checkpointed with the case projection (email among the
    channels when this server sends email), the configured model, the person's documents."""
    from api.orchestrator import model_from_settings  # imported late: it loads the knowledge base module

    channels = ["email"] if settings.email_enabled else []
    saver = AsyncpgSaver(pool, projection=functools.partial(project_case_step, channels=channels), fence=fence)
    # No retries inside the model client: the executor retries, and logs each one in the run.
    return build_case_graph(saver, model=model_from_settings(settings, max_retries=0),
                            personal=personal_context(pool, settings))


async def route_threads(pool: asyncpg.Pool, settings: Settings, fence: RunFence, navigator: RunOne) -> ThreadRouter:
    """The router the executors run: conversations to `navigator`, case threads to a `CaseRunner`."""
    return ThreadRouter(pool, {NAVIGATOR_GRAPH: navigator, GRAPH_ID: CaseRunner(await case_graph(pool, settings,
                                                                                                 fence))})
