""""Track this for me": the conversation graph's step that opens a case from the conversation.

When the person asks to track what the conversation is about, the guard routes the message
here instead of the navigator. The step reads the intent and facts (what the conversation
concluded, with anything this message adds), asks the `CaseTracker` port to open the case (or
find the one the conversation has), and replies with the deadline, the reminders it will send
and where the drafted letter is.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from agents.case.dates import display_date, parse_instant
from agents.case.progress import FACT_NAMES, missing_facts, open_filing_deadline
from agents.case.rules import REMINDER_DAYS
from agents.dates import today_of
from agents.extract import normalise_facts
from agents.facts import merge_facts
from agents.models import invoke_structured
from agents.navigator import latest_question
from agents.ports import CaseTracker
from agents.prompts import NAVIGATOR_PROMPT
from agents.replies import DISCLAIMER
from agents.schemas import NavigatorAnalysis

TRACK = "track"
TRACKABLE_INTENTS = ("claim_denial_appeal", "prior_authorization", "billing_dispute", "prescription_drugs")
KIND_WORDS = {"appeal": "appeal", "prior_authorization": "prior authorization", "billing_dispute": "billing dispute"}
_ASKS_TO_TRACK = re.compile(
    r"(?i)\b(track|keep track of|follow|watch|monitor)\s+(this|that|it|my (appeal|claim|case|denial|bill|request))"
    r"(\s+(for|with) me)?\b|\bopen (a|the) case\b|\bremind me (of|about) (the |my )?(deadline|dates?)\b|"
    r"\bset (up )?(a )?reminders?\b")


def asks_to_track(text: str) -> bool:
    return bool(_ASKS_TO_TRACK.search(text))


def tracking_reply(opened: dict[str, Any] | None, facts: dict[str, Any], intent: str | None = None) -> str:
    """What the person reads: the case, its deadline and reminders, or why nothing was opened."""
    if opened is None and intent in TRACKABLE_INTENTS:
        return ("I can't open a case from here: cases belong to conversations of the service (the web client or "
                f"POST /cases).\n\n{DISCLAIMER}")
    if opened is None:
        return ("I can keep track of an appeal, a prior authorization or a billing dispute. Tell me about the denial "
                "or the bill first (what was denied, when the notice came, the kind of plan), then ask me to track "
                f"it.\n\n{DISCLAIMER}")
    case_id = opened["case_id"]
    kind = str(opened.get("kind") or "appeal")
    now = parse_instant(opened.get("opened_at"))
    state = {"kind": kind, "facts": facts, "level": 0}
    parts = [(f"I'm tracking your {KIND_WORDS.get(kind, kind)}" if opened.get("created") else
              f"I'm already tracking this {KIND_WORDS.get(kind, kind)}") + f": case {case_id} ({opened.get('title')})."]
    if now is not None:
        deadline = open_filing_deadline(state, now)
        missing = missing_facts(state, now.date())
        if deadline is not None:
            reminders = [display_date(deadline.due - timedelta(days=d)) for d in REMINDER_DAYS
                         if deadline.due - timedelta(days=d) > now.date()]
            parts.append(f"Your deadline to file is {display_date(deadline.due)} ({deadline.rule})."
                         + (f" I'll remind you on {' and '.join(reminders)}." if reminders else ""))
        if missing:
            parts.append("To work out the deadline and draft the letter I still need "
                         + " and ".join(FACT_NAMES[name] for name in missing)
                         + ": tell the case, or upload the letter.")
        else:
            parts.append("The letter is being drafted: download it from the case (GET /cases/"
                         f"{case_id}/letter), fill in what is in [brackets], and tell the case when you file it. "
                         "If the plan does not decide in time, I'll tell you how to escalate.")
    parts.append(DISCLAIMER)
    return "\n\n".join(parts)


def make_track_node(model: BaseChatModel, tracker: CaseTracker) -> Any:
    async def track(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        messages = state.get("messages", [])
        text = latest_question(messages)
        today = today_of(config)
        # What the conversation concluded (with the person's profile and documents), then this message.
        known = merge_facts((state.get("navigator") or {}).get("facts"), state.get("facts"))
        payload = {"question": text, "summary": state.get("summary", ""), "today": today.isoformat(),
                   "previous_intent": state.get("intent"), "known_facts": known}
        analysis = await invoke_structured(model, NavigatorAnalysis, NAVIGATOR_PROMPT, json.dumps(payload))
        previous = state.get("intent")
        intent = previous if previous in TRACKABLE_INTENTS else analysis.intent
        facts = merge_facts(known, normalise_facts(analysis.facts.model_dump(), today, intent))
        facts = {key: value for key, value in facts.items() if key not in ("dates", "amounts")}
        configurable = config.get("configurable") or {}
        user_id, thread_id = configurable.get("user_id"), configurable.get("thread_id")
        opened = None
        if user_id and thread_id and intent in TRACKABLE_INTENTS:
            request = str(getattr(next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None), "id",
                                  None) or uuid.uuid4())
            opened = await tracker.track(user_id=str(user_id), conversation_id=str(thread_id), intent=intent,
                                         facts=facts, request_id=request)
        reply = tracking_reply(opened, facts, intent)
        return {"current_step": TRACK, "intent": intent,
                "messages": [AIMessage(content=reply, id=str(uuid.uuid4()), name="case_manager")]}

    return track
