"""AsyncpgSaver behaviour the conformance suite does not check: the step projection
and its atomicity, deletes leaving nothing, concurrency, versions, DeltaChannel
history and pruning, and the sync bridge."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated, Any, TypedDict

import asyncpg
import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import _messages_delta_reducer

from db.checkpoint import AsyncpgSaver, SyncCallInEventLoop
from db.pool import create_pool
from db.runs.fence import FencedStep, RunFence
from db.runs.model import LeaseLost
from db.settings import Settings

TABLES_BY_THREAD_COLUMN = {
    "checkpoints": "thread_id",
    "checkpoint_blobs": "thread_id",
    "checkpoint_writes": "thread_id",
    "workflow_states": "conversation_id",
    "agent_states": "conversation_id",
}
COUNT_ROWS = {
    table: f"SELECT count(*) FROM {table} WHERE {column} = $1"  # noqa: S608 - fixed names above
    for table, column in TABLES_BY_THREAD_COLUMN.items()
}


class State(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], DeltaChannel(_messages_delta_reducer, snapshot_frequency=10)]
    current_step: str
    facts: dict[str, str]
    turns: int


def _node(name: str) -> Any:
    def node(state: State) -> dict[str, Any]:
        return {
            "messages": [AIMessage(content=f"{name} done", id=str(uuid.uuid4()))],
            "current_step": name,
            "facts": {**state.get("facts", {}), name: "seen"},
        }
    return node


def build_graph(saver: BaseCheckpointSaver) -> Any:
    builder = StateGraph(State)
    builder.add_node("guard", _node("guard"))
    builder.add_node("navigator", _node("navigator"))
    builder.add_edge(START, "guard")
    builder.add_edge("guard", "navigator")
    builder.add_edge("navigator", END)
    return builder.compile(checkpointer=saver)


def build_loop_graph(saver: BaseCheckpointSaver, steps: int) -> Any:
    def step(state: State) -> dict[str, Any]:
        turns = state.get("turns", 0) + 1
        return {"messages": [AIMessage(content=f"step {turns}", id=f"m{turns}")], "turns": turns}

    builder = StateGraph(State)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", lambda s: "step" if s["turns"] < steps else END)
    return builder.compile(checkpointer=saver)


def project(config: Any, checkpoint: Any, metadata: Any) -> dict[str, Any] | None:
    values = checkpoint["channel_values"]
    step = values.get("current_step")
    projection: dict[str, Any] = {"workflow": {
        "workflow_type": "claim_denial",
        "current_step": step,
        "state_data": {"step": metadata.get("step"), "note": config["configurable"].get("note", "")},
        "user_id": config["configurable"].get("user_id"),
    }}
    if step:
        projection["agents"] = [{"agent_name": step, "state_data": {"concluded": step},
                                 "workflow_step": str(metadata.get("step"))}]
    return projection


def human(text: str = "my MRI claim was denied") -> dict[str, Any]:
    return {"messages": [HumanMessage(content=text, id=str(uuid.uuid4()))]}


async def count_rows(pool: asyncpg.Pool, thread_id: str) -> dict[str, int]:
    return {table: await pool.fetchval(sql, thread_id) for table, sql in COUNT_ROWS.items()}


async def test_projection_commits_with_each_step(pool: asyncpg.Pool) -> None:
    saver = AsyncpgSaver(pool, projection=project)
    thread_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
    config = {"configurable": {"thread_id": thread_id, "user_id": user_id}}
    await build_graph(saver).ainvoke(human(), config, durability="sync")

    workflow = await pool.fetchrow("SELECT * FROM workflow_states WHERE conversation_id = $1", thread_id)
    assert workflow["current_step"] == "navigator"
    assert str(workflow["user_id"]) == user_id
    latest = await saver.aget_tuple({"configurable": {"thread_id": thread_id}})
    assert latest is not None
    assert workflow["state_data"]["step"] == latest.metadata["step"]
    agents = {r["agent_name"]: r for r in await pool.fetch(
        "SELECT * FROM agent_states WHERE conversation_id = $1", thread_id)}
    assert set(agents) == {"guard", "navigator"}
    assert agents["navigator"]["state_data"] == {"concluded": "navigator"}
    assert int(agents["guard"]["workflow_step"]) < int(agents["navigator"]["workflow_step"])


async def test_failing_projection_statement_commits_nothing_of_the_step(pool: asyncpg.Pool) -> None:
    saver = AsyncpgSaver(pool, projection=project)
    thread_id = str(uuid.uuid4())
    # PostgreSQL's jsonb refuses \u0000: the projection part of the step statement fails in the database.
    config = {"configurable": {"thread_id": thread_id, "note": "bad\u0000note"}}
    with pytest.raises(asyncpg.UntranslatableCharacterError):
        await build_graph(saver).ainvoke(human(), config, durability="sync")
    assert (await count_rows(pool, thread_id))["checkpoints"] == 0
    assert (await count_rows(pool, thread_id))["workflow_states"] == 0


async def test_raising_projection_or_fence_commits_nothing(pool: asyncpg.Pool) -> None:
    def broken_projection(config: Any, checkpoint: Any, metadata: Any) -> dict[str, Any]:
        raise RuntimeError("projection bug")

    thread_id = str(uuid.uuid4())
    with pytest.raises(RuntimeError, match="projection bug"):
        await build_graph(AsyncpgSaver(pool, projection=broken_projection)).ainvoke(
            human(), {"configurable": {"thread_id": thread_id}}, durability="sync")
    rows = await count_rows(pool, thread_id)
    # Only the input's pending writes (saved by LangGraph before the first checkpoint) exist.
    assert rows["checkpoints"] == rows["checkpoint_blobs"] == rows["workflow_states"] == 0

    fenced_steps: list[int] = []

    class FailingFence(RunFence):
        """Step 1 is fenced by an attempt that owns no run (a stale one): its statement writes nothing."""

        def step(self, config: Any, checkpoint: Any, metadata: Any) -> FencedStep | None:
            fenced_steps.append(metadata.get("step"))
            if metadata.get("step") != 1:
                return None
            stale = uuid.uuid4()
            return FencedStep(stale, 1, [stale, 1, [], []], None, None)

    thread_id = str(uuid.uuid4())
    saver = AsyncpgSaver(pool, projection=project, fence=FailingFence(lease_seconds=30))
    with pytest.raises(LeaseLost):
        await build_graph(saver).ainvoke(human(), {"configurable": {"thread_id": thread_id}}, durability="sync")
    assert fenced_steps == [-1, 0, 1]
    steps = [t.metadata["step"] async for t in saver.alist({"configurable": {"thread_id": thread_id}})]
    assert steps == [0, -1]  # the step whose fence failed did not commit
    workflow = await pool.fetchrow("SELECT state_data FROM workflow_states WHERE conversation_id = $1", thread_id)
    assert workflow["state_data"]["step"] == 0  # the projection agrees with the last committed checkpoint


async def test_a_failing_step_does_not_fail_the_steps_batched_with_it(pool: asyncpg.Pool) -> None:
    saver = AsyncpgSaver(pool, projection=project)
    good = [str(uuid.uuid4()) for _ in range(5)]
    bad = str(uuid.uuid4())
    graph = build_graph(saver)
    results = await asyncio.gather(
        *(graph.ainvoke(human(), {"configurable": {"thread_id": t}}, durability="sync") for t in good),
        graph.ainvoke(human(), {"configurable": {"thread_id": bad, "note": "\u0000"}}, durability="sync"),
        return_exceptions=True,
    )
    assert all(isinstance(r, dict) for r in results[:5])
    assert isinstance(results[5], asyncpg.UntranslatableCharacterError)
    for thread_id in good:
        assert (await count_rows(pool, thread_id))["checkpoints"] == 4
    assert (await count_rows(pool, bad))["checkpoints"] == 0


async def test_delete_thread_leaves_no_rows_in_any_table(pool: asyncpg.Pool) -> None:
    saver = AsyncpgSaver(pool, projection=project)
    doomed, kept = str(uuid.uuid4()), str(uuid.uuid4())
    graph = build_graph(saver)
    for thread_id in (doomed, kept):
        await graph.ainvoke(human(), {"configurable": {"thread_id": thread_id}}, durability="sync")
    before = await count_rows(pool, doomed)
    assert all(n > 0 for n in before.values()), before  # every table had rows for the thread

    await saver.adelete_thread(doomed)

    assert await count_rows(pool, doomed) == dict.fromkeys(TABLES_BY_THREAD_COLUMN, 0)
    assert await count_rows(pool, kept) == before


class SlowConnection(asyncpg.Connection):
    """Every round trip takes 50 ms longer, as on a distant server."""

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.05)
        return await super().execute(*args, **kwargs)

    async def executemany(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.05)
        return await super().executemany(*args, **kwargs)

    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.05)
        return await super().fetch(*args, **kwargs)

    async def fetchrow(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.05)
        return await super().fetchrow(*args, **kwargs)


async def test_64_concurrent_workflows_do_not_serialise(settings: Settings, migrated_dsn: str) -> None:
    pool = await create_pool(settings, migrated_dsn, min_size=16, max_size=16, connection_class=SlowConnection)
    active = peak = 0

    class CountingSaver(AsyncpgSaver):
        async def aput(self, *args: Any, **kwargs: Any) -> Any:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                return await super().aput(*args, **kwargs)
            finally:
                active -= 1

    try:
        saver = CountingSaver(pool)
        assert not any(isinstance(v, asyncio.Lock) for v in vars(saver).values())
        graph = build_graph(saver)
        started = time.perf_counter()
        await asyncio.gather(*(graph.ainvoke(human(), {"configurable": {"thread_id": str(uuid.uuid4())}},
                                             durability="sync") for _ in range(64)))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    serial = 64 * 4 * 0.05  # 4 checkpointed steps each, one slow round trip per step
    assert peak >= 12, f"at most {peak} steps ran at once on a 16-connection pool"
    assert elapsed < serial / 2, f"{elapsed:.1f}s for work that takes {serial:.1f}s one step at a time"


async def test_alist_none_lists_every_thread_newest_first(pool: asyncpg.Pool) -> None:
    saver = AsyncpgSaver(pool)
    marker = str(uuid.uuid4())
    threads = [str(uuid.uuid4()) for _ in range(3)]
    graph = build_graph(saver)
    for thread_id in threads:
        await graph.ainvoke(human(), {"configurable": {"thread_id": thread_id}, "metadata": {"marker": marker}},
                            durability="sync")
    listed = [t async for t in saver.alist(None, filter={"marker": marker})]
    assert {t.config["configurable"]["thread_id"] for t in listed} == set(threads)
    assert len(listed) == 12
    ids = [t.config["configurable"]["checkpoint_id"] for t in listed]
    assert ids == sorted(ids, reverse=True)
    limited = [t async for t in saver.alist(None, filter={"marker": marker, "step": 2}, limit=2)]
    assert [t.config["configurable"]["thread_id"] for t in limited] == [threads[2], threads[1]]


def test_versions_always_increase(pool: asyncpg.Pool) -> None:
    saver = AsyncpgSaver(pool)
    version: Any = None
    seen = []
    for _ in range(1200):
        version = saver.get_next_version(version, None)
        seen.append(version)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert saver.get_next_version(7, None) > saver.get_next_version(6, None)
    assert int(saver.get_next_version(41, None).split(".")[0]) == 42
    # Two forks of one parent get different versions: their blobs never collide.
    assert saver.get_next_version(seen[5], None) != saver.get_next_version(seen[5], None)


async def test_delta_history_and_keep_latest_prune_on_a_long_thread(pool: asyncpg.Pool) -> None:
    saver = AsyncpgSaver(pool)
    thread_id = str(uuid.uuid4())
    config = {"configurable": {"thread_id": thread_id}, "recursion_limit": 200}
    await build_loop_graph(saver, 95).ainvoke(human(), config, durability="sync")

    latest = await saver.aget_tuple(config)
    assert latest is not None and "messages" not in latest.checkpoint["channel_values"]
    ours = await saver.aget_delta_channel_history(config=latest.config, channels=["messages"])
    walked = await BaseCheckpointSaver.aget_delta_channel_history(saver, config=latest.config, channels=["messages"])
    assert ours == walked  # one query gives what the generic ancestor walk gives
    assert "seed" in ours["messages"] and ours["messages"]["writes"]

    await saver.aprune([thread_id], strategy="keep_latest")
    remaining = [t async for t in saver.alist(config)]
    assert 1 < len(remaining) < 40  # the head and its chain back to the last snapshot, not the 97 steps
    state = await build_loop_graph(saver, 95).aget_state(config)
    assert [m.content for m in state.values["messages"][1:]] == [f"step {i}" for i in range(1, 96)]
    # The thread goes on from the pruned state.
    await build_loop_graph(saver, 97).ainvoke(human("more"), config, durability="sync")
    state = await build_loop_graph(saver, 97).aget_state(config)
    assert len(state.values["messages"]) == 99
    assert [m.content for m in state.values["messages"][-3:]] == ["more", "step 96", "step 97"]


async def test_sync_methods_refuse_on_the_loop_and_work_from_threads(pool: asyncpg.Pool) -> None:
    saver = AsyncpgSaver(pool)
    thread_id = str(uuid.uuid4())
    config = {"configurable": {"thread_id": thread_id}}
    with pytest.raises(SyncCallInEventLoop, match="use the async API"):
        saver.get_tuple(config)
    with pytest.raises(SyncCallInEventLoop, match="aput"):
        saver.put(config, {}, {}, {})  # type: ignore[arg-type]

    await build_graph(saver).ainvoke(human(), config, durability="sync")
    latest = await asyncio.to_thread(saver.get_tuple, config)
    assert latest is not None and latest.checkpoint["channel_values"]["current_step"] == "navigator"
    listed = await asyncio.to_thread(lambda: list(saver.list(config)))
    assert len(listed) == 4
    await asyncio.to_thread(saver.delete_thread, thread_id)
    assert await saver.aget_tuple(config) is None


@pytest.mark.parametrize(("projection", "error"), [
    ({"workflow": {"current_step": "guard"}}, "workflow_type"),
    ({"workflow": {"workflow_type": "claim", "user_id": "not-a-uuid"}}, "hexadecimal UUID"),
    ({"agents": [{"agent_name": "guard", "state_data": {}}]}, "workflow_step"),
])
async def test_malformed_projection_is_refused_before_anything_is_written(
    pool: asyncpg.Pool, projection: dict[str, Any], error: str
) -> None:
    saver = AsyncpgSaver(pool, projection=lambda config, checkpoint, metadata: projection)
    thread_id = str(uuid.uuid4())
    with pytest.raises(ValueError, match=error):
        await build_graph(saver).ainvoke(human(), {"configurable": {"thread_id": thread_id}}, durability="sync")
    assert (await count_rows(pool, thread_id))["checkpoints"] == 0


async def test_task_writes_wait_for_their_checkpoint_or_go_alone_after_lingering(pool: asyncpg.Pool) -> None:
    """Regular writes ride with the thread's next checkpoint; no checkpoint within the linger
    time (a sibling task still running), and they are written on their own."""
    saver = AsyncpgSaver(pool, linger_seconds=0.2)
    thread_id = str(uuid.uuid4())
    config: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": "c-1"}}
    count = "SELECT count(*) FROM checkpoint_writes WHERE thread_id = $1"
    await saver.aput_writes(config, [("facts", {"plan": "employer"})], "task-a")
    assert await pool.fetchval(count, thread_id) == 0  # waiting for the next checkpoint
    await asyncio.sleep(0.5)
    assert await pool.fetchval(count, thread_id) == 1  # nobody claimed them: written alone
    await saver.aput_writes(config, [("facts", {"plan": "marketplace"})], "task-b")
    fetched = await saver.aget_tuple(config)  # a read of the thread writes what waits first
    assert await pool.fetchval(count, thread_id) == 2 and fetched is None  # no checkpoint c-1 was ever saved
