"""The plain-language reply: short answer, numbered steps, deadlines, sources, a note."""

from __future__ import annotations

from typing import Any

DISCLAIMER = "This is guidance, not legal or medical advice."


def format_sources(documents: list[dict[str, Any]]) -> list[str]:
    lines = []
    for doc in documents:
        url = f" <{doc['url']}>" if doc.get("url") else ""
        lines.append(f"- {doc['title']} ({doc['source']}){url}")
    return lines


def compose_reply(plan: dict[str, Any], documents: list[dict[str, Any]], question: str | None = None) -> str:
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
