"""The strategy agent of a case: drafts the letter for the filing at hand once the facts allow.

It reads what the case knows (the person's facts, their profile and documents, the plan's own
wording from their plan documents) and asks the model for the letter (LETTER_PROMPT; the
offline model composes it from the facts). A letter is drafted again when the facts it was
written from change, and never for a filing already made.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig

from agents.case.dates import parse_instant
from agents.case.letter import LETTER_PROMPT
from agents.case.manager import case_documents, entry
from agents.case.progress import current_level, levels, missing_facts, open_filing_deadline, record_for
from agents.case.rules import decision_period
from agents.case.state import STRATEGY, CaseState
from agents.deadlines import PLAN_LABELS
from agents.models import invoke_text
from agents.personal import KIND_LABELS
from agents.ports import PersonalContext

WORDING_PASSAGES = 2


def facts_digest(state: dict[str, Any], index: int) -> str:
    """What a letter was written from: a changed fact (or document) makes it stale."""
    basis = {"facts": state.get("facts") or {}, "documents": state.get("documents") or [], "level": index,
             "decisions": state.get("decisions") or []}
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:16]


def needs_letter(state: dict[str, Any]) -> bool:
    if state.get("closed"):
        return False
    index, _ = current_level(state)
    if record_for(state.get("filings"), index) is not None:
        return False
    now = parse_instant((state.get("signal") or {}).get("at"))
    if now is None or missing_facts(state, now.date()):
        return False
    letter = state.get("letter") or {}
    return letter.get("level") != index or letter.get("digest") != facts_digest(state, index)


async def _plan_wording(personal: PersonalContext | None, user_id: str | None, state: dict[str, Any],
                        service: str) -> list[dict[str, Any]]:
    """Passages of the person's own plan documents about the service, to quote in the letter."""
    if personal is None or user_id is None or not service:
        return []
    passages = await personal.passages(user_id=user_id, query=service,
                                       conversation_id=state.get("source_conversation_id"), limit=WORDING_PASSAGES)
    return [{"text": p["body"], "page": p.get("page"), "source": KIND_LABELS.get(str(p.get("kind")), "Your document")
             .replace("Your", "My plan's", 1)} for p in passages if p.get("kind") in ("summary_of_benefits", "policy")]


def letter_payload(state: dict[str, Any], now: datetime, documents: list[dict[str, Any]],
                   wording: list[dict[str, Any]]) -> dict[str, Any]:
    index, level = current_level(state)
    facts = dict(state.get("facts") or {})
    plan = str(facts.get("plan_type") or "")
    if plan and not facts.get("plan_label"):
        facts["plan_label"] = PLAN_LABELS.get(plan, plan)
    deadline = open_filing_deadline(state, now)
    period, _why = decision_period(level, facts)
    payload: dict[str, Any] = {
        "level": level.name, "level_label": level.label, "title": level.letter_title, "kind": state.get("kind"),
        "facts": facts, "drafted_on": now.date().isoformat(), "urgent": bool(facts.get("urgent")),
        "decide_within": period.words(),
        "deadline": {"due": deadline.due.isoformat(), "rule": deadline.rule} if deadline else None,
        "documents": [{"kind": d.get("kind"), "filename": d.get("filename"),
                       "label": KIND_LABELS.get(str(d.get("kind")), "Document").removeprefix("Your ").capitalize()}
                      for d in documents],
        "plan_wording": wording, "reason": facts.get("denial_reason") or facts.get("reason"),
    }
    if index > 0:
        decision = record_for(state.get("decisions"), index - 1) or {}
        previous = levels(state)[index - 1]
        payload["previous_decision"] = {"label": f"decision on my {previous.label}",
                                        "decided_on": decision.get("decided_on"), "outcome": decision.get("outcome")}
        if decision.get("reason"):
            payload["reason"] = decision["reason"]
    return payload


def make_strategy_node(model: BaseChatModel, personal: PersonalContext | None = None) -> Any:
    async def strategy(state: CaseState, config: RunnableConfig) -> dict[str, Any]:
        current: dict[str, Any] = dict(state)
        now = parse_instant((current.get("signal") or {}).get("at"))
        assert now is not None  # needs_letter checked it
        index, level = current_level(current)
        user = (config.get("configurable") or {}).get("user_id")
        user_id = str(user) if user else None
        wanted = [str(d) for d in current.get("documents") or []]
        # Enclosed: the case's own documents (plan documents are quoted, not enclosed).
        documents = [d for d in await case_documents(personal, user_id, current, wanted)
                     if str(d.get("id")) in wanted or d.get("attached")]
        service = str((current.get("facts") or {}).get("service") or "")
        wording = await _plan_wording(personal, user_id, current, service)
        payload = letter_payload(current, now, documents, wording)
        text = (await invoke_text(model, LETTER_PROMPT, json.dumps(payload, default=str))).strip() + "\n"
        letter = {"level": index, "level_name": level.name, "title": level.letter_title, "text": text,
                  "drafted_at": now.isoformat(), "digest": facts_digest(current, index),
                  "deadline": payload["deadline"]}
        redraft = (current.get("letter") or {}).get("level") == index
        words = "redrafted with what changed" if redraft else "drafted"
        return {"current_step": STRATEGY, "letter": letter,
                "timeline": [entry("letter_drafted", now, f"Your {level.letter_title.lower()} was {words}.",
                                   level=index)]}

    return strategy

