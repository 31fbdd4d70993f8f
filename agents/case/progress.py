"""Where a case stands, derived from its state: the filing at hand, its deadlines with dates,
the stage, the next action and the timers worth keeping. Pure functions, shared by the nodes,
the reply that opens a case from a conversation, and tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from agents.case.dates import display_date, notice_time, parse_instant, resolve_date
from agents.case.rules import REMINDER_DAYS, Deadline, Level, decision_deadline, filing_deadline, ladder

# Facts the filing at hand needs before its letter can be drafted and its deadline computed.
FACT_NAMES = {"service": "what was denied (the service, drug or bill)",
              "denial_date": "when the denial notice arrived (or the date on it)"}


def levels(state: dict[str, Any]) -> list[Level]:
    return ladder(str(state.get("kind") or "appeal"), state.get("facts") or {})


def current_level(state: dict[str, Any]) -> tuple[int, Level]:
    ladder_ = levels(state)
    index = min(int(state.get("level") or 0), len(ladder_) - 1)
    return index, ladder_[index]


def record_for(records: list[dict[str, Any]] | None, level: int) -> dict[str, Any] | None:
    """The filing (or decision) made at `level`, if any (the latest one counts)."""
    found = [r for r in records or [] if int(r.get("level", -1)) == level]
    return found[-1] if found else None


def missing_facts(state: dict[str, Any], today: date) -> list[str]:
    """What the filing at hand still needs from the person."""
    index, level = current_level(state)
    facts = state.get("facts") or {}
    missing = []
    if not facts.get("service"):
        missing.append("service")
    if index == 0 and level.file_within is not None and not facts.get("appeal_deadline") \
            and resolve_date(facts.get("denial_date"), today) is None:
        missing.append("denial_date")
    return missing


def filing_start(state: dict[str, Any], index: int, today: date) -> date | None:
    """What the filing period at `index` runs from: the denial notice for the first filing,
    the previous filing's decision for the next ones."""
    if index == 0:
        return resolve_date((state.get("facts") or {}).get("denial_date"), today)
    decision = record_for(state.get("decisions"), index - 1)
    return resolve_date(decision.get("decided_on"), today) if decision else None


def deadlines_of(state: dict[str, Any], now: datetime) -> list[tuple[int, Deadline, str]]:
    """(level, deadline, status) for every filing so far and the one at hand, oldest first."""
    today = now.date()
    ladder_ = levels(state)
    index, _ = current_level(state)
    facts = state.get("facts") or {}
    found: list[tuple[int, Deadline, str]] = []
    for i in range(index + 1):
        level = ladder_[i]
        filing = record_for(state.get("filings"), i)
        stated = resolve_date(facts.get("appeal_deadline"), today) if i == 0 else None
        deadline = filing_deadline(level, filing_start(state, i, today), stated)
        if deadline is not None:
            if filing is not None:
                filed_on = resolve_date(filing.get("filed_on"), today) or today
                status = "met" if filed_on <= deadline.due else "late"
            else:
                status = "open" if today <= deadline.due else "passed"
            found.append((i, deadline, status))
        if filing is not None:
            decided = decision_deadline(level, facts, resolve_date(filing.get("filed_on"), today) or today,
                                        parse_instant(filing.get("at")) or now)
            decision = record_for(state.get("decisions"), i)
            if decision is not None:
                status = "met" if (resolve_date(decision.get("decided_on"), today) or today) <= decided.due else "late"
            else:
                moment = decided.due_at or notice_time(decided.due)
                status = "open" if now < moment else "passed"
            found.append((i, decided, status))
    return found


def stage_of(state: dict[str, Any]) -> str:
    if state.get("closed"):
        return "closed"
    index, level = current_level(state)
    if record_for(state.get("filings"), index) is not None:
        return "external_review_filed" if level.independent else "waiting_for_decision"
    if index > 0:
        return "decided"
    letter = state.get("letter") or {}
    return "drafted" if letter.get("level") == index else "gathering"


def deadline_key(index: int, deadline: Deadline) -> str:
    """Names one filing deadline of one level: a corrected date is a new deadline, with new reminders."""
    return f"{index}:{deadline.due.isoformat()}"


def open_filing_deadline(state: dict[str, Any], now: datetime) -> Deadline | None:
    index, _ = current_level(state)
    for level, deadline, _status in deadlines_of(state, now):
        if level == index and deadline.name.startswith("file_"):
            return deadline
    return None


def next_action(state: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What the person should do next, in words, with its date and what is missing."""
    stage = stage_of(state)
    index, level = current_level(state)
    if stage == "closed":
        return {"action": "none", "text": "Nothing more to do: the case is closed.", "due": None, "missing": []}
    missing = missing_facts(state, now.date())
    if stage in ("gathering", "drafted", "decided"):
        deadline = open_filing_deadline(state, now)
        by = f" by {display_date(deadline.due)}" if deadline else ""
        if missing:
            wanted = " and ".join(FACT_NAMES[name] for name in missing)
            return {"action": "provide_facts", "text": f"Tell us {wanted}, or add the denial letter, so the "
                    f"{level.label} can be drafted and its deadline worked out.", "due": None, "missing": missing}
        if deadline is not None and now.date() > deadline.due:
            text = (f"The deadline to file your {level.label} ({display_date(deadline.due)}) has passed. File it now "
                    "anyway, with the drafted letter, and ask for it to be accepted late for good cause (a hospital "
                    "stay, a notice that came late); your state's consumer assistance program helps for free.")
        elif stage == "decided":
            previous = levels(state)[index - 1]
            text = (f"Your {previous.label} was denied. Request the {level.label}{by}: the letter is drafted "
                    "(download it, fill in what is in [brackets], sign it and send it). Then tell us when you filed.")
        else:
            text = (f"Review the drafted letter for your {level.label}, fill in what is in [brackets], sign it and "
                    f"send it{by}. Then tell us when and how you filed it.")
        return {"action": "file", "text": text, "due": deadline.due.isoformat() if deadline else None,
                "missing": []}
    decision = [d for lvl, d, _s in deadlines_of(state, now) if lvl == index and not d.name.startswith("file_")]
    due = decision[-1] if decision else None
    when = f", due by {display_date(due.due)}" if due else ""
    return {"action": "wait", "text": f"Wait for {level.who}'s decision on your {level.label}{when}. Tell us "
            "when it arrives (and add the decision letter).", "due": due.due.isoformat() if due else None,
            "missing": []}


def wanted_timers(state: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The timers the case wants armed: reminders before the open filing deadline, a notice the
    day after it passes, an escalation when a decision is late. A reminder already due when its
    deadline became known is left out; one that came due since stays wanted (it fires late)."""
    if state.get("closed"):
        return []
    index, level = current_level(state)
    wanted: list[dict[str, Any]] = []
    filing = record_for(state.get("filings"), index)
    if filing is None:
        deadline = open_filing_deadline(state, now)
        if deadline is not None:
            since = parse_instant((state.get("known_since") or {}).get(deadline_key(index, deadline))) or now
            for days in REMINDER_DAYS:
                due = notice_time(deadline.due - timedelta(days=days))
                if due > since:
                    wanted.append({"key": f"L{index}:remind-{days}d:{deadline.due.isoformat()}", "purpose": "reminder",
                                   "due_at": due.isoformat(),
                                   "payload": {"level": index, "days": days, "deadline": deadline.due.isoformat()}})
            missed = notice_time(deadline.due + timedelta(days=1))
            if missed > since:
                wanted.append({"key": f"L{index}:missed:{deadline.due.isoformat()}", "purpose": "deadline_missed",
                               "due_at": missed.isoformat(),
                               "payload": {"level": index, "deadline": deadline.due.isoformat()}})
    elif record_for(state.get("decisions"), index) is None:
        filed_at = parse_instant(filing.get("at")) or now
        for lvl, deadline, _status in deadlines_of(state, now):
            if lvl == index and not deadline.name.startswith("file_"):
                due = deadline.due_at or notice_time(deadline.due)
                if due > filed_at:
                    wanted.append({"key": f"L{index}:escalate:{due.isoformat()}", "purpose": "escalation",
                                   "due_at": due.isoformat(),
                                   "payload": {"level": index, "due": deadline.due.isoformat(),
                                               "level_name": level.name}})
    return wanted


def deadline_view(state: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    return [deadline.as_dict(status) | {"level": level} for level, deadline, status in deadlines_of(state, now)]
