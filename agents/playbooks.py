"""The offline strategist: a plan for the question, from what the person asked and what they told us.

Order of the direct answer: the definition when they asked what something is,
then the answer to the exact topic (an expedited appeal, a newborn, COBRA's
cost) or the intent's general answer, then the sentences made from their own
dates and amounts. Deadlines are the rules for their kind of plan only, each
once, minus those the answer already states.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from agents.deadlines import PLAN_LABELS, computed_lines
from agents.glossary import definitions_asked
from agents.kb import shipped_slugs
from agents.playbook_content import BASE, Base
from agents.rulebook import rules_for
from agents.topics import detect_topics, lead_for

MAX_STEPS = 6
MAX_DEADLINES = 4
# A computed sentence states these rules too.
COVERS = {
    "pa_standard": {"pa_standard_7", "pa_standard_15"},
    "sep_both": {"sep_employer", "sep_marketplace"},
    "medicare_redetermination": {"medicare_redetermination"},
    "ma_reconsideration": {"ma_reconsideration"},
    "cobra_election": {"cobra_election", "cobra_premium"},
    "medicaid_plan_appeal": {"medicaid_plan_appeal"},
}


def _unique(items: list[str], limit: int | None = None) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen[:limit] if limit else seen


def build_plan(intent: str, facts: dict[str, Any], documents: list[dict[str, Any]], question: str = "",
               today: date | None = None) -> dict[str, Any]:
    """An ordered plan (the StrategyPlan fields) for the question, specific to the person's facts."""
    today = today or date.today()
    base: Base = BASE.get(intent, BASE["other"])(facts)
    topics = detect_topics(question, intent, facts)
    names = {topic.name for topic in topics}
    computed = computed_lines(intent, names, facts, today, question)
    definitions = definitions_asked(question)
    if definitions and not topics and not computed:
        return _definition_plan(definitions)
    texts = [line.text for line in computed]
    leads = [lead for lead in (_trim(lead_for(topic, facts), texts) for topic in topics[:2]) if lead]
    short = definitions + (leads or ([] if definitions else [_trim(base.short, texts)]))
    short += texts
    if intent == "claim_denial_appeal" and facts.get("plan_type") and not facts.get("denial_date") \
            and not definitions:
        short.append("Tell me the date on the denial letter and I'll work out your exact deadline.")
    said: set[str] = set(base.says) if not leads and not definitions else set()
    for topic in topics[:2]:
        said |= set(topic.says)
    for line in computed:
        said |= COVERS.get(line.key, {line.key})
    rule_keys = [key for topic in topics for key in topic.rules] + list(base.rules)
    deadlines = rules_for(rule_keys, facts.get("plan_type"), said)[:MAX_DEADLINES]
    # Operators' own documents may carry deadlines the playbooks do not know.
    shipped = shipped_slugs()
    deadlines += [doc["deadline"] for doc in documents if doc.get("deadline") and doc.get("slug") not in shipped
                  and intent in (doc.get("intents") or [intent])]
    topic_steps = [step for topic in topics for step in topic.steps]
    # A topic with its own steps keeps the intent's general steps short.
    steps = topic_steps + list(base.steps)[: 2 if len(topic_steps) >= 2 else MAX_STEPS]
    contacts = [contact for topic in topics for contact in topic.contacts] + list(base.contacts)
    return {
        "short_answer": " ".join(_unique(short)),
        "steps": _unique(steps, MAX_STEPS),
        "contacts": _unique(contacts, 4),
        "documents": list(base.documents),
        "deadlines": _unique(deadlines),
        "if_step_fails": list(base.if_step_fails),
    }


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PERIOD = re.compile(r"\b\d+ (days|months|hours|calendar days)\b")


def _trim(lead: str, computed: list[str]) -> str:
    """The topic's answer without the sentences that state a period the person's own dates already turned into
    a date ("each fact once": not "within 30 days" beside "by July 2, 2026: 30 days from the birth")."""
    said = {m.group(0) for text in computed for m in _PERIOD.finditer(text)}
    if not said:
        return lead
    kept = [s for s in _SENTENCE.split(lead) if not {m.group(0) for m in _PERIOD.finditer(s)} & said]
    return " ".join(kept)


def _definition_plan(definitions: list[str]) -> dict[str, Any]:
    """A question about what something is gets the definition, where to find the person's own, and sources;
    no contact (the intent's, such as a billing office, belongs to another question)."""
    return {
        "short_answer": " ".join(definitions) + " Your plan's own amounts and rules are in its summary of benefits "
                                                "and coverage (SBC), on the plan's website or from member services.",
        "steps": [], "contacts": [], "documents": [], "deadlines": [], "if_step_fails": [],
    }


def plan_label(facts: dict[str, Any]) -> str:
    return PLAN_LABELS.get(str(facts.get("plan_type")), "your plan")
