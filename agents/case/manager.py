"""The case manager: applies one signal to the case (it was opened; the person told it facts, a
document, a filing, a decision, a closing; a timer fired) and decides what a fired timer means now.

A timer's notification is decided here, in this step, so it is written with this step's
checkpoint (the step's projection carries it to the outbox in the same transaction). Its key
names the case and the timer: a timer fires once, so the person is told once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.case.dates import display_date, notice_time, parse_instant, resolve_date
from agents.case.progress import current_level, levels, next_action, record_for
from agents.case.rules import REMINDER_DAYS, decision_deadline
from agents.case.state import CASE_MANAGER, CaseState
from agents.facts import merge_facts
from agents.personal import KIND_LABELS, PLAN_KINDS, document_facts, profile_facts
from agents.ports import PersonalContext

SIGNAL_TYPES = ("opened", "facts", "document", "filed", "decision", "closed", "note", "timer")


def _ids(config: RunnableConfig) -> tuple[str | None, str]:
    configurable = config.get("configurable") or {}
    user = configurable.get("user_id")
    return (str(user) if user else None), str(configurable.get("thread_id"))


def entry(kind: str, at: datetime, text: str, **data: Any) -> dict[str, Any]:
    """One line of the case's timeline."""
    return {"type": kind, "at": at.isoformat(), "text": text, **data}


async def case_documents(personal: PersonalContext | None, user_id: str | None, state: dict[str, Any],
                         wanted: list[str]) -> list[dict[str, Any]]:
    """The person's documents this case reads: those attached to the conversation it came from,
    plan documents kept for every conversation, and those added to the case (newest first)."""
    if personal is None or user_id is None:
        return []
    source = state.get("source_conversation_id")
    context = await personal.known(user_id=user_id, conversation_id=source, every_document=True)
    return [d for d in context.get("documents") or []
            if str(d.get("id")) in wanted or (source and d.get("attached")) or d.get("kind") in PLAN_KINDS]


async def context_facts(personal: PersonalContext | None, user_id: str | None, state: dict[str, Any],
                        wanted: list[str]) -> dict[str, Any]:
    """Profile, then plan documents, then the case's letters, then the documents added to the case
    (older first within each, so the newest wins): a denial letter says who denied what, not a policy."""
    if personal is None or user_id is None:
        return {}
    source = state.get("source_conversation_id")
    context = await personal.known(user_id=user_id, conversation_id=source, every_document=False)
    facts = profile_facts(context.get("profile") or {})
    documents = list(reversed(await case_documents(personal, user_id, state, wanted)))
    weight = {True: 2, False: 0}
    documents.sort(key=lambda d: weight[str(d.get("id")) in wanted] + (d.get("kind") not in PLAN_KINDS))
    for document in documents:
        facts = merge_facts(facts, document_facts(document))
    return facts


def _reminder(state: dict[str, Any], payload: dict[str, Any], now: datetime) -> tuple[str | None, str, str]:
    """(why it is skipped, or None; title; body) for a reminder before a filing deadline."""
    index, level = current_level(state)
    if int(payload.get("level", -1)) != index or record_for(state.get("filings"), index) is not None:
        return "already filed", "", ""
    deadline = resolve_date(payload.get("deadline"), now.date())
    if deadline is None or now >= notice_time(deadline + timedelta(days=1)):
        return "deadline passed", "", ""
    days = int(payload.get("days", 0))
    if any(d < days and notice_time(deadline - timedelta(days=d)) <= now for d in REMINDER_DAYS):
        return "superseded by a later reminder", "", ""
    left = (deadline - now.date()).days
    when = "today" if left == 0 else ("tomorrow" if left == 1 else f"in {left} days")
    service = (state.get("facts") or {}).get("service") or "your claim"
    title = f"Your {level.label} for {service} is due {when}"
    body = (f"The deadline to file your {level.label} is {display_date(deadline)}. "
            + next_action(state, now)["text"])
    return None, title, body


def _escalation(state: dict[str, Any], payload: dict[str, Any], now: datetime) -> tuple[str | None, str, str]:
    index, level = current_level(state)
    filing = record_for(state.get("filings"), index)
    if int(payload.get("level", -1)) != index or filing is None:
        return "no longer waiting", "", ""
    if record_for(state.get("decisions"), index) is not None:
        return "already decided", "", ""
    facts = state.get("facts") or {}
    filed_on = resolve_date(filing.get("filed_on"), now.date()) or now.date()
    deadline = decision_deadline(level, facts, filed_on, parse_instant(filing.get("at")) or now)
    title = f"No decision on your {level.label} yet"
    body = (f"{level.who[0].upper() + level.who[1:]} had until {display_date(deadline.due)} to decide "
            f"({deadline.rule}). {level.escalation}")
    return None, title, body


def _missed(state: dict[str, Any], payload: dict[str, Any], now: datetime) -> tuple[str | None, str, str]:
    index, level = current_level(state)
    if int(payload.get("level", -1)) != index or record_for(state.get("filings"), index) is not None:
        return "already filed", "", ""
    deadline = resolve_date(payload.get("deadline"), now.date())
    title = f"The deadline for your {level.label} has passed"
    body = (f"It was {display_date(deadline)}. A plan may still accept a late {level.label} for good cause (a "
            "hospital stay, a notice that arrived late): call them, explain why, and file as soon as you can.")
    return None, title, body


TIMER_PURPOSES = {"reminder": _reminder, "escalation": _escalation, "deadline_missed": _missed}


def _on_timer(state: dict[str, Any], signal: dict[str, Any], now: datetime, case_id: str) -> dict[str, Any]:
    purpose = str(signal.get("purpose"))
    payload = signal.get("payload") or {}
    handler = TIMER_PURPOSES.get(purpose)
    skipped, title, body = ("case closed", "", "") if state.get("closed") else \
        (handler(state, payload, now) if handler else ("unknown purpose", "", ""))
    common = {"timer": signal.get("key"), "purpose": purpose}
    if skipped is not None:
        return {"timeline": [entry("timer_skipped", now, f"A {purpose.replace('_', ' ')} was not sent: {skipped}.",
                                   **common)], "notify": []}
    note = {"key": f"case:{case_id}:timer:{signal.get('timer_id')}", "kind": purpose, "title": title, "body": body,
            "at": now.isoformat(),
            "data": {"case_id": case_id, "stage": state.get("stage"), "timer_key": signal.get("key"),
                     "level": payload.get("level"), "deadline": payload.get("deadline") or payload.get("due")}}
    return {"timeline": [entry(purpose, now, title, **common)], "notify": [note]}


DATE_FACTS = ("denial_date", "appeal_deadline", "service_date")


def dated(facts: dict[str, Any], today: date) -> dict[str, Any]:
    """Facts with their dates as calendar dates: "yesterday" means the day before it was said,
    on every later pass too."""
    out = dict(facts)
    for name in DATE_FACTS:
        found = resolve_date(out.get(name), today)
        if found is not None:
            out[name] = found.isoformat()
    return out


def _describe_facts(facts: dict[str, Any]) -> str:
    shown = [f"{name.replace('_', ' ')}: {value}" for name, value in facts.items() if value not in (None, "", [])]
    return "; ".join(shown) if shown else "nothing new"


def make_case_manager_node(personal: PersonalContext | None = None) -> Any:
    async def case_manager(state: CaseState, config: RunnableConfig) -> dict[str, Any]:
        current: dict[str, Any] = dict(state)
        signal = dict(state.get("signal") or {})
        kind = signal.get("type")
        now = parse_instant(signal.get("at"))
        if now is None or kind not in SIGNAL_TYPES:
            raise ValueError(f"a case signal needs a known type and a time, not {kind!r} at {signal.get('at')!r}")
        user_id, case_id = _ids(config)
        update: dict[str, Any] = {"current_step": CASE_MANAGER, "notify": []}
        closed = current.get("closed")
        if kind == "opened":
            current |= {"kind": signal.get("kind") or "appeal",
                        "source_conversation_id": signal.get("source_conversation_id"),
                        "documents": [str(d) for d in signal.get("documents") or []]}
            facts = dated(merge_facts(await context_facts(personal, user_id, current, current["documents"]),
                                      signal.get("facts") or {}), now.date())
            update |= {"kind": current["kind"], "title": signal.get("title") or "Case", "facts": facts,
                       "documents": current["documents"], "source_conversation_id": current["source_conversation_id"],
                       "opened_at": now.isoformat(), "level": 0, "filings": [], "decisions": [], "closed": None,
                       "letter": None, "known_since": {},
                       "timeline": [entry("opened", now, f"Case opened: {signal.get('title') or 'Case'}.",
                                          event_id=signal.get("event_id"))]}
        elif kind == "timer":
            update |= _on_timer(current, signal, now, case_id)
        elif kind == "note" or (closed and kind != "closed"):
            text = str(signal.get("text") or "")
            ignored = kind != "note"
            update["timeline"] = [entry("ignored" if ignored else "note", now,
                                        f"The case is closed; a {kind} event changes nothing." if ignored else text,
                                        event_id=signal.get("event_id"))]
        elif kind == "facts":
            told = dated({k: v for k, v in (signal.get("facts") or {}).items() if v not in (None, "")}, now.date())
            update |= {"facts": merge_facts(current.get("facts") or {}, told),
                       "timeline": [entry("facts", now, f"You told us {_describe_facts(told)}.",
                                          event_id=signal.get("event_id"))]}
        elif kind == "document":
            update |= await _on_document(personal, user_id, current, signal, now)
        elif kind == "filed":
            update |= _on_filed(current, signal, now)
        elif kind == "decision":
            update |= await _on_decision(personal, user_id, current, signal, now)
        elif kind == "closed":
            if closed:
                update["timeline"] = [entry("ignored", now, "The case was already closed.",
                                            event_id=signal.get("event_id"))]
            else:
                reason = str(signal.get("reason") or "closed by you")
                update |= {"closed": {"at": now.isoformat(), "reason": reason},
                           "timeline": [entry("closed", now, f"Case closed: {reason}.",
                                              event_id=signal.get("event_id"))]}
        return update

    return case_manager


async def _on_document(personal: PersonalContext | None, user_id: str | None, state: dict[str, Any],
                       signal: dict[str, Any], now: datetime) -> dict[str, Any]:
    document_id = str(signal.get("document_id"))
    found = [d for d in await case_documents(personal, user_id, state, [document_id])
             if str(d.get("id")) == document_id]
    if not found:
        return {"timeline": [entry("document", now, "That document is no longer available; nothing was added.",
                                   event_id=signal.get("event_id"))]}
    documents = list(dict.fromkeys([*(state.get("documents") or []), document_id]))
    # What the person said stays on top; the document fills in what is missing.
    facts = dated(merge_facts(document_facts(found[0]), state.get("facts") or {}), now.date())
    label = KIND_LABELS.get(str(found[0].get("kind")), "Your document")
    return {"documents": documents, "facts": facts,
            "timeline": [entry("document", now, f"Added {label[0].lower() + label[1:]} ({found[0].get('filename')}).",
                               document_id=document_id,
                               event_id=signal.get("event_id"))]}


def _on_filed(state: dict[str, Any], signal: dict[str, Any], now: datetime) -> dict[str, Any]:
    index, level = current_level(state)
    filed_on = resolve_date(signal.get("date"), now.date()) or now.date()
    method = signal.get("method")
    filing = {"level": index, "filed_on": filed_on.isoformat(), "method": method, "at": now.isoformat()}
    filings = [f for f in state.get("filings") or [] if int(f.get("level", -1)) != index] + [filing]
    how = f" by {method}" if method else ""
    stage = "external_review_filed" if level.independent else "filed"
    timeline = [entry("filed", now, f"You filed the {level.label} on {display_date(filed_on)}{how}.", level=index,
                      event_id=signal.get("event_id"))]
    if stage != state.get("stage"):
        # The stage this step leaves the case in (the scheduler moves a filing on to waiting).
        timeline.append(entry("stage", now, f"Stage: {stage.replace('_', ' ')}.", stage=stage))
    return {"filings": filings, "stage": stage, "timeline": timeline}


async def _on_decision(personal: PersonalContext | None, user_id: str | None, state: dict[str, Any],
                       signal: dict[str, Any], now: datetime) -> dict[str, Any]:
    index, level = current_level(state)
    outcome = str(signal.get("outcome") or "denied")
    document_facts_: dict[str, Any] = {}
    documents = list(state.get("documents") or [])
    document_id = signal.get("document_id")
    if document_id:
        found = [d for d in await case_documents(personal, user_id, state, [str(document_id)])
                 if str(d.get("id")) == str(document_id)]
        if found:
            document_facts_ = found[0].get("facts") or {}
            documents = list(dict.fromkeys([*documents, str(document_id)]))
    decided_on = (resolve_date(signal.get("date"), now.date()) or resolve_date(document_facts_.get("denial_date"),
                                                                               now.date()) or now.date())
    decision = {"level": index, "outcome": outcome, "decided_on": decided_on.isoformat(), "at": now.isoformat(),
                "document_id": str(document_id) if document_id else None, "reason": document_facts_.get("reason")}
    decisions = [d for d in state.get("decisions") or [] if int(d.get("level", -1)) != index] + [decision]
    text = f"Decision on your {level.label} ({display_date(decided_on)}): {outcome.replace('_', ' ')}."
    update: dict[str, Any] = {"decisions": decisions, "documents": documents}
    timeline = [entry("decision", now, text, outcome=outcome, level=index, event_id=signal.get("event_id"))]
    ladder_ = levels(state)
    if outcome == "approved":
        update |= {"closed": {"at": now.isoformat(), "reason": "approved"}}
        timeline.append(entry("closed", now, "Case closed: approved."))
    elif index + 1 < len(ladder_):
        following = ladder_[index + 1]
        update |= {"level": index + 1}
        timeline.append(entry("next_level", now, f"Next: the {following.label}.", level=index + 1))
    else:
        update |= {"closed": {"at": now.isoformat(), "reason": f"final decision: {outcome.replace('_', ' ')}"}}
        timeline.append(entry("closed", now, "Case closed: that was the last level of review."))
    update["timeline"] = timeline
    return update
