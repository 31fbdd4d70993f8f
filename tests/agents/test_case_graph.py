"""The case graph and its rules without a database: dates as people say them, deadlines per plan
and level, what a timer means when it fires (late, after a filing, after a later reminder)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.case.dates import resolve_date
from agents.case.graph import build_case_graph, case_input
from agents.case.progress import deadlines_of, next_action, wanted_timers
from agents.case.rules import decision_deadline, ladder

TODAY = date(2026, 5, 20)


@pytest.mark.parametrize(("said", "meant"), [
    ("2026-03-03", date(2026, 3, 3)), ("March 3, 2026", date(2026, 3, 3)), ("03/03/2026", date(2026, 3, 3)),
    ("March 3", date(2026, 3, 3)), ("the 3rd of March", date(2026, 3, 3)), ("3/3", date(2026, 3, 3)),
    ("December 24", date(2025, 12, 24)), ("yesterday", date(2026, 5, 19)), ("two weeks ago", date(2026, 5, 6)),
    ("3 months ago", date(2026, 2, 19)), ("sometime", None), ("February 30", None), ("in March", None),
])
def test_dates_as_people_say_them(said: str, meant: date | None) -> None:
    assert resolve_date(said, TODAY) == meant


def test_external_review_counts_calendar_months() -> None:
    state = {"kind": "appeal", "level": 1, "facts": {"service": "MRI", "denial_date": "2026-03-03"},
             "filings": [{"level": 0, "filed_on": "2026-04-01", "at": "2026-04-01T12:00:00+00:00"}],
             "decisions": [{"level": 0, "outcome": "denied", "decided_on": "2026-10-31"}]}
    review = deadlines_of(state, datetime(2026, 11, 1, tzinfo=UTC))[-1][1]
    assert (review.name, review.due) == ("file_external_review", date(2027, 2, 28))


def _state(kind: str = "appeal", **facts: Any) -> dict[str, Any]:
    return {"kind": kind, "level": 0, "facts": {"service": "MRI", "denial_date": "2026-03-03", **facts}}


@pytest.mark.parametrize(("plan", "label", "due"), [
    ("employer", "internal appeal", "2026-08-30"), ("marketplace", "internal appeal", "2026-08-30"),
    ("medicaid", "plan appeal", "2026-05-02"), ("chip", "plan appeal", "2026-05-02"),
    ("medicare", "redetermination (first Medicare appeal)", "2026-07-01"),
    ("medicare_advantage", "plan reconsideration (first Medicare Advantage appeal)", "2026-05-07"),
])
def test_filing_deadlines_per_plan(plan: str, label: str, due: str) -> None:
    state = _state(plan_type=plan)
    ((_level, deadline, status),) = deadlines_of(state, datetime(2026, 4, 1, tzinfo=UTC))
    assert (deadline.label, deadline.due.isoformat(), status) == (f"File your {label}", due, "open")


def test_the_letters_own_date_wins() -> None:
    state = _state(plan_type="employer", appeal_deadline="2026-07-15")
    ((_level, deadline, _status),) = deadlines_of(state, datetime(2026, 4, 1, tzinfo=UTC))
    assert deadline.due == date(2026, 7, 15) and deadline.rule == "the date your denial letter gives"


def test_decision_times() -> None:
    internal, external = ladder("appeal", {"plan_type": "employer"})
    filed_at = datetime(2026, 4, 1, 17, 30, tzinfo=UTC)
    assert decision_deadline(internal, {}, filed_at.date(), filed_at).due == date(2026, 5, 1)
    assert decision_deadline(internal, {"care_received": True}, filed_at.date(), filed_at).due == date(2026, 5, 31)
    urgent = decision_deadline(internal, {"urgent": True}, filed_at.date(), filed_at)
    assert urgent.due_at == filed_at + timedelta(hours=72)
    assert decision_deadline(external, {}, filed_at.date(), filed_at).due == date(2026, 5, 16)
    request, appeal, review = ladder("prior_authorization", {"plan_type": "employer"})
    assert (request.name, appeal.name, review.name) == ("prior_authorization", "internal_appeal", "external_review")
    assert decision_deadline(request, {}, filed_at.date(), filed_at).due == date(2026, 4, 16)
    fast, *_ = ladder("prior_authorization", {"plan_type": "medicaid"})
    assert decision_deadline(fast, {}, filed_at.date(), filed_at).due == date(2026, 4, 8)
    dispute, complaint = ladder("billing_dispute", {})
    assert dispute.file_within is None and complaint.independent


def test_billing_dispute_has_no_filing_deadline_but_follows_up() -> None:
    state = {"kind": "billing_dispute", "level": 0, "facts": {"service": "ER visit"}}
    now = datetime(2026, 4, 1, 12, tzinfo=UTC)
    assert deadlines_of(state, now) == [] and wanted_timers(state, now) == []
    assert next_action(state, now)["action"] == "file"
    state["filings"] = [{"level": 0, "filed_on": "2026-04-01", "at": now.isoformat()}]
    (escalation,) = wanted_timers(state, now)
    assert escalation["purpose"] == "escalation" and escalation["due_at"] == "2026-05-01T14:00:00+00:00"


async def test_reminders_that_came_due_together_tell_the_person_once() -> None:
    graph = build_case_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "case-1", "user_id": "u1"}}
    opened = await graph.ainvoke(case_input({"type": "opened", "at": "2026-03-10T12:00:00+00:00", "kind": "appeal",
                                             "facts": {"service": "MRI", "denial_date": "2026-03-03"}}),
                                 config, durability="sync")
    reminders = {t["payload"]["days"]: t for t in opened["timers"] if t["purpose"] == "reminder"}
    # Both reminders fire late, after downtime, on August 28: the 14-day one is superseded.
    late = "2026-08-28T09:00:00+00:00"
    first = await graph.ainvoke(case_input({"type": "timer", "at": late, "timer_id": "t14", **reminders[14]}), config,
                                durability="sync")
    assert first["timeline"][-1]["type"] == "timer_skipped" and "superseded" in first["timeline"][-1]["text"]
    snapshot = await graph.aget_state(config)
    assert snapshot.values["notify"] == []
    second = await _manager_step(graph, config, {"type": "timer", "at": late, "timer_id": "t3", **reminders[3]})
    (note,) = second["notify"]
    assert note["key"] == "case:case-1:timer:t3" and "due in 2 days" in note["title"]
    # After filing, a reminder that was already queued is not sent.
    await graph.ainvoke(case_input({"type": "filed", "at": late, "date": "2026-08-28"}), config, durability="sync")
    after = await _manager_step(graph, config, {"type": "timer", "at": late, "timer_id": "t3b", **reminders[3]})
    assert after["notify"] == [] and "already filed" in after["timeline"][-1]["text"]


async def _manager_step(graph: Any, config: dict[str, Any], signal: dict[str, Any]) -> dict[str, Any]:
    """The state right after the case manager's step (its notifications are that step's effect)."""
    await graph.ainvoke(case_input(signal), config, durability="sync")
    history = [s async for s in graph.aget_state_history(config)]
    return next(s.values for s in history if s.values.get("current_step") == "case_manager")
