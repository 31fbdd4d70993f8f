"""The graph on PostgreSQL through build_orchestrator: checkpoints, projection, risk log, masking."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import asyncpg
import pytest

from agents.graph import resume_input, user_input
from agents.outcome import read_outcome
from api.orchestrator import build_orchestrator
from db.settings import Settings
from tests.utils.db import tables_containing

SSN = "123-45-6789"
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
async def graph(pool: asyncpg.Pool, settings: Settings) -> Any:
    return await build_orchestrator(pool, settings)


def config_for(thread: str | None = None, user_id: str | None = None) -> Any:
    return {"configurable": {"thread_id": thread or str(uuid.uuid4()), "user_id": user_id}}


async def history(graph: Any, config: Any) -> list[Any]:
    return list(reversed([s async for s in graph.aget_state_history(config)]))


async def test_interrupt_and_resume_run_each_step_once(graph: Any, pool: asyncpg.Pool) -> None:
    config = config_for(user_id=str(uuid.uuid4()))
    thread = config["configurable"]["thread_id"]
    await graph.ainvoke(user_input("My claim for an MRI was denied. How do I appeal?"), config, durability="sync")
    waiting = await read_outcome(graph, config)
    assert waiting.status == "needs_input" and waiting.intent == "claim_denial_appeal"
    row = await pool.fetchrow("SELECT current_step, state_data, user_id FROM workflow_states "
                              "WHERE conversation_id = $1", thread)
    assert row["current_step"] == "navigator"
    assert row["state_data"]["status"] == "waiting_for_input"
    assert row["state_data"]["missing"] == ["denial_date", "plan_type"]
    assert str(row["user_id"]) == config["configurable"]["user_id"]

    await graph.ainvoke(resume_input("The letter came on June 2. Marketplace plan from healthcare.gov."), config,
                        durability="sync")
    done = await read_outcome(graph, config)
    assert done.status == "answered" and "External review" in done.reply

    snapshots = await history(graph, config)
    ran = [s.next for s in snapshots]
    assert ran == [("__start__",), ("guard",), ("navigator",), ("clarify",), ("strategy",), ("communicator",), ()]
    steps = [s.metadata["step"] for s in snapshots]
    assert steps == sorted(set(steps))
    agents = {r["agent_name"]: r for r in await pool.fetch(
        "SELECT agent_name, workflow_step, state_data FROM agent_states WHERE conversation_id = $1", thread)}
    assert set(agents) == {"guard", "navigator", "strategy", "communicator"}
    assert agents["navigator"]["workflow_step"] == "clarify"
    assert agents["navigator"]["state_data"]["facts"]["plan_type"] == "marketplace"
    assert "body" not in agents["navigator"]["state_data"]["documents"][0]
    assert agents["strategy"]["state_data"]["steps"] == done.steps
    final = await pool.fetchrow("SELECT current_step, state_data FROM workflow_states WHERE conversation_id = $1",
                                thread)
    assert final["current_step"] == "communicator" and final["state_data"]["status"] == "answered"


async def test_emergency_is_answered_at_once_and_recorded_once(graph: Any, pool: asyncpg.Pool) -> None:
    config = config_for()
    thread = config["configurable"]["thread_id"]
    await graph.ainvoke(user_input("My dad is having chest pain right now, what do I do?"), config, durability="sync")
    outcome = await read_outcome(graph, config)
    assert outcome.status == "urgent" and "911" in outcome.reply
    assert [s.next for s in await history(graph, config)] == [("__start__",), ("guard",), ()]
    rows = await pool.fetch("SELECT category, severity FROM risk_detections WHERE conversation_id = $1", thread)
    assert [tuple(r) for r in rows] == [("medical_emergency", "urgent")]
    agent_rows = await pool.fetch("SELECT agent_name FROM agent_states WHERE conversation_id = $1", thread)
    assert [r["agent_name"] for r in agent_rows] == ["guard"]


async def test_ssns_and_card_numbers_never_reach_the_database(graph: Any, pool: asyncpg.Pool) -> None:
    config = config_for()
    await graph.ainvoke(user_input(f"I'm suicidal. SSN {SSN}, card {CARD}"), config, durability="sync")
    config2 = config_for()
    await graph.ainvoke(user_input(f"The hospital charged my card {CARD} twice, my ssn is {SSN}"), config2,
                        durability="sync")
    config3 = config_for()
    await graph.ainvoke(user_input("my claim was denied, appeal?"), config3, durability="sync")
    await graph.ainvoke(resume_input(f"employer plan, letter May 1, SSN {SSN.replace('-', ' ')}"), config3,
                        durability="sync")
    assert (await read_outcome(graph, config3)).status == "answered"
    tables = {r["tablename"] for r in await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"checkpoints", "checkpoint_blobs", "checkpoint_writes", "risk_detections"} <= tables
    assert await tables_containing(pool, [SSN, SSN.replace("-", " "), CARD, CARD.replace(" ", "")]) == []
    assert await pool.fetchval("SELECT count(*) FROM risk_detections WHERE excerpt LIKE '%[SSN REDACTED]%'") >= 1


async def test_median_time_of_one_offline_question_end_to_end(graph: Any, capsys: pytest.CaptureFixture) -> None:
    timings = []
    for _ in range(7):
        config = config_for()
        started = time.perf_counter()
        await graph.ainvoke(user_input("My MRI claim was denied on March 3; I have an employer plan. Appeal?"),
                            config, durability="sync")
        timings.append((time.perf_counter() - started) * 1000)
        assert (await read_outcome(graph, config)).status == "answered"
    median = statistics.median(timings)
    with capsys.disabled():
        print(f"\noffline question end to end on PostgreSQL: median {median:.1f} ms over {len(timings)} runs")
    assert median < 2000
