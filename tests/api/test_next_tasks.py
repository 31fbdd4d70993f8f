"""NextTasks tells, from a checkpoint alone, the tasks the graph really starts after it (names, ids,
order), so a run's node_started can ride in the checkpoint's statement; it answers None where it
cannot tell. On the real database: the node_started a run logs name the tasks that really ran."""

from __future__ import annotations

import operator
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypedDict

import asyncpg
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from agents.graph import build_graph, resume_input, user_input
from agents.models import build_model
from api.graph_runner import start_workers
from api.next_tasks import NextTasks
from db.runs.executor import RunExecutor
from db.runs.service import RunService
from tests.conftest import make_settings
from tests.utils.factories import NewConversation, NewUser
from tests.utils.graphs import ANSWER, ANSWERED, ASKS_A_QUESTION, NODES, offline_graph_factory


class Recording(InMemorySaver):
    """Remembers, for every root checkpoint stored, what NextTasks says follows it."""

    def __init__(self) -> None:
        super().__init__()
        self.next_tasks: NextTasks | None = None
        self.said: list[list[tuple[str, str]] | None] = []

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        if self.next_tasks is not None and not config["configurable"].get("checkpoint_ns"):
            self.said.append(self.next_tasks(checkpoint, metadata))
        return await super().aput(config, checkpoint, metadata, new_versions)


async def starts_after_puts(graph: Any, saver: Recording, graph_input: Any, config: Any) -> list[list[Any]]:
    """The tasks the graph started, grouped by the checkpoint stored before them."""
    saver.next_tasks = NextTasks(graph)
    groups: list[list[Any]] = []
    puts = len(saver.said)
    async for chunk in graph.astream(graph_input, config, stream_mode="tasks", durability="sync"):
        if "triggers" not in chunk:
            continue
        if len(saver.said) != puts or not groups:
            groups.append([])
            puts = len(saver.said)
        groups[-1].append((chunk["name"], chunk["id"]))
    return groups


async def test_the_conversation_graph_starts_what_it_said() -> None:
    saver = Recording()
    graph = build_graph(checkpointer=saver, model=build_model("offline"))
    config = {"configurable": {"thread_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}}
    started = await starts_after_puts(graph, saver, user_input(ANSWERED), config)
    assert [name for group in started for name, _ in group] == NODES
    # Every put said what followed it: [] for the input (only the hidden __start__ runs), then each node.
    assert saver.said == [[], *started, []]


async def test_an_interrupted_run_and_its_resume() -> None:
    saver = Recording()
    graph = build_graph(checkpointer=saver, model=build_model("offline"))
    config = {"configurable": {"thread_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}}
    asked = await starts_after_puts(graph, saver, user_input(ASKS_A_QUESTION), config)
    said_before_resume = len(saver.said)
    assert saver.said == [[], *asked]  # the last task interrupted: no checkpoint after it
    resumed = await starts_after_puts(graph, saver, resume_input(ANSWER), config)
    # The resumed task follows no new checkpoint (its start gets a statement of its own); the rest do.
    assert saver.said[said_before_resume:] == [*resumed[1:], []]
    assert resumed[0][0][0] == asked[-1][-1][0]


class Fan(TypedDict, total=False):
    seen: Annotated[list[str], operator.add]


def fan_graph(saver: Recording, send: bool) -> Any:
    def node(name: str) -> Any:
        async def run(state: Fan) -> Fan:
            return {"seen": [name]}
        return run

    builder = StateGraph(Fan)
    for name in ("a", "b", "c", "d"):
        builder.add_node(name, node(name))
    builder.add_edge(START, "a")
    if send:
        builder.add_conditional_edges("a", lambda _: [Send("b", {}), Send("c", {})])
    else:
        builder.add_edge("a", "b")
        builder.add_edge("a", "c")
    builder.add_edge("b", "d")
    builder.add_edge("c", "d")
    builder.add_edge("d", END)
    return builder.compile(checkpointer=saver)


async def test_parallel_tasks_in_the_order_they_start_and_none_for_sends() -> None:
    saver = Recording()
    graph = fan_graph(saver, send=False)
    started = await starts_after_puts(graph, saver, {"seen": []}, {"configurable": {"thread_id": "fan"}})
    assert [sorted(name for name, _ in group) for group in started] == [["a"], ["b", "c"], ["d"]]
    assert saver.said == [[], *started, []]

    saver = Recording()
    graph = fan_graph(saver, send=True)
    started = await starts_after_puts(graph, saver, {"seen": []}, {"configurable": {"thread_id": "send"}})
    assert [sorted(name for name, _ in group) for group in started] == [["a"], ["b", "c"], ["d"]]
    assert saver.said[2] is None  # pending Sends: it cannot tell, so the runner logs them as they start
    assert saver.said[:2] == [[], started[0]]


async def test_a_join_makes_it_answer_none() -> None:
    saver = Recording()
    builder = StateGraph(Fan)
    for name in ("a", "b", "c"):
        builder.add_node(name, lambda state, name=name: {"seen": [name]})
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    builder.add_edge(["a", "b"], "c")
    graph = builder.compile(checkpointer=saver)
    await starts_after_puts(graph, saver, {"seen": []}, {"configurable": {"thread_id": "join"}})
    assert saver.said and all(said is None for said in saver.said)


@pytest.fixture
async def workers(pool: asyncpg.Pool, migrated_dsn: str) -> AsyncIterator[RunExecutor]:
    settings = make_settings(migrated_dsn, run_lease_seconds=3.0, worker_concurrency=2)
    worker = await start_workers(pool, settings, graph_factory=offline_graph_factory(pool))
    yield worker
    await worker.stop(drain_seconds=5)


async def test_logged_starts_name_the_tasks_that_ran(pool: asyncpg.Pool, workers: RunExecutor, new_user: NewUser,
                                                     new_conversation: NewConversation) -> None:
    service = RunService(pool)
    user = await new_user()
    conversation = await new_conversation(user)
    run = await service.create(user, conversation, ANSWERED)
    assert (await service.wait(run.id, user, timeout=20)).status == "success"
    events = await service.list_events(run.id, user, limit=1000)
    starts = [(e.data["node"], e.data["task_id"]) for e in events if e.event == "node_started"]
    assert [node for node, _ in starts] == NODES
    # Each start sits right after the step that finished before it (or the run's start) and names
    # a task whose writes the checkpoints hold under that id.
    names = [e.event for e in events]
    assert names[:4] == ["created", "started", "node_started", "node_finished"]
    assert [names[i - 1] for i, name in enumerate(names) if name == "node_started"][1:] == ["node_finished"] * 3
    ran = {row["task_id"] for row in await pool.fetch(
        "SELECT DISTINCT task_id FROM checkpoint_writes WHERE thread_id = $1", str(conversation))}
    assert {task_id for _, task_id in starts} <= ran
    assert [e.id for e in events] == list(range(1, len(events) + 1))
