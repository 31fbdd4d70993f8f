"""The plain-language reply: the direct answer, what we used of the person's facts, steps, deadlines,
contacts, sources, a note."""

from __future__ import annotations

import re
from typing import Any

from agents.dates import date_words
from agents.deadlines import PLAN_LABELS
from agents.vocabulary import STATE_NAMES

DISCLAIMER = "This is guidance, not legal or medical advice."
FACTS_LEAD = "Based on what you told me:"

_THROUGH = {"spouse": "through your spouse's job", "parent": "through a parent", "own_job": "through your job",
            "former_employer": "from your former employer"}
_DETAIL = {"original_medicare": "Original Medicare", "medicare_advantage": "a Medicare Advantage plan",
           "part_d": "a Part D plan", "self_funded": "self-funded"}
_DATES = [("denial_date", "the denial came {}"), ("notice_date", "the notice came {}"),
          ("event_date", "{event} {}"), ("coverage_end_date", "coverage ends {}"), ("due_date", "due {}"),
          ("appeal_date", "you appealed {}"), ("request_date", "the request went in {}")]
_EVENT_WORDS = {"birth": "the birth on", "adoption": "the adoption on", "marriage": "the wedding on",
                "move": "the move on", "job_loss": "the job ended", "turning_65": "you turn 65",
                "turning_26": "you turn 26", "coverage_loss": "coverage ends", "medicaid_loss": "Medicaid ends",
                "retirement": "retirement", "divorce": "the divorce", "hours_cut": "hours cut"}


def format_sources(documents: list[dict[str, Any]]) -> list[str]:
    lines = []
    for doc in documents:
        url = f" <{doc['url']}>" if doc.get("url") else ""
        lines.append(f"- {doc['title']} ({doc['source']}){url}")
    return lines


def facts_line(facts: dict[str, Any]) -> str | None:
    """One line naming the person's facts the answer used, so they can see them and correct them."""
    parts: list[str] = []
    plan = facts.get("plan_type")
    if plan in PLAN_LABELS and plan != "uninsured":
        label = _DETAIL.get(str(facts.get("plan_detail")), "") if plan == "medicare" else PLAN_LABELS[plan]
        label = label or PLAN_LABELS[plan]
        words = label if label.startswith(("a ", "Original")) or plan in ("medicare", "medicaid", "chip", "tricare") \
            else f"your {label}"
        if facts.get("plan_detail") == "self_funded":
            words += " (self-funded)"
        if facts.get("plan_through") in _THROUGH and plan == "employer":
            words += f" {_THROUGH[facts['plan_through']]}"
        if facts.get("insurer"):
            words += f" with {facts['insurer']}"
        parts.append(words)
    elif plan == "uninsured":
        parts.append("no insurance")
    elif facts.get("insurer"):
        parts.append(str(facts["insurer"]))
    if facts.get("state") in STATE_NAMES:
        parts.append(STATE_NAMES[facts["state"]])
    for key in ("drug", "service"):
        if facts.get(key):
            parts.append(str(facts[key]))
            break
    for key, template in _DATES:
        if facts.get(key):
            event = _EVENT_WORDS.get(str(facts.get("event")), "the event on")
            parts.append(template.replace("{event}", event).format(date_words(facts[key]) or facts[key]))
    if not parts:
        return None
    return f"{FACTS_LEAD} {'; '.join(parts)}."


def compose_reply(plan: dict[str, Any], documents: list[dict[str, Any]]) -> str:
    parts = [plan.get("short_answer", "").strip()]
    steps = plan.get("steps") or []
    if steps:
        parts.append("What to do:\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1)))
    if plan.get("deadlines"):
        parts.append("Deadlines:\n" + "\n".join(f"- {d}" for d in plan["deadlines"]))
    if plan.get("contacts"):
        parts.append("Who to contact:\n" + "\n".join(f"- {c}" for c in plan["contacts"]))
    if plan.get("documents"):
        parts.append("Have ready: " + "; ".join(plan["documents"]) + ".")
    if plan.get("if_step_fails"):
        parts.append("If that does not work:\n" + "\n".join(f"- {f}" for f in plan["if_step_fails"]))
    sources = format_sources(documents)
    if sources:
        parts.append("Sources:\n" + "\n".join(sources))
    parts.append(DISCLAIMER)
    return "\n\n".join(part for part in parts if part)


def with_additions(text: str, facts_used: str | None, computed: list[str], help_line: str | None) -> str:
    """The reply with what a model may leave out: the facts used (after the first paragraph), the person's
    own deadlines, and a line pointing to help for a crisis topic (before the sources)."""
    paragraphs = text.strip().split("\n\n")
    missing = [line for line in computed if not _said(line, text)]
    if missing:
        paragraphs.insert(1, "Your dates:\n" + "\n".join(f"- {line}" for line in missing))
    if facts_used and facts_used not in text:
        paragraphs.insert(1, facts_used)
    if help_line and help_line not in text:
        at = next((i for i, p in enumerate(paragraphs) if p.startswith(("Sources:", DISCLAIMER))), len(paragraphs))
        paragraphs.insert(at, help_line)
    return "\n\n".join(paragraphs)


def _said(line: str, text: str) -> bool:
    """A computed sentence counts as said when its dates and amounts are all in the text."""
    keys = re.findall(r"[A-Z][a-z]+ \d{1,2}, \d{4}|\$[\d,]+(?:\.\d{2})?", line)
    return all(key in text for key in keys) if keys else line in text
