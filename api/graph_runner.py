"""Graph driving for the run executor: one claimed run through the agents graph.

`GraphRunner` is the `RunOne` callable that `db.runs.executor.RunExecutor`
hands each claimed run to. It drives the graph with `durability="sync"`; the
checkpointer's `RunFence` fences every checkpoint by the run's attempt and
logs `node_finished` in the checkpoint's own statement, so a worker that
froze and lost its lease cannot commit anything. A model failure that may pass
(429, 5xx, timeout) is handed to the executor as `RetryLater`, which pauses
the run (honouring Retry-After) and runs it again from its last checkpoint;
any other failure ends the run `error`. A run found with an expired
lease continues from its last checkpoint with `None` as input (never by
guessing from `get_state().next`); a run that committed no step yet replays
its input. Cancel and SIGTERM stop the graph at a step boundary through
LangGraph's `RunControl` drain; the executor then ends or releases the run.

`drive_graph` is that pass for any graph: `GraphRunner` (conversations) and `CaseRunner`
(api/case_runner.py) differ only in the input they give it and how they end the run.
`start_workers` composes the two: fence, graph, runner and executor (and routes the runs of
case threads to the case graph: api/case_runner.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
from langgraph.errors import GraphDrained
from langgraph.runtime import RunControl

from agents.graph import resume_input, user_input
from agents.models import ModelUnavailable
from agents.outcome import RunOutcome, outcome_from_state
from agents.usage import UsageMeter, listening, observe_process
from api.instrumentation import StepTimer, observe_model_call
from api.next_tasks import NextTasks
from api.orchestrator import build_orchestrator, model_from_settings
from api.start_gate import StartGate
from db.batch import BatchStats
from db.runs.executor import NOT_RUN_FAILURES, RetryLater, RunExecutor
from db.runs.fence import RunFence
from db.runs.lease import HaltReason, RunLease
from db.runs.model import Event, Run
from db.runs.service import said_text
from db.settings import Settings

log = logging.getLogger(__name__)

# Builds the compiled graph whose checkpointer carries the given fence.
GraphFactory = Callable[[RunFence], Awaitable[Any]]
MAX_ERROR_CHARS = 500


def run_config(run: Run) -> dict[str, Any]:
    """The graph config of a run: its conversation is the thread; run id and attempt fence writes."""
    return {"configurable": {"thread_id": str(run.conversation_id), "user_id": str(run.user_id),
                             "run_id": str(run.id), "attempt": run.attempt}}


def graph_input(run: Run, steps: int) -> Any:
    """A run that committed a step continues from its checkpoint (None); one that did not replays its input."""
    if steps > 0:
        return None
    if run.kind == "resume":
        return resume_input(said_text(run.input))
    return user_input(run.input["message"], message_id=str(uuid.uuid5(run.id, "input")))


def final_events(outcome: RunOutcome) -> list[Event]:
    """The events that end a run with this outcome (names and payloads the web client reads)."""
    if outcome.status == "needs_input":
        return [("interrupt", outcome.interrupt or {})]
    return [("message", {"content": outcome.reply or "", "agent_name": outcome.agent_name}), ("done", {})]


def conversation_messages(run: Run, outcome: RunOutcome,
                          usage: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """What the run adds to its conversation when it ends: the reply or the question, recording
    what its model calls cost (`usage`, see agents.usage). (The person's words were stored with
    the run when it was created: db.runs.service.)"""
    cost = {"usage": dict(usage)} if usage else {}
    if outcome.status == "needs_input":
        return [{"role": "assistant", "content": outcome.question or "", "agent_name": "navigator",
                 "metadata": {"run_id": str(run.id), "interrupt": True, **cost}}]
    return [{"role": "assistant", "content": outcome.reply or "", "agent_name": outcome.agent_name,
             "metadata": {"run_id": str(run.id), **cost}}]


def describe_failure(exc: BaseException) -> str:
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first_line}".rstrip(": ")[:MAX_ERROR_CHARS]


async def fail(lease: RunLease, exc: BaseException) -> None:
    """A deterministic failure (a bug, a model's 4xx): the run ends `error`, saying why."""
    reason = describe_failure(exc)
    await lease.finish("error", error=reason, events=[("error", {"error": reason})])


async def drive_graph(graph: Any, lease: RunLease, graph_input: Any,
                      next_tasks: NextTasks | None = None) -> Mapping[str, Any] | None:
    """One pass of `graph` for a claimed run (conversations and cases alike), with `durability="sync"`:
    a `node_started` event for each task as it starts, the graph's final values returned. None when
    there is nothing left to do: the run was stopped at a step boundary (cancel, SIGTERM: the executor
    ends or releases it) or ended `error`. A model's transient failure is `RetryLater` for the executor.
    With `next_tasks` a step's checkpoint statement logs the next tasks' `node_started` (db/runs/fence.py)
    and only the tasks it could not tell in advance get a statement of their own."""
    run = lease.run
    control = RunControl()

    def halt(reason: HaltReason) -> None:
        # A SIGTERM drain after a step whose statement logged the next tasks' node_started lets
        # them run (the boundary moved past their start; see the task start below), so the next
        # attempt does not start them a second time. A cancel or a lost lease stops at once.
        if reason != "shutdown" or not lease.announced:
            control.request_drain()

    lease.next_tasks = next_tasks
    lease.on_halt(halt)
    config = run_config(run)
    # The fence learns which nodes already finished from the checkpoint the graph loads.
    values: Mapping[str, Any] | None = None
    steps = StepTimer()  # each task's start to its result: navigator_step_duration_seconds{node}
    try:
        async for mode, chunk in graph.astream(graph_input, config, stream_mode=["tasks", "values"],
                                               durability="sync", control=control):
            if mode == "values":
                values = chunk
            elif "triggers" in chunk:  # a task starting (results carry no triggers)
                steps.start(chunk)
                if chunk["id"] in lease.announced:  # logged by the step before it
                    lease.announced.discard(chunk["id"])
                else:
                    lease.announced.clear()
                    await lease.append_events([("node_started", {"node": chunk["name"], "task_id": chunk["id"]})])
                if lease.halt is not None:
                    control.request_drain()
            else:
                steps.finish(chunk)
    except GraphDrained:
        return None
    except NOT_RUN_FAILURES:
        raise
    except ModelUnavailable as exc:
        if exc.retryable:
            raise RetryLater(str(exc), exc.retry_after) from exc
        await fail(lease, exc)
        return None
    except Exception as exc:
        log.exception("run %s attempt %d failed", run.id, run.attempt)
        await fail(lease, exc)
        return None
    if values is None:
        values = (await graph.aget_state(config)).values
    return values


class GraphRunner:
    """Runs one claimed run through the compiled graph and ends it with its outcome."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.next_tasks = NextTasks(graph)
        self.gate = StartGate()

    async def __call__(self, lease: RunLease) -> None:
        run = lease.run
        meter = UsageMeter()  # what this run's model calls cost, recorded on its answer
        async with self.gate.turn():
            with listening(meter):
                values = await drive_graph(self.graph, lease, graph_input(run, lease.steps), self.next_tasks)
        if values is None:
            return
        outcome = outcome_from_state(values, values.get("__interrupt__") or ())
        stored = await lease.finish(outcome.run_status, output=outcome.as_output(), events=final_events(outcome),
                                    messages=conversation_messages(run, outcome, meter.summary()))
        log.info("run %s attempt %d: %s", run.id, run.attempt, stored)


async def default_graph(pool: asyncpg.Pool, settings: Settings, fence: RunFence) -> Any:
    # No retries inside the model client: the executor retries, and logs each one in the run.
    return await build_orchestrator(pool, settings, fence=fence, model=model_from_settings(settings, max_retries=0))


async def start_workers(pool: asyncpg.Pool, settings: Settings, *, dsn: str | None = None,
                        concurrency: int | None = None, worker_id: str | None = None,
                        graph_factory: GraphFactory | None = None, poll_seconds: float | None = None,
                        stats: BatchStats | None = None) -> RunExecutor:
    """Build the fence, the graph on it and the runner, and start an executor that drives them.
    (`dsn` is accepted for earlier callers and unused: the executor listens on a pooled connection.)"""
    observe_process(observe_model_call)
    fence = RunFence(settings.run_lease_seconds)
    graph = await (graph_factory(fence) if graph_factory is not None else default_graph(pool, settings, fence))
    from api.case_runner import route_threads  # imported late: it imports this module

    # Conversations run on `graph`, case threads on the case graph (same queue, fence and executors).
    runner = await route_threads(pool, settings, fence, GraphRunner(graph))
    extra: dict[str, Any] = {"poll_seconds": poll_seconds} if poll_seconds is not None else {}
    executor = RunExecutor(pool, settings, runner, fence, concurrency=concurrency,
                           worker_id=worker_id, stats=stats, **extra)
    await executor.start()
    return executor
