"""Facts carried across turns and used: merged once, never asked again, dates computed, waits compared."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.dates import add_months, find_dates
from agents.deadlines import appeal_deadlines, costs, enrollment_windows, waiting_verdicts
from agents.facts import FACT_KEYS, merge_facts
from agents.graph import build_graph, resume_input, user_input
from agents.outcome import RunOutcome, read_outcome
from agents.schemas import Facts


@pytest.fixture(scope="module")
def graph() -> Any:
    return build_graph(checkpointer=InMemorySaver())


class Conversation:
    """One thread, on a fixed day; `say` answers the graph's question when one waits."""

    def __init__(self, graph: Any, today: str = "2026-06-15", **input_extra: Any) -> None:
        self.graph = graph
        self.config: Any = {"configurable": {"thread_id": str(uuid.uuid4()), "today": today}}
        self.extra = input_extra

    async def say(self, text: str) -> RunOutcome:
        before = await read_outcome(self.graph, self.config)
        graph_input = resume_input(text) if before.status == "needs_input" else user_input(text, **self.extra)
        await self.graph.ainvoke(graph_input, self.config, durability="sync")
        return await read_outcome(self.graph, self.config)

    async def values(self) -> dict[str, Any]:
        return dict((await self.graph.aget_state(self.config)).values)


# --- the merge ---------------------------------------------------------------------------------------

def test_later_layers_win_lists_unite_and_unknowns_never_erase() -> None:
    profile = {"plan_type": "employer", "insurer": "Aetna", "state": "TX", "amounts": ["$100"]}
    conversation = {"plan_type": "marketplace", "state": None, "amounts": ["$250", "$100"], "service": ""}
    assert merge_facts(profile, conversation) == {"plan_type": "marketplace", "insurer": "Aetna", "state": "TX",
                                                  "amounts": ["$100", "$250"]}
    assert merge_facts(None, {}, conversation)["plan_type"] == "marketplace"


def test_documented_keys_are_the_schema_a_model_fills() -> None:
    assert set(Facts.model_fields) == set(FACT_KEYS)


# --- dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("said", "today", "direction", "expected"), [
    ("the letter came March 3", date(2026, 6, 15), "past", "2026-03-03"),
    ("the letter came December 20", date(2026, 1, 10), "past", "2025-12-20"),  # across the year
    ("it is due January 5", date(2026, 12, 20), "future", "2027-01-05"),
    ("it came two weeks ago", date(2026, 3, 5), "past", "2026-02-19"),  # across the month
    ("dated 2/29", date(2028, 3, 10), "past", "2028-02-29"),  # leap day
    ("dated 2/29", date(2027, 3, 10), "past", "2024-02-29"),  # the last year that had one
    ("I turn 65 in August", date(2026, 6, 15), "future", "2026-08"),
    ("born on the 3rd of May", date(2026, 6, 15), "past", "2026-05-03"),
    ("on 2025-11-30", date(2026, 6, 15), "past", "2025-11-30"),
])
def test_dates_as_people_say_them(said: str, today: date, direction: str, expected: str) -> None:
    found = find_dates(said, today, lambda start, end: direction)
    assert [m.value for m in found] == [expected]


def test_months_are_added_to_the_last_day_when_the_day_does_not_exist() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2025, 10, 31), 4) == date(2026, 2, 28)


@pytest.mark.parametrize(("facts", "today", "sentence"), [
    ({"plan_type": "employer", "denial_date": "2026-03-03"}, date(2026, 6, 15),
     "Your internal appeal deadline is August 30, 2026: 180 days from March 3, 2026"),
    ({"plan_type": "marketplace", "denial_date": "2025-09-15"}, date(2025, 10, 1),
     "Your internal appeal deadline is March 14, 2026"),  # into the next year
    ({"plan_type": "marketplace", "denial_date": "2027-09-01"}, date(2027, 9, 2),
     "Your internal appeal deadline is February 28, 2028"),  # over a leap February
    ({"plan_type": "medicare", "plan_detail": "original_medicare", "denial_date": "2026-06-05"}, date(2026, 6, 15),
     "Ask for a redetermination by October 3, 2026"),
    ({"plan_type": "medicaid", "denial_date": "2026-06-01"}, date(2026, 6, 5), "file by June 11, 2026"),
    ({"plan_type": "employer", "denial_date": "2026-01-02"}, date(2026, 8, 1), "That date has passed"),
])
def test_appeal_deadlines_are_dates(facts: dict[str, Any], today: date, sentence: str) -> None:
    text = " ".join(line.text for line in appeal_deadlines(facts, today, set()))
    assert sentence in text, text


def test_external_review_runs_four_months_from_the_final_denial_even_at_a_month_end() -> None:
    lines = appeal_deadlines({"plan_type": "employer", "denial_date": "2026-10-31"}, date(2026, 11, 2),
                             {"external_review"})
    assert lines[0].text.startswith("Ask for the external review by February 28, 2027")


def test_a_deductible_without_what_is_met_assumes_nothing_met() -> None:
    # A summary of benefits gives the deductible alone; what is met comes only from the person.
    [read] = costs({"deductible": 1500.0})
    assert "met so far" not in read.text and "the first $1,500 of covered care in the plan year" in read.text
    [told] = costs({"deductible": 1500.0, "deductible_met": 600.0})
    assert "($600 met so far)" in told.text and "the next $900 of covered care" in told.text


def test_waits_are_compared_with_the_limit_that_applies() -> None:
    employer = waiting_verdicts({"plan_type": "employer", "waiting_days": 21}, date(2026, 6, 15),
                                "prior_authorization", "")
    assert "3 weeks (21 days) is past the limit of 15 days for a standard pre-service decision on an employer " \
           "plan" in employer[0].text and "in writing" in employer[0].text and "complaint" in employer[0].text
    medicaid = waiting_verdicts({"plan_type": "medicaid", "waiting_days": 5}, date(2026, 6, 15),
                                "prior_authorization", "")
    assert "within the limit of 7 calendar days" in medicaid[0].text
    appeal = waiting_verdicts({"plan_type": "employer", "appeal_date": "2026-05-01"}, date(2026, 6, 15),
                              "claim_denial_appeal", "my surgery appeal, the surgery hasn't happened yet")
    assert "45 days is past the limit of 30 days" in appeal[0].text and "external review" in appeal[0].text


def test_medicare_enrollment_window_counts_a_first_of_month_birthday_a_month_early() -> None:
    mid = enrollment_windows({"event": "turning_65", "event_date": "2027-01-15"}, date(2026, 6, 15))
    assert "from October 1, 2026 to April 30, 2027" in mid[0].text  # across the year
    first = enrollment_windows({"event": "turning_65", "event_date": "2026-07-01"}, date(2026, 3, 15))
    assert "from March 1, 2026 to September 30, 2026" in first[0].text


def test_a_newborn_gets_30_days_on_an_employer_plan_and_60_on_the_marketplace() -> None:
    employer = enrollment_windows({"plan_type": "employer", "event": "birth", "event_date": "2026-12-15"},
                                  date(2026, 12, 20))
    assert "by January 14, 2027" in employer[0].text and "30 days" in employer[0].text
    marketplace = enrollment_windows({"plan_type": "marketplace", "event": "birth", "event_date": "2028-01-01"},
                                     date(2028, 1, 5))
    assert "by March 1, 2028" in marketplace[0].text  # 60 days over a leap February
    assert "passed" not in employer[0].text + marketplace[0].text


def test_a_missed_enrollment_window_says_so_and_what_is_still_open() -> None:
    # A baby born June 2, asked about on November 26: the employer plan's 30 days ended July 2.
    [employer] = enrollment_windows({"plan_type": "employer", "event": "birth", "event_date": "2026-06-02"},
                                    date(2026, 11, 26))
    assert "by July 2, 2026" in employer.text and "That date has passed (147 days ago)" in employer.text
    assert "next open enrollment" in employer.text and "Medicaid and CHIP" in employer.text
    [marketplace] = enrollment_windows({"plan_type": "marketplace", "event": "birth", "event_date": "2026-06-02"},
                                       date(2026, 11, 26))
    assert "That date has passed (117 days ago)" in marketplace.text
    assert "November 1 to January 15" in marketplace.text
    [soon] = enrollment_windows({"plan_type": "employer", "event": "birth", "event_date": "2026-06-02"},
                                date(2026, 6, 25))
    assert "That is only 7 days away." in soon.text
    [lost] = enrollment_windows({"event": "job_loss", "event_date": "2026-01-10"}, date(2026, 6, 1))
    assert "Enroll in a Marketplace plan by March 11, 2026" in lost.text and "passed (82 days ago)" in lost.text


# --- across turns ------------------------------------------------------------------------------------

async def test_facts_from_turn_one_are_used_in_turn_three_without_a_question(graph: Any) -> None:
    chat = Conversation(graph)
    await chat.say("I live in Ohio and I have a plan I bought on healthcare.gov.")
    await chat.say("What's a deductible?")
    third = await chat.say("My CT scan claim was denied; the letter came June 1. How do I appeal?")
    assert third.status == "answered" and third.question is None
    answer = third.reply
    assert "Your internal appeal deadline is November 28, 2026" in answer
    assert "Based on what you told me: your Marketplace plan; Ohio; CT scan; the denial came June 1, 2026." in answer
    assert "Medicare" not in answer and "Part D" not in answer  # the rules for this plan only


async def test_a_follow_up_builds_on_the_earlier_turn(graph: Any) -> None:
    chat = Conversation(graph)
    first = await chat.say("My MRI claim was denied. The letter came March 3 and it's my employer plan.")
    assert "Your internal appeal deadline is August 30, 2026: 180 days from March 3, 2026" in first.reply
    follow = await chat.say("how do I ask for an expedited appeal?")
    assert follow.status == "answered" and follow.intent == "claim_denial_appeal"
    assert follow.reply.startswith("Ask for an expedited (urgent) appeal")
    assert "August 30, 2026" in follow.reply and "MRI" in follow.reply
    assert follow.reply.count("72 hours") == 1  # each fact once
    values = await chat.values()
    assert values["facts"]["denial_date"] == "2026-03-03" and values["facts"]["plan_type"] == "employer"


async def test_an_answer_to_the_question_is_kept_for_later_turns(graph: Any) -> None:
    chat = Conversation(graph, today="2026-01-20")
    asked = await chat.say("my claim for physical therapy got denied, what can I do?")
    assert asked.status == "needs_input"
    answered = await chat.say("The letter came December 29. It's my plan through work.")
    assert "Your internal appeal deadline is June 27, 2026" in answered.reply  # December 29, 2025 + 180 days
    later = await chat.say("and my prior authorization for an MRI has been pending 3 weeks")
    assert later.intent == "prior_authorization" and later.status == "answered"
    assert "past the limit of 15 days for a standard pre-service decision on an employer plan" in later.reply


async def test_facts_known_from_outside_are_used_and_the_conversation_overrides_them(graph: Any) -> None:
    chat = Conversation(graph, known_facts={"plan_type": "employer", "insurer": "Aetna", "state": "TX"})
    first = await chat.say("My knee surgery claim was denied, the letter came June 2.")
    assert first.status == "answered"  # the plan was known: not asked
    assert "your employer plan with Aetna" in first.reply and "November 29, 2026" in first.reply
    second = await chat.say("Actually it's a Marketplace plan I bought myself. When is my deadline?")
    values = await chat.values()
    assert values["navigator"]["facts"]["plan_type"] == "marketplace"
    assert values["known_facts"]["plan_type"] == "employer"  # the outside layer is untouched
    assert "your Marketplace plan with Aetna" in second.reply


async def test_a_newborn_on_an_employer_plan_gets_30_days_from_the_birth(graph: Any) -> None:
    chat = Conversation(graph, today="2026-10-15")
    answer = (await chat.say("We had a baby on October 2. How do I add her to my insurance through work?")).reply
    assert "Add your baby to your employer plan by November 1, 2026" in answer and "60 days" not in answer
