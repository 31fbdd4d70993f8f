"""The security check that runs before any agent sees a message.

Rule-based on purpose (for every model provider): input limits, urgent-risk
detection that short-circuits the graph with safety guidance, and masking of
Social Security and payment-card numbers so they are never stored, logged or
passed on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from agents.ports import RiskRecorder
from agents.state import GUARD, NavigatorState

MAX_MESSAGE_CHARS = 4000

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


@dataclass(frozen=True)
class RiskFinding:
    category: str  # medical_emergency | self_harm | danger
    severity: str  # urgent


_SELF_HARM = re.compile(
    r"(?i)\b(kill(ing)? my ?self|suicid\w*|end(ing)? (my|it all)( life)?|take my (own )?life|"
    r"(want|wanna|going) to die|don'?t want to (live|be alive|wake up)|hurt(ing)? my ?self|self[- ]harm|"
    r"cut(ting)? my ?self|no reason to live)\b")
_DANGER = re.compile(
    r"(?i)\b((going|gonna|want) to (hurt|kill) (him|her|them|someone|somebody|my \w+)|"
    r"(he|she|they|someone|somebody)('s| is| are)? (threatening|going) to (hurt|kill) (me|us|my \w+)|"
    r"i('m| am) (not safe|in danger)|(being|is being) (abused|beaten)|has a (gun|knife))\b")
_ALWAYS_URGENT = re.compile(
    r"(?i)\b(not breathing|stopped breathing|can'?t breathe|cannot breathe|unconscious|unresponsive|"
    r"passed out and|overdos(ing|ed) (right )?now|choking|anaphyla\w*|bleeding (heavily|badly|a lot|won'?t stop))\b")
_SYMPTOM = re.compile(
    r"(?i)\b(chest pains?|heart attack|stroke|seizures?|severe bleeding|overdos\w*|trouble breathing|"
    r"difficulty breathing|shortness of breath|allergic reaction|face is drooping|slurred speech)\b")
_NOW = re.compile(r"(?i)\b(right now|now|currently|at the moment|is having|am having|i'?m having|"
                  r"he'?s having|she'?s having|just collapsed|collapsed|help me|please help|emergency)\b")
_PAST_ADMIN = re.compile(r"(?i)\b(bill(ed)?|claim|charged|invoice|last (week|month|year)|ago|was seen|"
                         r"eob|statement|reimburse\w*)\b")


def detect_risk(text: str) -> RiskFinding | None:
    """An urgent situation in the person's words, or None.

    Symptoms alone are not urgent ("my bill for chest pain last month"); with
    present-tense cues and no billing context (or an explicit "right now")
    they are.
    """
    if _SELF_HARM.search(text):
        return RiskFinding("self_harm", "urgent")
    if _DANGER.search(text):
        return RiskFinding("danger", "urgent")
    if _ALWAYS_URGENT.search(text):
        return RiskFinding("medical_emergency", "urgent")
    if _SYMPTOM.search(text) and _NOW.search(text):
        explicit_now = re.search(r"(?i)\b(right now|at the moment|currently)\b", text)
        if explicit_now or not _PAST_ADMIN.search(text):
            return RiskFinding("medical_emergency", "urgent")
    return None


SAFETY_REPLIES = {
    "self_harm": (
        "I'm really sorry you're going through this. You don't have to face it alone.\n"
        "- In the US, call or text 988 (Suicide & Crisis Lifeline) now, any time, free and confidential; "
        "chat at 988lifeline.org.\n"
        "- If you are in immediate danger or may act on these thoughts, call 911 or go to the nearest "
        "emergency room.\n"
        "Outside the US, call your local emergency number. Insurance questions can wait; "
        "emergency and crisis care comes first."
    ),
    "danger": (
        "Your safety comes first. If you or someone else is in immediate danger, call 911 now "
        "(or your local emergency number).\n"
        "- In the US, the National Domestic Violence Hotline is 1-800-799-7233 (text START to 88788).\n"
        "- If someone is thinking about harming themselves, call or text 988.\n"
        "We can look at insurance questions once everyone is safe."
    ),
    "medical_emergency": (
        "This sounds like a medical emergency. Call 911 now (or your local emergency number), or go to "
        "the nearest emergency room. Do not wait to check your insurance first.\n"
        "- Health plans must cover emergency care without prior authorization, and the No Surprises Act "
        "limits what an out-of-network emergency room can bill you.\n"
        "- If this involves thoughts of self-harm, call or text 988.\n"
        "We can sort out coverage and bills afterwards."
    ),
}
SAFETY_NOTE = "This is guidance, not legal or medical advice."


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


def make_guard_node(risk_recorder: RiskRecorder | None) -> Any:
    """The guard node: its conclusion decides whether the other agents run."""

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
        finding = detect_risk(masked)
        if finding is None:
            update["guard"] = {"status": "ok", "masked": masked != text}
            return update
        configurable = config.get("configurable", {})
        if risk_recorder is not None:
            await risk_recorder(
                conversation_id=str(configurable.get("thread_id", "")),
                user_id=configurable.get("user_id"),
                message_id=message_id(message) if message is not None else "",
                category=finding.category,
                severity=finding.severity,
                excerpt=masked[:280],
            )
        reply = SAFETY_REPLIES[finding.category] + "\n\n" + SAFETY_NOTE
        update["guard"] = {"status": "urgent", "category": finding.category, "severity": finding.severity,
                           "masked": masked != text}
        update["messages"] = update.get("messages", []) + [AIMessage(content=reply, name=GUARD)]
        return update

    return guard
