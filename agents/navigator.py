"""The patient navigator: intent, facts, knowledge; asks the person when a needed fact is missing.

Classification and retrieval happen in `navigator`, which completes (so the
intent is stored even while the graph waits); the question to the person is a
separate `clarify` step that calls `interrupt()`, so resuming does not repeat
the model call or the search.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt

from agents.dates import today_of
from agents.deadlines import computed_lines
from agents.extract import normalise_facts
from agents.facts import merge_facts
from agents.glossary import defined_terms, definitions_asked
from agents.guard import assess_risk, mask_sensitive, urgent_update
from agents.models import invoke_structured
from agents.personal import citations, known_facts, load_context, rank_with_passages
from agents.ports import PersonalContext, Retriever, RiskRecorder
from agents.prompts import FACTS_PROMPT, NAVIGATOR_PROMPT
from agents.rules import missing_facts, question_for
from agents.schemas import Facts, NavigatorAnalysis
from agents.sources import relevant_documents
from agents.state import CLARIFY, GUARD, NAVIGATOR, NavigatorState
from agents.topics import TOPIC_QUERIES, detect_topics

RETRIEVE_LIMIT = 6


def latest_question(messages: list[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""


def facts_before(state: NavigatorState, personal: dict[str, Any] | None = None) -> dict[str, Any]:
    """What is known before this message, lowest first: the person's profile and documents, the facts
    the caller passed from outside, then what was said in the conversation."""
    return merge_facts(personal, state.get("known_facts"), state.get("facts"))


def conclusions(intent: str, question: str, facts: dict[str, Any], today: date) -> dict[str, Any]:
    """Topics, missing facts and the sentences the facts make possible (stored, so every model sees them)."""
    topics = [topic.name for topic in detect_topics(question, intent, facts)]
    missing = [] if definitions_asked(question) else missing_facts(intent, facts, topics)
    computed = [line.text for line in computed_lines(intent, set(topics), facts, today, question)]
    return {"topics": topics, "missing": missing, "question": question_for(missing) if missing else None,
            "computed": computed}


def make_navigator_node(model: BaseChatModel, retriever: Retriever, personal: PersonalContext | None = None) -> Any:
    async def navigator(state: NavigatorState, config: RunnableConfig) -> dict[str, Any]:
        today = today_of(config)
        question = latest_question(state.get("messages", []))
        # The person's profile and documents, read before anything is asked: the lowest layer of facts.
        context = await load_context(personal, config, question)
        known = facts_before(state, known_facts(context))
        payload = {"question": question, "summary": state.get("summary", ""), "today": today.isoformat(),
                   "previous_intent": state.get("intent"), "known_facts": known}
        analysis = await invoke_structured(model, NavigatorAnalysis, NAVIGATOR_PROMPT, json.dumps(payload))
        intent = analysis.intent
        said = normalise_facts(analysis.facts.model_dump(), today, intent)
        facts = merge_facts(known, said)
        found = conclusions(intent, question, facts, today)
        query = " ".join([analysis.search_query or question] + [TOPIC_QUERIES.get(t, "") for t in found["topics"]])
        knowledge = await retriever(query.strip(), intent=intent, limit=RETRIEVE_LIMIT)
        ranked = await rank_with_passages(personal, config, analysis.search_query or question, knowledge, context)
        documents = relevant_documents(ranked, intent, facts, found["topics"], terms=defined_terms(question))
        return {
            "intent": intent,
            "current_step": NAVIGATOR,
            "facts": said,
            NAVIGATOR: {"intent": intent, "text": question, "confidence": analysis.confidence, "facts": facts,
                        "documents": documents, "today": today.isoformat(), **found,
                        "personal": citations(context, intent, facts)},
        }

    return navigator


def make_clarify_node(model: BaseChatModel, risk_recorder: RiskRecorder | None = None,
                      judge: BaseChatModel | None = None) -> Any:
    """Asks the question and reads the answer; an answer that signals danger gets the safety reply
    (the guard's check, since an answer to a question does not pass through the guard)."""

    async def clarify(state: NavigatorState, config: RunnableConfig) -> dict[str, Any]:
        found = dict(state.get("navigator") or {})
        question = str(found.get("question") or "Could you tell me more?")
        answer = interrupt({"question": question, "missing": found.get("missing", []), "intent": state.get("intent")})
        if isinstance(answer, dict):
            answer = answer.get("answer") or answer.get("input") or json.dumps(answer)
        answer_text = mask_sensitive(str(answer))
        asked = AIMessage(content=question, id=str(uuid.uuid4()), name=NAVIGATOR)
        said = HumanMessage(content=answer_text, id=str(uuid.uuid4()))
        finding = await assess_risk(answer_text, judge)
        if finding is not None:
            urgent = await urgent_update(finding, answer_text, said, config, risk_recorder)
            return {"current_step": CLARIFY, GUARD: urgent[GUARD], "messages": [asked, said, *urgent["messages"]]}
        today = today_of(config)
        payload = {"question": question, "answer": answer_text, "today": today.isoformat()}
        extracted = await invoke_structured(model, Facts, FACTS_PROMPT, json.dumps(payload))
        intent = str(state.get("intent") or "other")
        stated = normalise_facts(extracted.model_dump(), today, intent)
        facts = merge_facts(found.get("facts") or {}, stated)
        found.update(facts=facts, answer=answer_text,
                     **conclusions(intent, str(found.get("text") or ""), facts, today))
        found["missing"] = []  # asked once: what is still unknown is answered without it
        return {
            "current_step": CLARIFY,
            "facts": stated,
            NAVIGATOR: found,
            "messages": [asked, said],
        }

    return clarify
