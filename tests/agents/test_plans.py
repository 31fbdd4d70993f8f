"""Every intent yields a plan and a reply that name the concrete actions for it (offline model)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.graph import build_graph, resume_input, user_input
from agents.outcome import read_outcome
from agents.replies import DISCLAIMER


@pytest.fixture(scope="module")
def graph() -> Any:
    return build_graph(checkpointer=InMemorySaver())


TODAY = "2026-06-15"


async def ask(graph: Any, text: str, thread: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    config: Any = {"configurable": {"thread_id": thread or str(uuid.uuid4()), "today": TODAY}}
    await graph.ainvoke(user_input(text), config, durability="sync")
    return await read_outcome(graph, config), (await graph.aget_state(config)).values


CASES = [
    ("My MRI claim from my employer plan was denied on March 3. What now?", "claim_denial_appeal",
     ["internal appeal", "180 days", "external review", "4 months"]),
    ("Does my knee replacement need prior authorization?", "prior_authorization",
     ["prior authorization", "doctor's office", "72 hours", "appeal"]),
    ("Does my plan cover physical therapy in Texas?", "coverage_check",
     ["summary of benefits", "member services", "in network"]),
    ("How do I find an in-network dermatologist near Denver?", "find_provider",
     ["provider directory", "accept", "network (gap) exception"]),
    ("I'm uninsured, how much will an MRI cost? I'd like a good faith estimate", "cost_estimate",
     ["good faith estimate", "deductible", "$400"]),
    ("I just had a baby, how do I enroll in a marketplace plan?", "enrollment",
     ["60 days", "date of birth", "HealthCare.gov"]),
    ("I got a surprise bill from an out-of-network anesthesiologist at my in-network hospital",
     "billing_dispute", ["itemized bill", "No Surprises Act", "1-800-985-3059"]),
    ("My Part D plan won't cover my inhaler, it's not on the formulary", "prescription_drugs",
     ["formulary exception", "prescriber", "24 hours"]),
    ("I was laid off last week. Can I keep my insurance with COBRA?", "continuation_coverage",
     ["COBRA", "60 days", "18 months", "45 days", "Marketplace"]),
    ("can you help me understand my insurance card", "other", ["member ID", "member services"]),
]


@pytest.mark.parametrize(("question", "intent", "must_mention"), CASES, ids=[c[1] for c in CASES])
async def test_plan_and_reply_name_the_concrete_actions(
        graph: Any, question: str, intent: str, must_mention: list[str]) -> None:
    outcome, values = await ask(graph, question)
    assert outcome.status == "answered", outcome
    assert outcome.intent == intent
    plan = values["strategy"]
    assert plan["steps"] and plan["contacts"] and plan["if_step_fails"]
    assert outcome.steps == plan["steps"]
    reply = outcome.reply
    for phrase in must_mention:
        assert phrase.lower() in reply.lower(), phrase
    # Short answer first, then numbered steps, the sources relied on, and the one-line note.
    assert reply.index("1. ") > 0 and reply.startswith(plan["short_answer"])
    assert "Sources:" in reply and values["navigator"]["documents"]
    assert any(doc["url"] in reply for doc in values["navigator"]["documents"] if doc["url"])
    assert reply.rstrip().endswith(DISCLAIMER)
    assert values["current_step"] == "communicator" and values["summary"]


@pytest.mark.parametrize(("question", "intent", "starts"), [
    ("what is a deductible?", "cost_estimate", "A deductible is what you pay for covered care each plan year before"),
    ("What's the difference between an HMO and a PPO?", "other", "An HMO covers only its network"),
    ("what's a formulary?", "prescription_drugs", "A formulary is the plan's list of covered prescription drugs"),
])
async def test_a_question_about_what_something_is_gets_the_definition_first(
        graph: Any, question: str, intent: str, starts: str) -> None:
    outcome, _ = await ask(graph, question)
    assert outcome.intent == intent and outcome.reply.startswith(starts)
    # Short and to the point: no steps, deadlines, contacts or fallbacks that belong to other questions.
    assert "What to do:" not in outcome.reply and "Deadlines" not in outcome.reply
    assert "Who to contact" not in outcome.reply
    assert "Sources:" in outcome.reply


async def test_a_definition_cites_the_page_that_defines_the_term(graph: Any) -> None:
    outcome, _ = await ask(graph, "what is a deductible?")
    sources = outcome.reply.split("Sources:")[1]
    assert "healthcare.gov/glossary/deductible" in sources
    assert "Marketplace" not in sources  # not the intent's other pages (lowering Marketplace premiums)


async def test_each_rule_once_and_only_the_plans_own_rules(graph: Any) -> None:
    cobra, _ = await ask(graph, "I was laid off, can I keep my insurance through COBRA?")
    assert cobra.reply.count("60 days") <= 2 and cobra.reply.count("18 months") == 1
    marketplace, _ = await ask(graph, "My marketplace plan won't cover Tresiba, what can I do?")
    assert "Tresiba" in marketplace.reply and "Part D" not in marketplace.reply
    assert "insulin" not in marketplace.reply.lower()  # the drug as named, not generalised


async def test_medicare_and_medicaid_appeals_get_their_own_deadlines(graph: Any) -> None:
    medicare, _ = await ask(graph, "Original Medicare denied my wheelchair, the notice came yesterday. Appeal?")
    assert "120 days" in medicare.reply and "Medicare Summary Notice" in medicare.reply
    assert "180 days" not in medicare.reply
    medicaid, _ = await ask(graph, "Medicaid denied my home health services, I got the letter on May 2")
    assert "60 days" in medicaid.reply and "fair hearing" in medicaid.reply


async def test_appeal_without_facts_asks_then_resumes_with_the_answer(graph: Any) -> None:
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4()), "today": TODAY}}
    await graph.ainvoke(user_input("my claim got denied, how do i appeal?"), config, durability="sync")
    waiting = await read_outcome(graph, config)
    assert waiting.status == "needs_input" and waiting.intent == "claim_denial_appeal"
    assert "denial letter" in waiting.question and "employer" in waiting.question
    await graph.ainvoke(resume_input("It came two weeks ago. It's through my employer."), config, durability="sync")
    done = await read_outcome(graph, config)
    assert done.status == "answered" and "180 days" in done.reply
    # "two weeks ago", said on June 15, is June 1: the deadline is a date.
    assert "Your internal appeal deadline is November 28, 2026" in done.reply
    values = (await graph.aget_state(config)).values
    assert values["navigator"]["facts"]["plan_type"] == "employer"
    assert values["navigator"]["facts"]["denial_date"] == "2026-06-01"
    assert values["facts"]["denial_date"] == "2026-06-01"  # the conversation's facts carry it to the next turn
    assert values["navigator"]["missing"] == []


async def test_a_follow_up_in_the_same_thread_keeps_the_context(graph: Any) -> None:
    thread = str(uuid.uuid4())
    first, _ = await ask(graph, "I was laid off in Ohio, can I keep my insurance?", thread)
    second, values = await ask(graph, "and what if I can't afford that?", thread)
    assert first.intent == "continuation_coverage"
    assert second.status == "answered"
    assert values["navigator"]["facts"]["state"] == "OH"  # carried over from the first question
    assert len(values["summary"].splitlines()) == 2
    assert sum(1 for m in values["messages"] if m.type == "ai") == 2
