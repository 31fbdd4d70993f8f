"""The patient navigator: intent, facts, knowledge; asks the person when a needed fact is missing.

Classification and retrieval happen in `navigator`, which completes (so the
intent is stored even while the graph waits); the question to the person is a
separate `clarify` step that calls `interrupt()`, so resuming does not repeat
the model call or the search.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt

from agents.guard import mask_sensitive
from agents.models import invoke_structured
from agents.personal import citations, known_facts, load_context, rank_with_passages
from agents.ports import PersonalContext, Retriever
from agents.prompts import FACTS_PROMPT, NAVIGATOR_PROMPT
from agents.rules import merge_facts, missing_facts, question_for
from agents.schemas import Facts, NavigatorAnalysis
from agents.state import CLARIFY, NAVIGATOR, NavigatorState

RETRIEVE_LIMIT = 4
# Facts that describe one question, not the person; they do not carry over to the next question.
PER_QUESTION_FACTS = ("denial_date", "dates", "amounts", "service")


def latest_question(messages: list[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""


def _with_denial_date(intent: str, facts: dict[str, Any]) -> dict[str, Any]:
    if intent == "claim_denial_appeal" and not facts.get("denial_date") and facts.get("dates"):
        facts = {**facts, "denial_date": facts["dates"][0]}
    return facts


def make_navigator_node(model: BaseChatModel, retriever: Retriever, personal: PersonalContext | None = None) -> Any:
    async def navigator(state: NavigatorState, config: RunnableConfig) -> dict[str, Any]:
        question = latest_question(state.get("messages", []))
        previous = state.get("navigator") or {}
        known = {k: v for k, v in (previous.get("facts") or {}).items() if k not in PER_QUESTION_FACTS}
        # The person's profile and documents are known too, below what they said in the conversation.
        context = await load_context(personal, config, question)
        known = merge_facts(known_facts(context), known)
        payload = {"question": question, "summary": state.get("summary", ""),
                   "previous_intent": state.get("intent"), "known_facts": known}
        analysis = await invoke_structured(model, NavigatorAnalysis, NAVIGATOR_PROMPT, json.dumps(payload))
        intent = analysis.intent
        facts = merge_facts(known, _with_denial_date(intent, analysis.facts.model_dump()))
        query = analysis.search_query or question
        documents = await retriever(query, intent=intent, limit=RETRIEVE_LIMIT)
        documents = await rank_with_passages(personal, config, query, documents)
        missing = missing_facts(intent, facts)
        return {
            "intent": intent,
            "current_step": NAVIGATOR,
            NAVIGATOR: {
                "intent": intent,
                "text": question,
                "confidence": analysis.confidence,
                "facts": facts,
                "missing": missing,
                "question": question_for(missing) if missing else None,
                "documents": documents,
                "personal": citations(context, intent, facts),
            },
        }

    return navigator


def make_clarify_node(model: BaseChatModel) -> Any:
    async def clarify(state: NavigatorState) -> dict[str, Any]:
        found = dict(state.get("navigator") or {})
        question = str(found.get("question") or "Could you tell me more?")
        answer = interrupt({"question": question, "missing": found.get("missing", []), "intent": state.get("intent")})
        if isinstance(answer, dict):
            answer = answer.get("answer") or answer.get("input") or json.dumps(answer)
        answer_text = mask_sensitive(str(answer))
        payload = {"question": question, "answer": answer_text}
        extracted = await invoke_structured(model, Facts, FACTS_PROMPT, json.dumps(payload))
        intent = str(state.get("intent") or "other")
        facts = merge_facts(found.get("facts") or {}, _with_denial_date(intent, extracted.model_dump()))
        found.update(facts=facts, missing=missing_facts(intent, facts), answer=answer_text)
        return {
            "current_step": CLARIFY,
            NAVIGATOR: found,
            "messages": [AIMessage(content=question, id=str(uuid.uuid4()), name=NAVIGATOR),
                         HumanMessage(content=answer_text, id=str(uuid.uuid4()))],
        }

    return clarify
