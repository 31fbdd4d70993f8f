"""The run executor in-process with the graph runner, on the real graph and database: results,
interrupts, cancel, order, recovery, drain."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest
from pydantic import SecretStr

from agents.graph import build_graph
from agents.offline import OfflineChatModel
from agents.projection import project_step
from api.graph_runner import start_workers
from db.checkpoint import AsyncpgSaver
from db.runs.executor import RunExecutor
from db.runs.fence import RunFence
from db.runs.service import RunService
from db.settings import Settings
from tests.agents.fake_openai import FakeOpenAI
from tests.conftest import make_settings
from tests.utils.factories import NewConversation, NewUser
from tests.utils.graphs import ANSWER, ANSWERED, ASKS_A_QUESTION, NODES, offline_graph_factory

MESSAGES = "SELECT role, content FROM conversation_messages WHERE conversation_id = $1 ORDER BY id"
EXPIRE_LEASE = "UPDATE runs SET lease_expires_at = now() - interval '1 second' WHERE id = $1"


@pytest.fixture(scope="module")
def worker_settings(migrated_dsn: str) -> Settings:
    return make_settings(migrated_dsn, run_lease_seconds=3.0, worker_concurrency=2)


@pytest.fixture
async def service(pool: asyncpg.Pool) -> RunService:
    await pool.execute("DELETE FROM runs")
    return RunService(pool)


@pytest.fixture
async def workers(pool: asyncpg.Pool, worker_settings: Settings) -> AsyncIterator[RunExecutor]:
    worker = await start_workers(pool, worker_settings, graph_factory=offline_graph_factory(pool))
    yield worker
    await worker.stop(drain_seconds=5)


async def events_of(service: RunService, run_id: uuid.UUID, user: uuid.UUID) -> list[tuple[str, dict, int]]:
    return [(e.event, e.data, e.attempt) for e in await service.list_events(run_id, user, limit=1000)]


async def wait_for_event(service: RunService, run_id: uuid.UUID, user: uuid.UUID, name: str,
                         count: int = 1) -> None:
    for _ in range(200):
        if sum(e[0] == name for e in await events_of(service, run_id, user)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {count} x {name} event")


async def test_run_answers_and_records_everything(service: RunService, workers: RunExecutor, pool: asyncpg.Pool,
                                                  new_user: NewUser, new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    run = await service.create(user, conversation, ANSWERED)
    done = await service.wait(run.id, user, timeout=20)
    assert done.status == "success" and done.output is not None and done.output["reply"]
    assert done.output["intent"] == "prior_authorization"
    names = [e[0] for e in await events_of(service, run.id, user)]
    assert names[:2] == ["created", "started"] and names[-2:] == ["message", "done"]
    finished = [e[1]["node"] for e in await events_of(service, run.id, user) if e[0] == "node_finished"]
    assert finished == NODES
    assert [e[1]["node"] for e in await events_of(service, run.id, user) if e[0] == "node_started"] == NODES
    rows = [tuple(r) for r in await pool.fetch(MESSAGES, conversation)]
    assert rows == [("user", ANSWERED), ("assistant", done.output["reply"])]
    state = await pool.fetchrow("SELECT current_step FROM workflow_states WHERE conversation_id = $1",
                                str(conversation))
    assert state is not None and state["current_step"] == "communicator"


async def test_interrupt_then_resume(service: RunService, workers: RunExecutor, new_user: NewUser,
                                     new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    run = await service.create(user, conversation, ASKS_A_QUESTION)
    asked = await service.wait(run.id, user, timeout=20)
    assert asked.status == "interrupted" and asked.output is not None and "denial" in asked.output["question"]
    assert (await events_of(service, run.id, user))[-1][0] == "interrupt"
    continuation = await service.resume(run.id, user, ANSWER)
    answered = await service.wait(continuation.id, user, timeout=20)
    assert answered.status == "success" and answered.output is not None
    assert answered.output["intent"] == "claim_denial_appeal"


async def test_cancel_running_stops_at_a_step_boundary(service: RunService, pool: asyncpg.Pool,
                                                      worker_settings: Settings, new_user: NewUser,
                                                      new_conversation: NewConversation) -> None:
    worker = await start_workers(pool, worker_settings, graph_factory=offline_graph_factory(pool, latency_ms=300))
    try:
        user = await new_user()
        conversation = await new_conversation(user)
        run = await service.create(user, conversation, ANSWERED)
        await wait_for_event(service, run.id, user, "node_started", 2)
        assert (await service.cancel(run.id, user)).cancel_requested
        final = await service.wait(run.id, user, timeout=20)
        assert (final.status, final.output) == ("cancelled", None)
        events = await events_of(service, run.id, user)
        assert events[-1][0] == "cancelled"
        assert sum(e[0] == "node_finished" for e in events) < len(NODES)
        # The person's message was kept when the run was created; a cancelled run adds no reply.
        assert [tuple(r) for r in await pool.fetch(MESSAGES, conversation)] == [("user", ANSWERED)]
    finally:
        await worker.stop(drain_seconds=5)


async def test_runs_of_one_conversation_complete_in_order(service: RunService, workers: RunExecutor,
                                                          pool: asyncpg.Pool, new_user: NewUser,
                                                          new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    texts = [f"{ANSWERED} number {i}" for i in range(4)]
    runs = [await service.create(user, conversation, text) for text in texts]
    finals = [await service.wait(run.id, user, timeout=30) for run in runs]
    assert [r.status for r in finals] == ["success"] * 4
    finished = [r.finished_at for r in finals]
    started = [r.started_at for r in finals]
    assert all(finished[i] <= started[i + 1] for i in range(3))  # never two at once, in order
    said = [content for role, content in await pool.fetch(MESSAGES, conversation) if role == "user"]
    assert said == texts


async def test_crashed_run_recovers_without_repeating_steps(service: RunService, pool: asyncpg.Pool,
                                                           worker_settings: Settings, new_user: NewUser,
                                                           new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    crashing = await start_workers(pool, worker_settings, graph_factory=offline_graph_factory(pool, latency_ms=200))
    run = await service.create(user, conversation, ANSWERED)
    await wait_for_event(service, run.id, user, "node_finished", 2)
    for task in crashing.tasks:  # die without releasing anything, like SIGKILL
        task.cancel()
    await asyncio.gather(*crashing.tasks, return_exceptions=True)
    await pool.execute(EXPIRE_LEASE, run.id)
    recovering = await start_workers(pool, worker_settings, graph_factory=offline_graph_factory(pool))
    try:
        final = await service.wait(run.id, user, timeout=20)
    finally:
        await recovering.stop(drain_seconds=5)
    assert (final.status, final.attempt, final.lost_attempts) == ("success", 2, 1)
    events = await events_of(service, run.id, user)
    assert Counter(e[1]["node"] for e in events if e[0] == "node_finished") == Counter(NODES)
    assert [e[1]["recovered"] for e in events if e[0] == "started"] == [False, True]
    assert [r["role"] for r in await pool.fetch(MESSAGES, conversation)] == ["user", "assistant"]


async def test_stop_releases_the_run_at_a_step_boundary(service: RunService, pool: asyncpg.Pool,
                                                        worker_settings: Settings, new_user: NewUser,
                                                        new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    draining = await start_workers(pool, worker_settings, graph_factory=offline_graph_factory(pool, latency_ms=300))
    run = await service.create(user, conversation, ANSWERED)
    await wait_for_event(service, run.id, user, "node_started", 2)
    await draining.stop(drain_seconds=10)
    released = await service.get(run.id, user)
    assert (released.status, released.steps >= 3) == ("pending", True)
    assert (await events_of(service, run.id, user))[-1][0] == "released"
    finishing = await start_workers(pool, worker_settings, graph_factory=offline_graph_factory(pool))
    try:
        final = await service.wait(run.id, user, timeout=20)
    finally:
        await finishing.stop(drain_seconds=5)
    assert (final.status, final.lost_attempts) == ("success", 0)
    events = await events_of(service, run.id, user)
    assert Counter(e[1]["node"] for e in events if e[0] == "node_started") == Counter(NODES)
    assert Counter(e[1]["node"] for e in events if e[0] == "node_finished") == Counter(NODES)


async def test_a_conversation_expiring_mid_run_neither_kills_the_executor_nor_strands_the_run(
        service: RunService, pool: asyncpg.Pool, migrated_dsn: str, new_user: NewUser,
        new_conversation: NewConversation) -> None:
    single = make_settings(migrated_dsn, run_lease_seconds=3.0, worker_concurrency=1)
    worker = await start_workers(pool, single, graph_factory=offline_graph_factory(pool, latency_ms=200))
    try:
        user = await new_user()
        expiring = await new_conversation(user)
        run = await service.create(user, expiring, ANSWERED)
        await wait_for_event(service, run.id, user, "node_started", 2)
        await pool.execute("UPDATE conversations SET expires_at = now() - interval '1 second' WHERE id = $1",
                           expiring)
        for _ in range(200):  # the run is 404 to its user now: read the row itself
            ended = await pool.fetchrow("SELECT status, attempt FROM runs WHERE id = $1", run.id)
            if ended["status"] not in ("pending", "running"):
                break
            await asyncio.sleep(0.05)
        assert (ended["status"], ended["attempt"]) == ("success", 1), ended
        # Only what was stored while it was live (the message, with its run); no reply to a conversation that is gone.
        assert [tuple(r) for r in await pool.fetch(MESSAGES, expiring)] == [("user", ANSWERED)]
        later = await service.create(user, await new_conversation(user), ANSWERED)
        assert (await service.wait(later.id, user, timeout=20)).status == "success"
    finally:
        await worker.stop(drain_seconds=5)


async def test_executors_survive_a_failing_claim(service: RunService, workers: RunExecutor, pool: asyncpg.Pool,
                                                 new_user: NewUser, new_conversation: NewConversation) -> None:
    """A claim that fails for another reason than a lost connection backs off instead of ending the executor."""
    await pool.execute("ALTER TABLE runs RENAME TO runs_moved_away")
    try:
        await asyncio.sleep(1.5)  # every executor polls (poll <= lease / 3) and its claim fails
    finally:
        await pool.execute("ALTER TABLE runs_moved_away RENAME TO runs")
    assert all(not task.done() for task in workers.tasks), "an executor ended"
    user = await new_user()
    run = await service.create(user, await new_conversation(user), ANSWERED)
    finished = await service.wait(run.id, user, timeout=20)
    assert finished.status == "success"


def openai_settings(base: Settings, server: FakeOpenAI, **overrides: object) -> Settings:
    return base.model_copy(update={"llm_provider": "openai", "openai_base_url": server.base_url,
                                   "openai_api_key": SecretStr("sk-test"), "llm_timeout_seconds": 5.0, **overrides})


async def test_a_rate_limited_model_is_retried_after_its_retry_after(
        service: RunService, pool: asyncpg.Pool, worker_settings: Settings, new_user: NewUser,
        new_conversation: NewConversation) -> None:
    """429 with Retry-After: 1, twice, then answers: the run succeeds, and its events show both retries."""
    with FakeOpenAI(rate_limited=2, retry_after="1") as server:
        worker = await start_workers(pool, openai_settings(worker_settings, server))
        try:
            user = await new_user()
            run = await service.create(user, await new_conversation(user), "My MRI claim was denied. What now?")
            started = time.monotonic()
            final = await service.wait(run.id, user, timeout=30)
            elapsed = time.monotonic() - started
        finally:
            await worker.stop(drain_seconds=5)
    assert final.status == "success", final
    retries = [data for name, data, _ in await events_of(service, run.id, user) if name == "retry"]
    assert [r["retry"] for r in retries] == [1, 2]
    assert all(r["delay_seconds"] == 1.0 and "429" in r["error"] for r in retries), retries
    assert elapsed >= 2.0  # the provider's Retry-After was honoured each time
    # Two refused, then the guard's risk judgement, navigator, strategy, communicator.
    assert len(server.requests) == 2 + 4


async def test_model_calls_in_flight_stay_under_model_max_concurrency(
        service: RunService, pool: asyncpg.Pool, worker_settings: Settings, new_user: NewUser,
        new_conversation: NewConversation) -> None:
    with FakeOpenAI(delay_seconds=0.2) as server:
        worker = await start_workers(pool, openai_settings(worker_settings, server, model_max_concurrency=2),
                                     concurrency=16)
        try:
            user = await new_user()
            runs = [await service.create(user, await new_conversation(user), "My MRI claim was denied.")
                    for _ in range(6)]
            finals = [await service.wait(run.id, user, timeout=30) for run in runs]
        finally:
            await worker.stop(drain_seconds=5)
    assert [f.status for f in finals] == ["success"] * 6
    assert server.max_in_flight == 2  # six runs wanted more at once; the cap held them at two


class HangsOnce(OfflineChatModel):
    """The offline model, except that its first call hangs (a stuck provider connection)."""

    calls: int = 0

    async def answer(self, system: str, payload: str) -> str:
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(60)
        return await super().answer(system, payload)


async def test_a_step_past_the_step_timeout_is_retried_like_a_lost_lease(
        service: RunService, pool: asyncpg.Pool, migrated_dsn: str, new_user: NewUser,
        new_conversation: NewConversation) -> None:
    settings = make_settings(migrated_dsn, run_lease_seconds=3.0, run_step_timeout_seconds=1.0)

    async def graph(fence: RunFence) -> object:
        return build_graph(checkpointer=AsyncpgSaver(pool, projection=project_step, fence=fence), model=HangsOnce())

    worker = await start_workers(pool, settings, graph_factory=graph)
    try:
        user = await new_user()
        run = await service.create(user, await new_conversation(user), ANSWERED)
        final = await service.wait(run.id, user, timeout=20)
    finally:
        await worker.stop(drain_seconds=5)
    assert (final.status, final.attempt, final.lost_attempts) == ("success", 2, 1)
    events = await events_of(service, run.id, user)
    timeouts = [data for name, data, attempt in events if name == "retry" and attempt == 1]
    assert len(timeouts) == 1 and timeouts[0]["reason"] == "step_timeout", events
    assert [data["recovered"] for name, data, _ in events if name == "started"] == [False, True]
    assert Counter(data["node"] for name, data, _ in events if name == "node_finished") == Counter(NODES)
