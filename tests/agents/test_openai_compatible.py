"""LLM_PROVIDER=openai: the real langchain-openai client over real HTTP against a local fake server."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.crisis import detect_risk
from agents.graph import build_graph, resume_input, user_input
from agents.models import ModelUnavailable, build_model
from agents.outcome import read_outcome
from agents.replies import DISCLAIMER
from tests.agents.fake_openai import CANNED, FakeOpenAI, closed_port_url

API_KEY = "sk-test-key-never-printed"


class CollectingRecorder:
    """The RiskRecorder port, in memory."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def openai_graph(base_url: str, *, timeout: float = 5.0, max_retries: int = 1) -> Any:
    model = build_model("openai", base_url=base_url, api_key=API_KEY, model_name="fake-model", timeout=timeout,
                        max_retries=max_retries)
    return build_graph(checkpointer=InMemorySaver(), model=model)


async def run(graph: Any, text: str) -> dict[str, Any]:
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4())}}
    await graph.ainvoke(user_input(text), config, durability="sync")
    return await read_outcome(graph, config)


async def test_structured_navigator_and_strategy_over_http() -> None:
    with FakeOpenAI() as server:
        outcome = await run(openai_graph(server.base_url), "My MRI claim was denied in Texas. What now?")
    assert outcome.status == "answered" and outcome.intent == "claim_denial_appeal"
    assert outcome.steps[-1].startswith("Request external review")
    assert outcome.reply.startswith("Short answer: appeal within 180 days.")
    # The node adds what a model may leave out: the sources and the note.
    assert "Sources:" in outcome.reply and outcome.reply.endswith(DISCLAIMER)
    schemas = [((r.get("response_format") or {}).get("json_schema") or {}).get("name") for r in server.requests]
    assert schemas == ["RiskJudgement", "NavigatorAnalysis", "StrategyPlan", None]
    assert all(r["model"] == "fake-model" for r in server.requests)
    assert server.headers[0]["authorization"] == f"Bearer {API_KEY}"


async def test_transient_error_is_retried_with_backoff() -> None:
    with FakeOpenAI(mode="flaky") as server:
        outcome = await run(openai_graph(server.base_url, max_retries=2), "Is my MRI covered?")
    assert outcome.status == "answered"
    assert len(server.requests) == 5  # one 503, then risk, navigator, strategy, communicator


async def test_server_down_is_a_clear_error_not_a_hang() -> None:
    graph = openai_graph(closed_port_url(), max_retries=1)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        await run(graph, "Is my MRI covered?")
    assert time.monotonic() - started < 10
    assert "unreachable" in str(caught.value) and "OPENAI_BASE_URL" in str(caught.value)
    assert API_KEY not in str(caught.value)


async def test_server_that_hangs_times_out_with_a_clear_error() -> None:
    with FakeOpenAI(mode="hang", hang_seconds=5) as server:
        graph = openai_graph(server.base_url, timeout=0.5, max_retries=1)
        started = time.monotonic()
        with pytest.raises(ModelUnavailable) as caught:
            await run(graph, "Is my MRI covered?")
        elapsed = time.monotonic() - started
    assert "timed out" in str(caught.value)
    assert elapsed < 4, elapsed  # two attempts of 0.5 s plus backoff, not the server's 5 s
    assert len(server.requests) == 2


async def test_the_models_judgement_adds_urgency_the_rules_missed() -> None:
    # Words no rule knows, that a model reading meaning flags: the model alone makes it urgent.
    indirect = "I've made my peace and sorted out who gets the cat after this week"
    assert detect_risk(indirect) is None
    recorder = CollectingRecorder()
    with FakeOpenAI(urgent_markers=("who gets the cat",)) as server:
        model = build_model("openai", base_url=server.base_url, api_key=API_KEY, model_name="fake-model",
                            timeout=5.0, max_retries=1)
        graph = build_graph(checkpointer=InMemorySaver(), model=model, risk_recorder=recorder)
        outcome = await run(graph, indirect)
        calm = await run(graph, "Is my MRI covered?")
    assert outcome.status == "urgent" and "988" in outcome.reply.splitlines()[0]
    assert [call["category"] for call in recorder.calls] == ["self_harm"]
    assert calm.status == "answered"
    schemas = [((r.get("response_format") or {}).get("json_schema") or {}).get("name") for r in server.requests]
    assert schemas[0] == "RiskJudgement" and schemas.count("RiskJudgement") == 2
    assert indirect in server.requests[0]["messages"][-1]["content"]


async def test_the_model_never_overrides_the_rules() -> None:
    # The fake judges every message "not urgent"; the rules' finding stands, and the model is not even asked.
    with FakeOpenAI() as server:
        outcome = await run(openai_graph(server.base_url),
                            "there's no point going on, I just want to disappear forever")
    assert outcome.status == "urgent" and "988" in outcome.reply
    assert server.requests == []


async def test_the_model_judges_the_answer_to_a_question_too() -> None:
    # A navigator that knows neither the plan nor the date asks; the answer is judged like a message.
    unknown = {**CANNED["NavigatorAnalysis"], "facts": {"plan_type": None, "denial_date": None, "dates": []}}
    recorder = CollectingRecorder()
    with FakeOpenAI(urgent_markers=("who gets the cat",), canned={"NavigatorAnalysis": unknown}) as server:
        model = build_model("openai", base_url=server.base_url, api_key=API_KEY, model_name="fake-model",
                            timeout=5.0, max_retries=1)
        graph = build_graph(checkpointer=InMemorySaver(), model=model, risk_recorder=recorder)
        config: Any = {"configurable": {"thread_id": str(uuid.uuid4())}}
        await graph.ainvoke(user_input("My claim was denied. What now?"), config, durability="sync")
        assert (await read_outcome(graph, config)).status == "needs_input"
        await graph.ainvoke(resume_input("doesn't matter now, I've sorted out who gets the cat"), config,
                            durability="sync")
        outcome = await read_outcome(graph, config)
    assert outcome.status == "urgent" and "988" in outcome.reply
    assert [call["category"] for call in recorder.calls] == ["self_harm"]


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ValueError, match="LLM_PROVIDER"):
        build_model("anthropic-but-misspelled")
