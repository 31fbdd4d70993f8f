"""The official `langgraph-sdk` client against a real `navigator serve` at /lg, authenticated
with a personal API key: a whole conversation (interrupt and resume included), history, runs,
waits, searches, and a stream rejoined from its last event id after the server restarted."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import AuthenticationError, ConflictError, NotFoundError, UnprocessableEntityError

from tests.utils.db import ROOT
from tests.utils.graphs import ANSWER, ANSWERED, ASKS_A_QUESTION
from tests.utils.processes import fetch_retrying
from tests.utils.serve import ServeProcess

PASSWORD = "sdk password 123"
JS_DIR = ROOT / "tests" / "js"


@pytest.fixture(scope="module")
def server(serve_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    # A little model latency, so a run is still going when the server restarts under it.
    process = ServeProcess(serve_dsn, tmp_path_factory.mktemp("serve"), OFFLINE_MODEL_LATENCY_MS="300")
    process.start()
    yield process
    process.kill()


@pytest.fixture(scope="module")
def api_key(server: ServeProcess) -> str:
    with httpx.Client(base_url=server.base, timeout=30) as http:
        email = f"sdk-{uuid.uuid4().hex[:8]}@example.com"
        assert http.post("/auth/register", json={"email": email, "password": PASSWORD}).status_code == 202
        token = http.post("/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
        created = http.post("/auth/api-keys", json={"name": "sdk test"}, headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201, created.text
        return str(created.json()["key"])


@pytest.fixture
async def client(server: ServeProcess, api_key: str) -> AsyncIterator[LangGraphClient]:
    async with get_client(url=f"{server.base}/lg", api_key=api_key) as lg:
        yield lg


def user(text: str) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": text}]}


async def test_assistants_search_and_alias(client: LangGraphClient) -> None:
    found = await client.assistants.search()
    assert [a["graph_id"] for a in found] == ["navigator", "case"]
    by_alias = await client.assistants.get("navigator")
    assert by_alias == await client.assistants.get(found[0]["assistant_id"])
    graph = await client.assistants.get_graph("navigator")
    assert {"guard", "navigator", "clarify", "strategy", "communicator"} <= {n["id"] for n in graph["nodes"]}
    assert "messages" in (await client.assistants.get_schemas("navigator"))["input_schema"]["properties"]


async def test_cases_are_the_threads_of_the_second_assistant(client: LangGraphClient, server: ServeProcess,
                                                              api_key: str) -> None:
    denied = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    async with httpx.AsyncClient(base_url=server.base, headers={"x-api-key": api_key}, timeout=60) as http:
        opened = await http.post("/cases", params={"wait": 20}, json={"kind": "appeal", "facts": {
            "service": "MRI", "denial_date": denied, "plan_type": "employer"}})
    assert opened.status_code == 201 and opened.json()["stage"] == "drafted", opened.text
    case_id = opened.json()["id"]
    (assistant,) = await client.assistants.search(graph_id="case")
    graph = await client.assistants.get_graph("case")
    assert {"case_manager", "strategy", "scheduler"} <= {n["id"] for n in graph["nodes"]}
    threads = await client.threads.search(metadata={"assistant_id": assistant["assistant_id"]})
    assert [t["thread_id"] for t in threads] == [case_id] and threads[0]["values"]["stage"] == "drafted"
    state = await client.threads.get_state(case_id)
    assert state["values"]["letter"]["title"] == "Request for internal appeal" and state["next"] == []
    (run,) = await client.runs.list(case_id)
    assert (run["assistant_id"], run["status"]) == (assistant["assistant_id"], "success")
    assert (await client.runs.join(case_id, run["run_id"]))["stage"] == "drafted"
    for graph_id, body in (("case", {}), ("navigator", user("hello"))):
        with pytest.raises(ConflictError):
            await client.runs.create(case_id, graph_id, input=body)


async def test_a_whole_conversation_with_a_question_and_its_answer(client: LangGraphClient) -> None:
    thread = await client.threads.create(metadata={"topic": "mri-denial"})
    thread_id = thread["thread_id"]
    assert thread["status"] == "idle"

    parts = [part async for part in client.runs.stream(thread_id, "navigator", input=user(ASKS_A_QUESTION),
                                                       stream_mode=["values", "updates", "messages-tuple"])]
    events = [part.event for part in parts]
    assert events[0] == "metadata" and events[-1] == "end", events
    assert {"values", "updates"} <= set(events)
    updates = [part.data for part in parts if part.event == "updates"]
    assert [next(iter(u)) for u in updates][:2] == ["guard", "navigator"]
    assert "__interrupt__" in updates[-1]
    first_values = next(part.data for part in parts if part.event == "values")
    assert first_values["messages"][0]["type"] == "human"
    assert first_values["messages"][0]["content"] == ASKS_A_QUESTION

    state = await client.threads.get_state(thread_id)
    assert state["next"] == ["clarify"]
    question = state["tasks"][0]["interrupts"][0]["value"]["question"]
    assert "plan" in question
    assert (await client.threads.get(thread_id))["status"] == "interrupted"

    resumed = [part async for part in client.runs.stream(thread_id, "navigator", command={"resume": ANSWER},
                                                         stream_mode=["values", "messages-tuple"])]
    assert resumed[0].event == "metadata" and resumed[-1].event == "end"
    streamed = [part.data[0] for part in resumed if part.event == "messages"]
    assert streamed and streamed[-1]["type"] == "ai"

    final = await client.threads.get_state(thread_id)
    assert final["next"] == [] and final["tasks"] == []
    messages = final["values"]["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "human", "ai"]
    assert messages[1]["content"] == question and messages[2]["content"] == ANSWER
    assert messages[-1]["content"] == streamed[-1]["content"] and "appeal" in messages[-1]["content"].lower()

    history = await client.threads.get_history(thread_id, limit=100)
    assert history[0]["checkpoint"]["checkpoint_id"] == final["checkpoint"]["checkpoint_id"]
    assert any(h["next"] == ["clarify"] for h in history)
    older = await client.threads.get_history(thread_id, limit=2, before=history[1]["checkpoint"])
    assert [h["checkpoint"] for h in older] == [h["checkpoint"] for h in history[2:4]]

    runs = await client.runs.list(thread_id)
    assert [r["status"] for r in runs] == ["success", "interrupted"]
    assert all(r["thread_id"] == thread_id for r in runs)
    assert (await client.runs.get(thread_id, runs[0]["run_id"]))["run_id"] == runs[0]["run_id"]

    found = await client.threads.search(metadata={"topic": "mri-denial"})
    assert [t["thread_id"] for t in found] == [thread_id]
    assert found[0]["metadata"]["graph_id"] == "navigator" and found[0]["status"] == "idle"
    assert await client.threads.search(metadata={"topic": "something else"}) == []

    copied = await client.threads.copy(thread_id)
    assert (await client.threads.get_state(copied["thread_id"]))["values"]["messages"] == messages


async def test_the_readme_three_lines(client: LangGraphClient) -> None:
    from uuid import uuid4

    asked = await client.runs.wait(thread := str(uuid4()), "navigator", if_not_exists="create", input={"messages": [{"role": "user", "content": "My MRI claim was denied, what now?"}]})  # noqa: E501
    answer = await client.runs.wait(thread, "navigator", command={"resume": "The letter came March 3; it is an employer plan."})  # noqa: E501
    assert "plan" in asked["__interrupt__"][0]["value"]["question"]
    assert "appeal" in answer["messages"][-1]["content"].lower() and "__interrupt__" not in answer


async def test_wait_on_new_threads_and_multitask(client: LangGraphClient) -> None:
    values = await client.runs.wait(None, "navigator", input=user("I need a prior authorization"))
    assert values["messages"][-1]["type"] == "ai"

    new_id = str(uuid.uuid4())
    asked = await client.runs.wait(new_id, "navigator", input=user(ASKS_A_QUESTION), if_not_exists="create")
    assert asked["__interrupt__"][0]["value"]["question"]
    assert (await client.threads.get(new_id))["status"] == "interrupted"

    with pytest.raises(UnprocessableEntityError, match="events"):
        [part async for part in client.runs.stream(new_id, "navigator", input=user("hi"), stream_mode="events")]
    with pytest.raises(NotFoundError):
        await client.runs.create(str(uuid.uuid4()), "navigator", input=user("no such thread"))

    thread = await client.threads.create()
    first = await client.runs.create(thread["thread_id"], "navigator", input=user("I need a prior authorization"))
    with pytest.raises(ConflictError, match="busy"):
        await client.runs.create(thread["thread_id"], "navigator", input=user("another"), multitask_strategy="reject")
    with pytest.raises(UnprocessableEntityError, match="interrupt"):
        await client.runs.create(thread["thread_id"], "navigator", input=user("x"), multitask_strategy="interrupt")
    queued = await client.runs.create(thread["thread_id"], "navigator", input=user("And what is a copay?"),
                                      multitask_strategy="enqueue")
    await client.runs.join(thread["thread_id"], queued["run_id"])
    statuses = {r["run_id"]: r["status"] for r in await client.runs.list(thread["thread_id"])}
    assert statuses == {first["run_id"]: "success", queued["run_id"]: "success"}


async def test_join_a_stream_after_the_server_restarted(client: LangGraphClient, server: ServeProcess,
                                                        api_key: str) -> None:
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "navigator", input=user(ASKS_A_QUESTION),
                                   stream_mode=["values", "updates"])
    seen = []
    async for part in client.runs.join_stream(thread["thread_id"], run["run_id"], last_event_id="-1"):
        seen.append(part)
        if len(seen) == 3:
            break
    assert seen[0].event == "metadata" and all(part.id for part in seen)

    assert server.stop() == 0
    server.start()

    async with get_client(url=f"{server.base}/lg", api_key=api_key) as fresh:
        rest = [part async for part in fresh.runs.join_stream(thread["thread_id"], run["run_id"],
                                                              last_event_id=seen[-1].id)]
        everything = [part async for part in fresh.runs.join_stream(thread["thread_id"], run["run_id"])]
    assert rest[-1].event == "end"
    assert [(p.id, p.event, p.data) for p in seen + rest] == [(p.id, p.event, p.data) for p in everything]
    assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "interrupted"


async def test_a_stream_cut_by_a_restart_carries_on_by_itself(client: LangGraphClient, server: ServeProcess,
                                                              serve_dsn: str) -> None:
    """The SDK follows the Location header with Last-Event-ID when the server goes away mid-stream."""
    thread = await client.threads.create()
    parts = []
    restart: asyncio.Task[None] | None = None

    def restart_server() -> None:
        assert server.stop() == 0
        server.start()

    async for part in client.runs.stream(thread["thread_id"], "navigator", input=user(ANSWERED),
                                         stream_mode=["values", "updates"]):
        parts.append(part)
        if len(parts) == 1:  # the run has started: restart the server under it
            restart = asyncio.create_task(asyncio.to_thread(restart_server))
    assert restart is not None
    await restart
    run_id = parts[0].data["run_id"]
    # The old server handed the run back mid-flight; the new one finished it.
    events = [row["event"] for row in await fetch_retrying(
        serve_dsn, "SELECT event FROM run_events WHERE run_id = $1 ORDER BY id", uuid.UUID(run_id))]
    assert "released" in events and events[-1] == "done", events
    assert parts[-1].event == "end"
    everything = [part async for part in client.runs.join_stream(thread["thread_id"], run_id)]
    assert [(p.id, p.event, p.data) for p in parts] == [(p.id, p.event, p.data) for p in everything]


async def test_revoked_api_key_is_401(server: ServeProcess, api_key: str) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30, headers={"x-api-key": api_key}) as http:
        second = (await http.post("/auth/api-keys", json={"name": "short-lived"})).json()
        listed = (await http.get("/auth/api-keys")).json()
        assert {k["name"] for k in listed} >= {"sdk test", "short-lived"} and all("key" not in k for k in listed)
        assert (await http.delete(f"/auth/api-keys/{second['id']}")).status_code == 204
    async with get_client(url=f"{server.base}/lg", api_key=second["key"]) as revoked:
        with pytest.raises(AuthenticationError):
            await revoked.assistants.search()


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed: the JavaScript client "
                                                          "test needs it (scripts/dev.py test installs its package)")
async def test_the_javascript_client_streams_a_run(server: ServeProcess, api_key: str) -> None:
    assert (JS_DIR / "node_modules" / "@langchain" / "langgraph-sdk").exists(), \
        "run `npm ci` in tests/js (python3 scripts/dev.py test does it)"
    done = await asyncio.to_thread(subprocess.run, ["node", str(JS_DIR / "stream_run.mjs")], cwd=JS_DIR,
                                   capture_output=True, text=True, timeout=120,
                                   env={"PATH": _path(), "LG_URL": f"{server.base}/lg", "LG_API_KEY": api_key})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["events"][0] == "metadata" and result["events"][-1] == "end"
    assert "values" in result["events"] and result["last_message"]["type"] == "ai"


def _path() -> str:
    node = shutil.which("node")
    assert node is not None
    return str(Path(node).parent)
