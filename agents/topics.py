"""What exactly the person asks about, within an intent: an expedited appeal, a newborn, COBRA's cost...

The topics themselves are in `agents.topic_library`.
"""

from __future__ import annotations

from typing import Any

from agents.topic_library import ANY, TOPICS, Topic

__all__ = ["TOPICS", "TOPIC_QUERIES", "Topic", "detect_topics", "lead_for"]


def detect_topics(question: str, intent: str, facts: dict[str, Any]) -> list[Topic]:
    """The topics of the question that belong to its intent and fit the person's facts, in library order."""
    found = []
    for topic in TOPICS:
        if intent not in topic.intents or not topic.pattern.search(question):
            continue
        if any(facts.get(key) not in allowed for key, allowed in topic.needs.items()):
            continue
        found.append(topic)
    return found


def lead_for(topic: Topic, facts: dict[str, Any]) -> str:
    plan = facts.get("plan_type")
    text = topic.lead.get(str(facts.get("state"))) or topic.lead.get(str(plan)) or \
        (topic.lead.get("medicaid") if plan == "chip" else None) or topic.lead[ANY]
    return text.replace("{drug}", str(facts.get("drug") or facts.get("service") or "the drug"))


TOPIC_QUERIES = {topic.name: topic.query for topic in TOPICS if topic.query}
