"""The offline model: deterministic, rule-based, behind langchain-core's chat-model interface.

It does the agents' real work without a network: intent classification and
fact extraction by rules (`agents.rules`), plans from playbooks and the
retrieved knowledge (`agents.playbooks`), replies assembled from the plan.
`latency_ms` simulates a remote model's latency with `asyncio.sleep`, so load
and crash tests have realistic windows in flight.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel

from agents.crisis import detect_risk
from agents.dates import as_date
from agents.extract import extract_facts
from agents.playbooks import build_plan
from agents.prompts import task_of
from agents.replies import compose_reply
from agents.rules import classify_intent, score_intents

_QUERY_STOP = {"i", "my", "me", "the", "a", "an", "and", "or", "to", "of", "is", "it", "was", "what", "how", "do",
               "does", "can", "for", "in", "on", "now", "will", "be", "with", "that", "this", "so", "just", "got"}


_FOLLOW_UP = re.compile(r"(?i)^\s*(and|but|so|also|then|what if|what about|how about|ok(ay)?|thanks?,?)\b")
# Words that pull the intent's core documents into the search.
_QUERY_HINTS = {
    "claim_denial_appeal": "appeal denied external review",
    "prior_authorization": "prior authorization",
    "continuation_coverage": "cobra continuation",
    "prescription_drugs": "formulary drug exception",
    "billing_dispute": "bill dispute surprise",
    "enrollment": "enrollment special enrollment",
    "find_provider": "network provider directory",
    "cost_estimate": "cost deductible coinsurance estimate",
    "coverage_check": "covered benefits",
}


def _payload(messages: Sequence[BaseMessage]) -> tuple[str, dict[str, Any]]:
    system = next((str(m.content) for m in messages if isinstance(m, SystemMessage)), "")
    body = str(messages[-1].content) if messages else "{}"
    return _task_and_payload(system, body)


def _task_and_payload(system: str, body: str) -> tuple[str, dict[str, Any]]:
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        payload = {"question": body}
    return task_of(system), payload if isinstance(payload, dict) else {"question": str(payload)}


def _today(payload: dict[str, Any]) -> date:
    return as_date(payload.get("today")) or date.today()


def _navigator(payload: dict[str, Any]) -> dict[str, Any]:
    text = str(payload.get("question", ""))
    intent, confidence = classify_intent(text)
    previous = payload.get("previous_intent")
    # A follow-up in the same conversation ("and what if I can't afford that?") stays on its topic
    # unless it clearly names another.
    if previous and (intent == "other" or (_FOLLOW_UP.match(text) and score_intents(text)[intent] < 3.0)):
        intent, confidence = previous, 0.5
    words = [w.strip(".,?!:;'\"()") for w in text.lower().split()]
    query = " ".join([w for w in words if w and w not in _QUERY_STOP] + [_QUERY_HINTS.get(intent, "")])[:300]
    return {"intent": intent, "confidence": confidence, "facts": extract_facts(text, _today(payload)),
            "search_query": query}


def respond(task: str, payload: dict[str, Any]) -> str:
    """The offline model's answer to one task, as the text a remote model would return."""
    if task == "risk":
        finding = detect_risk(str(payload.get("message", "")))
        return json.dumps({"urgent": finding is not None, "kind": finding.kind if finding else "none",
                           "reason": "rules"})
    if task == "navigator":
        return json.dumps(_navigator(payload))
    if task == "facts":
        return json.dumps(extract_facts(str(payload.get("answer", "")), _today(payload)))
    if task == "strategy":
        plan = build_plan(str(payload.get("intent", "other")), payload.get("facts") or {},
                          payload.get("documents") or [], str(payload.get("question") or ""), _today(payload))
        return json.dumps(plan)
    if task == "communicator":
        return compose_reply(payload.get("plan") or {}, payload.get("documents") or [])
    if task == "letter":
        from agents.case.letter import compose_letter  # the case's strategy agent

        return compose_letter(payload)
    return "I can help with health-insurance questions."


class OfflineChatModel(BaseChatModel):
    """Deterministic rule-based chat model; no network."""

    latency_ms: int = 0

    @property
    def _llm_type(self) -> str:
        return "offline-rules"

    async def answer(self, system: str, payload: str) -> str:
        """The text this model answers a system prompt and a JSON payload with, called directly.

        What `ainvoke` returns too, without the chat-model machinery around it
        (callbacks, config, message objects): the agents' helpers in
        `agents.models` call this, which keeps the offline model's CPU cost per
        call to the rules themselves. (The work is the same; only the plumbing goes.)
        """
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        return respond(*_task_and_payload(system, payload))

    def _result(self, messages: list[BaseMessage]) -> ChatResult:
        task, payload = _payload(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=respond(task, payload)))])

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        return self._result(messages)

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        return self._result(messages)

    def with_structured_output(  # type: ignore[override]
        self, schema: type[BaseModel], *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, BaseModel]:
        """Parse the JSON this model writes into the schema (what a tool-calling model would return)."""
        parse: Callable[[BaseMessage], BaseModel] = lambda message: schema.model_validate_json(  # noqa: E731
            str(message.content))

        async def aparse(message: BaseMessage) -> BaseModel:  # in the loop, not in a worker thread
            return parse(message)

        return self | RunnableLambda(parse, afunc=aparse)
