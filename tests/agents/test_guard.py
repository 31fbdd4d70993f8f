"""The guard: input limits, urgent-risk detection that skips the agents, masking of SSNs and cards."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.graph import build_graph, user_input
from agents.guard import CARD_MASK, MAX_MESSAGE_CHARS, SSN_MASK, detect_risk, mask_sensitive, validate_message
from agents.outcome import read_outcome


@pytest.mark.parametrize(("text", "masked"), [
    ("my SSN is 123-45-6789.", f"my SSN is {SSN_MASK}."),
    ("ssn 123 45 6789 please", f"ssn {SSN_MASK} please"),
    ("social security number: 123456789", f"social security number: {SSN_MASK}"),
    ("card 4111 1111 1111 1111 exp 12/27", f"card {CARD_MASK} exp 12/27"),
    ("paid with 5500-0000-0000-0004", f"paid with {CARD_MASK}"),
    ("amex 378282246310005", f"amex {CARD_MASK}"),
])
def test_masks_ssns_and_cards(text: str, masked: str) -> None:
    assert mask_sensitive(text) == masked
    assert mask_sensitive(masked) == masked  # idempotent


@pytest.mark.parametrize("text", [
    "claim number 1234567890123 was denied",  # not Luhn-valid: a claim number, kept
    "member id 123456789",  # nine digits without SSN context
    "call 1-800-318-2596 on 2025-03-03",
    "I owe $1,234.56",
])
def test_keeps_numbers_that_are_not_ssns_or_cards(text: str) -> None:
    assert mask_sensitive(text) == text


@pytest.mark.parametrize(("text", "category"), [
    ("I want to kill myself", "self_harm"),
    ("i dont want to live anymore, the bills are too much", "self_harm"),
    ("thinking about suicide because of medical debt", "self_harm"),
    ("My husband is having chest pain right now, which ER is covered?", "medical_emergency"),
    ("my mom is unconscious and not breathing", "medical_emergency"),
    ("I think I'm having a stroke, my face is drooping", "medical_emergency"),
    ("he said he is going to hurt me and the kids", "danger"),
])
def test_detects_urgent_situations(text: str, category: str) -> None:
    finding = detect_risk(text)
    assert finding is not None and finding.category == category


@pytest.mark.parametrize("text", [
    "I got a bill for chest pain tests at the ER last month, is it right?",
    "Does my plan cover a stroke rehab program?",
    "My claim for the heart attack hospital stay was denied",
    "how do I appeal a denied MRI",
])
def test_administrative_questions_about_conditions_are_not_urgent(text: str) -> None:
    assert detect_risk(text) is None


def test_validation_reasons() -> None:
    assert validate_message("   ") is not None
    reason = validate_message("x" * (MAX_MESSAGE_CHARS + 1))
    assert reason is not None and str(MAX_MESSAGE_CHARS) in reason
    assert validate_message("Is an MRI covered?") is None


class CollectingRecorder:
    """An in-memory implementation of the RiskRecorder port (the agents' side of the contract)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


async def run(graph: Any, text: str, user_id: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4()), "user_id": user_id}}
    await graph.ainvoke(user_input(text), config, durability="sync")
    return await read_outcome(graph, config), (await graph.aget_state(config)).values


async def test_urgent_message_gets_safety_reply_without_other_agents() -> None:
    recorder = CollectingRecorder()
    graph = build_graph(checkpointer=InMemorySaver(), risk_recorder=recorder)
    user = str(uuid.uuid4())
    outcome, values = await run(graph, "I want to end my life, my SSN is 123-45-6789", user)
    assert outcome.status == "urgent"
    assert "988" in outcome.reply and "911" in outcome.reply
    assert "navigator" not in values and "strategy" not in values and values["current_step"] == "guard"
    assert len(recorder.calls) == 1
    call = recorder.calls[0]
    assert call["category"] == "self_harm" and call["user_id"] == user
    assert "123-45-6789" not in call["excerpt"] and SSN_MASK in call["excerpt"]


async def test_empty_and_oversized_input_are_rejected_with_a_reason() -> None:
    graph = build_graph(checkpointer=InMemorySaver())
    outcome, values = await run(graph, "  ")
    assert outcome.status == "rejected" and "empty" in outcome.reply
    outcome, _ = await run(graph, "a" * (MAX_MESSAGE_CHARS + 10))
    assert outcome.status == "rejected" and str(MAX_MESSAGE_CHARS) in outcome.reply


async def test_guard_masks_a_message_that_reached_the_graph_unmasked() -> None:
    from langchain_core.messages import HumanMessage

    graph = build_graph(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4())}}
    raw = HumanMessage(content="My card 4111111111111111 was charged twice for one bill", id="m-1")
    await graph.ainvoke({"messages": [raw]}, config, durability="sync")
    values = (await graph.aget_state(config)).values
    human = [m for m in values["messages"] if m.type == "human"]
    assert [m.content for m in human] == [f"My card {CARD_MASK} was charged twice for one bill"]
    assert values["intent"] == "billing_dispute"
