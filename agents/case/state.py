"""The case graph's state: the signal it is processing, the case's facts and history, and what
the last pass concluded (stage, deadlines, next action, the timers it wants, what to tell).

Each pass of the graph processes one signal (the case was opened, the person told it something,
a timer fired) and ends; the thread's checkpoints carry the case between passes, for weeks.
`timeline` only grows (a reducer appends); everything else is replaced by the node that owns it.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict, get_args

WORKFLOW_TYPE = "case"
GRAPH_ID = "case"

# Node names (and the agent names of the projection).
CASE_MANAGER = "case_manager"  # applies the signal: facts, filings, decisions, what timers mean now
STRATEGY = "strategy"  # drafts the letter for the filing at hand
SCHEDULER = "scheduler"  # deadlines with dates, the next action, the timers to keep

Stage = Literal["gathering", "drafted", "filed", "waiting_for_decision", "decided", "external_review_filed",
                "closed"]
STAGES: tuple[str, ...] = get_args(Stage)


class CaseState(TypedDict, total=False):
    signal: dict[str, Any]
    current_step: str
    kind: str
    title: str
    facts: dict[str, Any]
    documents: list[str]
    source_conversation_id: str | None
    opened_at: str
    # Index into the case's ladder (rules.ladder) of the filing at hand.
    level: int
    # When each filing deadline became known ({"<level>:<date>": iso}): reminders due before then are not armed.
    known_since: dict[str, str]
    filings: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    closed: dict[str, Any] | None
    letter: dict[str, Any] | None
    stage: str
    deadlines: list[dict[str, Any]]
    next_action: dict[str, Any]
    # The timers the case wants armed now (key, purpose, due_at, payload): the step's effects.
    timers: list[dict[str, Any]]
    # What this pass decided to tell the person (key, kind, title, body, at, data): the step's effects.
    notify: list[dict[str, Any]]
    timeline: Annotated[list[dict[str, Any]], operator.add]
