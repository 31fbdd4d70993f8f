"""The scheduler: where the case stands after the signal, with dates. It sets the stage, the
deadlines, the next action and the timers to keep armed; the step's projection hands the timers
to PostgreSQL (armed once per key, those no longer wanted cancelled) in the checkpoint's own
transaction."""

from __future__ import annotations

from typing import Any

from agents.case.dates import parse_instant
from agents.case.manager import entry
from agents.case.progress import (
    current_level,
    deadline_key,
    deadline_view,
    next_action,
    open_filing_deadline,
    stage_of,
    wanted_timers,
)
from agents.case.state import SCHEDULER, CaseState

STAGE_WORDS = {"gathering": "gathering facts and documents", "drafted": "letter drafted",
               "filed": "filed", "waiting_for_decision": "waiting for the decision", "decided": "decided",
               "external_review_filed": "external review filed", "closed": "closed"}


def make_scheduler_node() -> Any:
    async def scheduler(state: CaseState) -> dict[str, Any]:
        current: dict[str, Any] = dict(state)
        now = parse_instant((current.get("signal") or {}).get("at"))
        if now is None:
            raise ValueError("a case signal needs a time")
        known = dict(current.get("known_since") or {})
        deadline = open_filing_deadline(current, now)
        if deadline is not None:
            index, _ = current_level(current)
            known.setdefault(deadline_key(index, deadline), now.isoformat())
        current["known_since"] = known
        stage = stage_of(current)
        update: dict[str, Any] = {
            "current_step": SCHEDULER, "stage": stage, "known_since": known,
            "deadlines": deadline_view(current, now), "next_action": next_action(current, now),
            "timers": wanted_timers(current, now), "notify": [],
        }
        if stage != state.get("stage"):
            update["timeline"] = [entry("stage", now, f"Stage: {STAGE_WORDS.get(stage, stage)}.", stage=stage)]
        return update

    return scheduler
