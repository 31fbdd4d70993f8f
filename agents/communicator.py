"""The chat communicator: the reply the person reads, and a short running summary."""

from __future__ import annotations

import json
import uuid
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage

from agents.crisis import topic_line
from agents.models import invoke_text
from agents.navigator import facts_before, latest_question
from agents.personal import with_citations
from agents.prompts import COMMUNICATOR_PROMPT
from agents.replies import DISCLAIMER, facts_line, format_sources, with_additions
from agents.state import COMMUNICATOR, NavigatorState

SUMMARY_LINES = 6


def _ensure_sources_and_note(text: str, documents: list[dict[str, Any]]) -> str:
    """Whatever the model wrote, the reply names its sources and says it is guidance."""
    text = text.strip()
    if documents and not any(doc["title"] in text or (doc.get("url") and doc["url"] in text) for doc in documents):
        text += "\n\nSources:\n" + "\n".join(format_sources(documents))
    if DISCLAIMER not in text:
        text += "\n\n" + DISCLAIMER
    return text


def update_summary(previous: str, intent: str, question: str, plan: dict[str, Any]) -> str:
    first_step = (plan.get("steps") or ["-"])[0]
    line = f"- {intent}: \"{question[:100]}\" -> {first_step[:100]}"
    lines = [ln for ln in previous.splitlines() if ln.strip()] + [line]
    return "\n".join(lines[-SUMMARY_LINES:])


def make_communicator_node(model: BaseChatModel) -> Any:
    async def communicator(state: NavigatorState) -> dict[str, Any]:
        found = state.get("navigator") or {}
        plan = state.get("strategy") or {}
        documents = [{k: doc.get(k) for k in ("slug", "title", "source", "url")}
                     for doc in found.get("documents") or []]
        question = found.get("text") or latest_question(state.get("messages", []))
        intent = state.get("intent") or "other"
        facts = found.get("facts") or {}
        payload = {"question": question, "intent": intent, "facts": facts, "plan": plan, "documents": documents}
        text = await invoke_text(model, COMMUNICATOR_PROMPT, json.dumps(payload))
        # The person's documents and profile are cited first, so a computed date they already state is not
        # repeated; "what you told me" names only what came from the conversation (or the caller).
        text = with_citations(text, found.get("personal"))
        text = with_additions(text, facts_line(facts_before(state)), list(found.get("computed") or []),
                              topic_line(question))
        text = _ensure_sources_and_note(text, documents)
        summary = update_summary(state.get("summary", ""), intent, question, plan)
        return {
            "current_step": COMMUNICATOR,
            "summary": summary,
            COMMUNICATOR: {"sources": [d["slug"] for d in documents], "reply_chars": len(text), "summary": summary},
            "messages": [AIMessage(content=text, id=str(uuid.uuid4()), name=COMMUNICATOR)],
        }

    return communicator
