"""The offline navigator on labelled questions, and its fact extraction."""

from __future__ import annotations

import pytest

from agents.rules import classify_intent, extract_facts
from agents.state import INTENTS
from tests.agents.labelled_questions import HELD_OUT_QUESTIONS, LABELLED_QUESTIONS


def accuracy(questions: list[tuple[str, str]]) -> tuple[float, list[tuple[str, str, str]]]:
    wrong = [(q, expected, classify_intent(q)[0]) for q, expected in questions if classify_intent(q)[0] != expected]
    return 1 - len(wrong) / len(questions), wrong


def test_labelled_set_is_large_varied_and_covers_every_intent() -> None:
    questions = LABELLED_QUESTIONS + HELD_OUT_QUESTIONS
    assert len(LABELLED_QUESTIONS) >= 80
    assert {intent for _, intent in questions} == set(INTENTS)
    assert len({q for q, _ in questions}) == len(questions)


def test_offline_navigator_classifies_at_least_90_percent(capsys: pytest.CaptureFixture[str]) -> None:
    tuned, tuned_wrong = accuracy(LABELLED_QUESTIONS)
    held_out, held_wrong = accuracy(HELD_OUT_QUESTIONS)
    combined, _ = accuracy(LABELLED_QUESTIONS + HELD_OUT_QUESTIONS)
    with capsys.disabled():
        print(f"\nintent accuracy: labelled {tuned:.1%} ({len(LABELLED_QUESTIONS)} questions), "
              f"held-out {held_out:.1%} ({len(HELD_OUT_QUESTIONS)}), combined {combined:.1%}")
        for question, expected, got in tuned_wrong + held_wrong:
            print(f"  miss: {question!r}: expected {expected}, got {got}")
    assert tuned >= 0.90
    assert combined >= 0.90


@pytest.mark.parametrize(("text", "expected"), [
    ("My Medicare Advantage plan in Florida denied my $1,250 MRI on March 3, 2025",
     {"plan_type": "medicare", "state": "FL", "service": "MRI", "amounts": ["$1,250"], "dates": ["March 3, 2025"]}),
    ("I have insurance through my job in new york, got the letter 2 weeks ago",
     {"plan_type": "employer", "state": "NY", "dates": ["2 weeks ago"]}),
    ("bought a plan on healthcare.gov, live in TX, letter came 04/12/2025",
     {"plan_type": "marketplace", "state": "TX", "dates": ["04/12/2025"]}),
    ("medi-cal won't cover my insulin", {"plan_type": "medicaid", "service": "insulin", "state": None}),
    ("I'm uninsured and need a colonoscopy, it costs 900 dollars",
     {"plan_type": "uninsured", "service": "colonoscopy", "amounts": ["900 dollars"]}),
    ("or maybe not, in any case", {"state": None, "plan_type": None, "dates": []}),
])
def test_fact_extraction(text: str, expected: dict[str, object]) -> None:
    facts = extract_facts(text)
    for key, value in expected.items():
        assert facts[key] == value, (key, facts)


def test_nothing_recognisable_is_other_with_low_confidence() -> None:
    assert classify_intent("hello there") == ("other", 0.5)
