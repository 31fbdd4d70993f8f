"""The security check that runs before any agent sees a message.

Input limits, masking of Social Security and payment-card numbers (so they
are never stored, logged or passed on), and urgent-risk detection that
answers at once with safety guidance and ends the run. The rules
(`agents.crisis`) decide for every provider; with a remote model its
judgement is added (either one makes a message urgent), never substituted.
The same check runs on the person's answer to a question (`clarify`).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from agents.crisis import RiskFinding, detect_risk
from agents.crisis_signals import CATEGORY
from agents.limits import MAX_MESSAGE_CHARS
from agents.models import invoke_structured
from agents.ports import RiskRecorder
from agents.prompts import RISK_PROMPT
from agents.safety import SAFETY_NOTE, safety_reply
from agents.schemas import RiskJudgement
from agents.state import GUARD, NavigatorState

__all__ = ["MAX_MESSAGE_CHARS", "SAFETY_NOTE", "RiskFinding", "assess_risk", "detect_risk", "mask_sensitive",
           "validate_message"]

SSN_MASK = "[SSN REDACTED]"
CARD_MASK = "[CARD REDACTED]"

_SSN_SEPARATED = re.compile(r"(?<![\d-])(\d{3})[- ](\d{2})[- ](\d{4})(?![\d-])")
_SSN_CONTEXT = re.compile(r"(?i)(ssn|social security(?: number| no\.?| #)?)(\W{0,5})(\d{9})(?!\d)")
_CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and _luhn_ok(digits):
        return CARD_MASK
    return match.group(0)


def mask_sensitive(text: str) -> str:
    """Replace US SSNs and Luhn-valid payment-card numbers; idempotent."""
    text = _CARD_CANDIDATE.sub(_mask_card, text)
    text = _SSN_SEPARATED.sub(SSN_MASK, text)
    return _SSN_CONTEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{SSN_MASK}", text)


def validate_message(text: str) -> str | None:
    """The reason a message cannot be processed, or None when it is fine."""
    if not text.strip():
        return "The message is empty: please type your insurance question."
    if len(text) > MAX_MESSAGE_CHARS:
        return (f"The message is {len(text)} characters long; the limit is {MAX_MESSAGE_CHARS}. "
                "Please shorten it to the question and the key facts.")
    return None


async def assess_risk(text: str, judge: BaseChatModel | None = None) -> RiskFinding | None:
    """The rules' finding; when they find nothing and a judge model is given, the model's.

    Either one raises urgency: the model is asked only when the rules are calm, and its
    "not urgent" never overrides the rules.
    """
    finding = detect_risk(text)
    if finding is not None or judge is None:
        return finding
    judgement = await invoke_structured(judge, RiskJudgement, RISK_PROMPT, json.dumps({"message": text}))
    if not judgement.urgent:
        return None
    # An urgent judgement without a kind gets the reply that covers both 911 and 988.
    kinds = (judgement.kind,) if judgement.kind in CATEGORY else ("medical", "suicidal")
    return RiskFinding(CATEGORY[kinds[0]], "urgent", kinds[0], kinds, source="model")


def message_id(message: AnyMessage) -> str:
    """The message's id, or a stable digest of its content when it has none."""
    if message.id:
        return str(message.id)
    return "sha256:" + hashlib.sha256(str(message.content).encode()).hexdigest()[:32]


def _latest_human(messages: list[AnyMessage]) -> HumanMessage | None:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message
    return None


async def urgent_update(finding: RiskFinding, text: str, message: AnyMessage | None, config: RunnableConfig,
                        risk_recorder: RiskRecorder | None) -> dict[str, Any]:
    """Record the detection (one row per category) and the state update that answers with the safety reply."""
    configurable = config.get("configurable", {})
    if risk_recorder is not None:
        for category in finding.categories:
            await risk_recorder(
                conversation_id=str(configurable.get("thread_id", "")),
                user_id=configurable.get("user_id"),
                message_id=message_id(message) if message is not None else "",
                category=category,
                severity=finding.severity,
                excerpt=text[:280],
            )
    conclusion = {"status": "urgent", "category": finding.category, "severity": finding.severity,
                  "kind": finding.kind, "kinds": list(finding.kinds), "source": finding.source}
    return {GUARD: conclusion, "messages": [AIMessage(content=safety_reply(finding, text), name=GUARD)]}


def make_guard_node(risk_recorder: RiskRecorder | None, judge: BaseChatModel | None = None) -> Any:
    """The guard node: its conclusion decides whether the other agents run.

    `judge`: a model whose reading of the message is added to the rules (None: the rules alone).
    """

    async def guard(state: NavigatorState, config: RunnableConfig) -> dict[str, Any]:
        message = _latest_human(state.get("messages", []))
        text = str(message.content) if message is not None else ""
        masked = mask_sensitive(text)
        update: dict[str, Any] = {"current_step": GUARD}
        if message is not None and masked != text:
            # Replace the stored copy (same id) in case a caller did not mask first.
            update["messages"] = [HumanMessage(content=masked, id=message_id(message))]
        reason = validate_message(masked)
        if reason is not None:
            update["guard"] = {"status": "rejected", "reason": reason, "masked": masked != text}
            update["messages"] = update.get("messages", []) + [AIMessage(content=reason, name=GUARD)]
            return update
        finding = await assess_risk(masked, judge)
        if finding is None:
            update["guard"] = {"status": "ok", "masked": masked != text}
            return update
        urgent = await urgent_update(finding, masked, message, config, risk_recorder)
        urgent[GUARD]["masked"] = masked != text
        update[GUARD] = urgent[GUARD]
        update["messages"] = update.get("messages", []) + urgent["messages"]
        return update

    return guard
