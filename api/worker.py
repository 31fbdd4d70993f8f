"""Run executors: claim runs from PostgreSQL, drive the graph, survive crashes and restarts.

`WorkerPool` runs N executors in one process (the API's lifespan, or
`navigator worker`). Each claims a run (FOR UPDATE SKIP LOCKED), holds its
lease with a heartbeat every third of RUN_LEASE_SECONDS, and drives the graph
with `durability="sync"`. The checkpointer's `step_hook` fences every
checkpoint by the run's attempt and logs `node_finished` in the checkpoint's
own transaction, so a worker that froze and lost its lease cannot commit
anything. A run found with an expired lease continues from its last checkpoint
with `None` as input (never by guessing from `get_state().next`); a run that
committed no step yet replays its input. Cancel and SIGTERM stop the graph at a
step boundary through LangGraph's `RunControl` drain.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.errors import GraphDrained
from langgraph.runtime import RunControl

from agents.graph import resume_input, user_input
from db.checkpointer import StepHook, WritesHook
from db.errors import Unavailable
from db.pool import CONNECTION_ERRORS, connect
from db.run_notify import RUNS_CHANNEL
from db.run_queue import (
    Event,
    append_events,
    check_fence,
    claim_run,
    fence_step,
    finish_run,
    heartbeat,
    release_run,
)
from db.runs import LeaseLost, Run
from db.settings import Settings

log = logging.getLogger(__name__)

GraphFactory = Callable[[StepHook, WritesHook], Awaitable[Any]]

# What a lost database looks like from here (pool or dedicated connection).
DATABASE_GONE: tuple[type[BaseException], ...] = CONNECTION_ERRORS + (Unavailable,)
# Not a failure of the run: the executor handles these (drop the run, or wait for the database).
NOT_RUN_FAILURES: tuple[type[BaseException], ...] = (LeaseLost, *DATABASE_GONE)
BACKOFF_START_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 5.0
IDLE_POLL_SECONDS = 1.0
LISTEN_PING_SECONDS = 5.0
HALT_CANCEL = "cancel"
HALT_SHUTDOWN = "shutdown"
HALT_LEASE_LOST = "lease_lost"


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Backoff:
    """Exponential delays for reconnecting: 0.1 s doubling up to 5 s."""

    def __init__(self) -> None:
        self.delay = BACKOFF_START_SECONDS

    def next(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, BACKOFF_MAX_SECONDS)
        return delay

    def reset(self) -> None:
        self.delay = BACKOFF_START_SECONDS


@dataclass
class ActiveRun:
    """What one executor knows about the run it holds."""

    run: Run
    steps: int
    control: RunControl = field(default_factory=RunControl)
    versions_seen: dict[str, Any] = field(default_factory=dict)
    halt: str | None = None

    def stop(self, reason: str) -> None:
        if self.halt is None:
            self.halt = reason
        self.control.request_drain(reason)


def run_config(run: Run) -> dict[str, Any]:
    """The graph config of a run: its conversation is the thread; run id and attempt fence writes."""
    return {"configurable": {"thread_id": str(run.conversation_id), "user_id": str(run.user_id),
                             "run_id": str(run.id), "attempt": run.attempt}}


def user_text(run: Run) -> str:
    """What the person said in this run: the message, or the answer to the question."""
    if run.kind == "resume":
        answer = run.input.get("resume")
        return answer if isinstance(answer, str) else json.dumps(answer)
    return str(run.input["message"])


def graph_input(run: Run, steps: int) -> Any:
    """A run that committed a step continues from its checkpoint (None); one that did not replays its input."""
    if steps > 0:
        return None
    if run.kind == "resume":
        return resume_input(user_text(run))
    return user_input(run.input["message"], message_id=str(uuid.uuid5(run.id, "input")))


def json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def final_reply(values: Mapping[str, Any]) -> BaseMessage | None:
    for message in reversed(values.get("messages") or []):
        if isinstance(message, AIMessage) or getattr(message, "type", None) == "ai":
            return message
    return None


def outcome(run: Run, values: Mapping[str, Any]) -> tuple[str, dict[str, Any], list[Event], list[dict[str, Any]]]:
    """(status, output, final events, conversation messages) of a graph pass that ended."""
    said = {"role": "user", "content": user_text(run), "metadata": {"run_id": str(run.id)}}
    interrupts = values.get("__interrupt__") or ()
    if interrupts:
        raw = getattr(interrupts[0], "value", interrupts[0])
        value = json_safe(raw if isinstance(raw, dict) else {"question": str(raw)})
        question = str(value.get("question", ""))
        output = {"question": question, "interrupt": value}
        asked = {"role": "assistant", "content": question, "agent_name": "navigator",
                 "metadata": {"run_id": str(run.id), "interrupt": True}}
        return "interrupted", output, [("interrupt", value)], [said, asked]
    reply = final_reply(values)
    content = reply.content if reply is not None else ""
    text = content if isinstance(content, str) else json.dumps(json_safe(content))
    agent = (getattr(reply, "name", None) or "communicator") if reply is not None else None
    output = json_safe({"reply": text, "message_id": getattr(reply, "id", None), "agent_name": agent,
                        "intent": values.get("intent"), "current_step": values.get("current_step")})
    answer = {"role": "assistant", "content": text, "agent_name": agent, "metadata": {"run_id": str(run.id)}}
    return "success", output, [("message", {"content": text, "agent_name": agent}), ("done", {})], [said, answer]


async def default_graph_factory(pool: asyncpg.Pool, settings: Settings, step_hook: StepHook,
                                writes_hook: WritesHook) -> Any:
    from api.orchestrator import build_orchestrator

    return await build_orchestrator(pool, settings, step_hook=step_hook, writes_hook=writes_hook)


class WorkerPool:
    """N run executors sharing one compiled graph, one asyncpg pool and one LISTEN connection."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, *, concurrency: int | None = None,
                 worker_id: str | None = None, dsn: str | None = None,
                 graph_factory: GraphFactory | None = None, poll_seconds: float = IDLE_POLL_SECONDS) -> None:
        self.pool = pool
        self.settings = settings
        self.concurrency = concurrency if concurrency is not None else settings.worker_concurrency
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.worker_id = worker_id or new_worker_id()
        self.lease_seconds = settings.run_lease_seconds
        self.max_attempts = settings.run_max_attempts
        self.poll_seconds = min(poll_seconds, self.lease_seconds / 3)
        self._dsn = dsn
        self._graph_factory = graph_factory or (
            lambda step_hook, writes_hook: default_graph_factory(pool, settings, step_hook, writes_hook))
        self._graph: Any = None
        self._active: dict[uuid.UUID, ActiveRun] = {}
        self._wake = [asyncio.Event() for _ in range(self.concurrency)]
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def active_runs(self) -> list[uuid.UUID]:
        return list(self._active)

    async def start(self) -> None:
        """Build the graph and start the executors and the LISTEN connection."""
        self._graph = await self._graph_factory(self.step_hook, self.writes_hook)
        self._tasks = [asyncio.create_task(self._listen(), name="runs-listen")]
        self._tasks += [asyncio.create_task(self._executor(i), name=f"runs-executor-{i}")
                        for i in range(self.concurrency)]
        log.info("worker %s started %d executors", self.worker_id, self.concurrency)

    async def stop(self, drain_seconds: float | None = None) -> None:
        """Drain: claim nothing more, let each run finish its current step, release it, return.
        After `drain_seconds` the executors are cancelled (their leases then expire)."""
        self._stopping = True
        for active in self._active.values():
            active.stop(HALT_SHUTDOWN)
        self._wake_all()
        executors = self._tasks[1:]
        if executors:
            _, pending = await asyncio.wait(executors, timeout=drain_seconds)
            for task in pending:
                task.cancel()
        for task in self._tasks[:1]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def _wake_all(self, *_args: object) -> None:
        for wake in self._wake:
            wake.set()

    # --- the step hook: runs inside every checkpoint's transaction -------------------

    async def step_hook(self, con: asyncpg.Connection, config: Any, checkpoint: Any, metadata: Any) -> None:
        """Fence the checkpoint by the run's attempt and log the nodes that finished in it."""
        configurable = config.get("configurable", {})
        run_id = configurable.get("run_id")
        if run_id is None:  # not a queued run (e.g. `navigator ask`)
            return
        rid = uuid.UUID(str(run_id))
        active = self._active.get(rid)
        events: list[Event] = []
        seen: dict[str, Any] = checkpoint.get("versions_seen", {})
        if active is not None and not configurable.get("checkpoint_ns"):
            step = metadata.get("step") if isinstance(metadata, Mapping) else None
            events = [("node_finished", {"node": node, "step": step})
                      for node, versions in seen.items()
                      if not node.startswith("__") and active.versions_seen.get(node) != versions]
        cancel_requested = await fence_step(con, rid, int(configurable["attempt"]), self.lease_seconds, events)
        if active is not None:
            if not configurable.get("checkpoint_ns"):
                active.versions_seen = {node: dict(versions) for node, versions in seen.items()}
            if cancel_requested:
                active.stop(HALT_CANCEL)

    async def writes_hook(self, con: asyncpg.Connection, config: Any) -> None:
        """Fence a task's pending writes by the run's attempt, like its checkpoints."""
        configurable = config.get("configurable", {})
        run_id = configurable.get("run_id")
        if run_id is not None:
            await check_fence(con, uuid.UUID(str(run_id)), int(configurable["attempt"]))

    # --- executors -------------------------------------------------------------------

    async def _executor(self, index: int) -> None:
        backoff = Backoff()
        wake = self._wake[index]
        while not self._stopping:
            wake.clear()
            try:
                run = await claim_run(self.pool, self.worker_id, self.lease_seconds, self.max_attempts)
            except Exception as exc:
                # The database away, or any other failure of the claim (a statement
                # timeout, a migration in progress): back off, never end the executor.
                delay = backoff.next()
                log.warning("worker %s: claim failed (%s); retrying in %.1fs",
                            self.worker_id, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if run is None:
                try:
                    await asyncio.wait_for(wake.wait(), self.poll_seconds)
                except TimeoutError:
                    pass
                continue
            if run.status != "running":
                log.warning("run %s ended at claim: %s %s", run.id, run.status, run.error or "")
                continue
            try:
                await self._execute(run)
            except Exception:
                # Never let one run end this executor: its lease expires and the claim logic
                # retries it (up to RUN_MAX_ATTEMPTS) while this executor serves the queue.
                log.exception("run %s attempt %d: executor error", run.id, run.attempt)

    async def _execute(self, run: Run) -> None:
        active = ActiveRun(run=run, steps=run.steps)
        if self._stopping:
            active.stop(HALT_SHUTDOWN)
        self._active[run.id] = active
        beating = asyncio.create_task(self._heartbeat(active))
        try:
            while True:
                try:
                    await self._drive(active)
                    return
                except DATABASE_GONE as exc:
                    log.warning("run %s attempt %d: database connection lost (%s); waiting for it",
                                run.id, run.attempt, type(exc).__name__)
                    if not await self._reconnect(active):
                        return
        except LeaseLost:
            log.warning("run %s attempt %d: lease lost; its late write was rejected, dropping the run",
                        run.id, run.attempt)
        finally:
            beating.cancel()
            del self._active[run.id]

    async def _reconnect(self, active: ActiveRun) -> bool:
        """Wait for the database with backoff; True when this attempt still owns the run."""
        backoff = Backoff()
        while True:
            await asyncio.sleep(backoff.next())
            try:
                state = await heartbeat(self.pool, active.run.id, active.run.attempt, self.lease_seconds)
            except DATABASE_GONE:
                continue
            except LeaseLost:
                log.warning("run %s attempt %d: lease lost while the database was away",
                            active.run.id, active.run.attempt)
                return False
            active.steps = state.steps
            if state.cancel_requested:
                active.stop(HALT_CANCEL)
            return True

    async def _heartbeat(self, active: ActiveRun) -> None:
        run = active.run
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                state = await heartbeat(self.pool, run.id, run.attempt, self.lease_seconds)
            except LeaseLost:
                log.warning("run %s attempt %d: lease lost (another worker owns it now)", run.id, run.attempt)
                active.stop(HALT_LEASE_LOST)
                return
            except DATABASE_GONE:
                continue
            if state.cancel_requested:
                active.stop(HALT_CANCEL)

    async def _drive(self, active: ActiveRun) -> None:
        """One pass of the graph for the run, ending it (or releasing it when draining)."""
        run = active.run
        config = run_config(run)
        checkpointer = self._graph.checkpointer
        last = await checkpointer.aget_tuple({"configurable": {"thread_id": str(run.conversation_id),
                                                               "checkpoint_ns": ""}})
        active.versions_seen = dict(last.checkpoint.get("versions_seen", {})) if last is not None else {}
        values: Mapping[str, Any] | None = None
        try:
            async for mode, chunk in self._graph.astream(graph_input(run, active.steps), config,
                                                         stream_mode=["tasks", "values"], durability="sync",
                                                         control=active.control):
                if mode == "values":
                    values = chunk
                elif "triggers" in chunk:  # a task starting (results carry no triggers)
                    await append_events(self.pool, run.id, run.attempt,
                                        [("node_started", {"node": chunk["name"], "task_id": chunk["id"]})])
        except GraphDrained:
            await self._halted(active)
            return
        except NOT_RUN_FAILURES:
            raise
        except Exception as exc:
            log.exception("run %s attempt %d failed", run.id, run.attempt)
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
            await finish_run(self.pool, run, "error", error=reason[:500],
                             events=[("error", {"error": reason[:500]})])
            return
        if values is None:
            values = (await self._graph.aget_state(config)).values
        status, output, events, messages = outcome(run, values)
        stored = await finish_run(self.pool, run, status, output=output, events=events, messages=messages)
        log.info("run %s attempt %d: %s", run.id, run.attempt, stored)

    async def _halted(self, active: ActiveRun) -> None:
        run = active.run
        if active.halt == HALT_CANCEL:
            await finish_run(self.pool, run, "error", error="cancelled")  # stored as cancelled
        elif active.halt == HALT_SHUTDOWN:
            if await release_run(self.pool, run):
                log.info("run %s attempt %d released at a step boundary", run.id, run.attempt)
        else:
            raise LeaseLost(run.id, run.attempt)

    # --- wake-ups ----------------------------------------------------------------------

    async def _listen(self) -> None:
        """LISTEN on a dedicated connection; reconnect with backoff. Polling covers the gaps."""
        backoff = Backoff()
        while not self._stopping:
            con: asyncpg.Connection | None = None
            try:
                con = await connect(self.settings, self._dsn)
                lost = asyncio.Event()
                con.add_termination_listener(lambda _con, lost=lost: lost.set())
                await con.add_listener(RUNS_CHANNEL, self._wake_all)
                backoff.reset()
                self._wake_all()  # anything queued while we were not listening
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), LISTEN_PING_SECONDS)
                    except TimeoutError:
                        await con.execute("SELECT 1")  # notice a silently dead connection
            except DATABASE_GONE:
                await asyncio.sleep(backoff.next())
            finally:
                if con is not None:
                    con.terminate()
