"""The safety reply: the number to call first, what to do until help comes, insurance last.

One reply is composed from every kind of crisis found, most immediately
dangerous first, so "I took all my pills because I want to die" gets 911 and
Poison Help, then 988.
"""

from __future__ import annotations

import re

from agents.crisis import RiskFinding
from agents.crisis_signals import MEDICAL_KINDS

CALL_911 = "Call 911 now (or your local emergency number)."
POISON_HELP = "Poison Help: 1-800-222-1222 (free, 24/7) tells you what to do while help is on the way."
LINE_988 = "Call or text 988 (Suicide & Crisis Lifeline) now: free, confidential, any time; chat at 988lifeline.org."
DV_HOTLINE = ("National Domestic Violence Hotline: 1-800-799-7233, or text START to 88788 (free, confidential, "
              "24/7); they help with a safety plan and a safe place to stay.")
COVERAGE_LINE = ("Insurance can wait: plans must cover emergency care without prior authorization, judged by the "
                 "symptoms (the prudent layperson standard), and the No Surprises Act limits what an out-of-network "
                 "emergency room can bill you.")
OUTSIDE_US = "Outside the US, call your local emergency number."
SAFETY_NOTE = "This is guidance, not legal or medical advice."

# kind: (first line, what to do until help comes)
_REPLIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "not_breathing": (CALL_911 + " Someone who is not breathing or not responding needs help in minutes.",
                      ("Stay on the line: the dispatcher will talk you through CPR or help for choking.",
                       "If there is an AED (defibrillator) nearby, send someone for it.")),
    "heart_attack": (CALL_911 + " These can be signs of a heart attack, and every minute counts.",
                     ("Do not drive yourself (or them) to the hospital: the ambulance starts treatment on the way.",
                      "Sit down, rest, and unlock the door for the responders.")),
    "stroke": (CALL_911 + " A drooping face, a weak arm or slurred speech can be signs of a stroke.",
               ("Note the time the symptoms started and tell the responders: treatment depends on it.",
                "Do not give food, drink or medicine.")),
    "bleeding": (CALL_911 + " Heavy bleeding needs help now.",
                 ("Press firmly on the wound with a clean cloth or towel and keep pressing; add more cloth on top "
                  "rather than lifting it.",)),
    "pregnancy": (CALL_911 + " Or go straight to labor and delivery at the nearest hospital.",
                  ("Tell them how many weeks pregnant you are and what is happening.",
                   "Do not wait to call your insurance or your doctor's office first.")),
    "overdose": (CALL_911, (POISON_HELP,
                            "Keep the bottle or package to show the responders; do not make anyone vomit unless told "
                            "to.")),
    "medical": (CALL_911 + " This needs emergency care now.",
                ("Stay with the person and follow the dispatcher's instructions.",)),
    "violence": ("Your safety comes first. If you are in danger now, call 911.",
                 (DV_HOTLINE, "If you can, go somewhere safe (a neighbor, a store, a friend's home) and keep your "
                              "phone with you.")),
    "suicidal": ("I'm really sorry you're feeling this way, and I'm glad you told me. " + LINE_988,
                 ("If you might act on these thoughts or are in danger right now, call 911 or go to the nearest "
                  "emergency room.",
                  "If you can, tell someone near you and stay with them; put away anything you could use to hurt "
                  "yourself.",
                  "You can also text HOME to 741741 (Crisis Text Line).")),
    "self_harm": ("Thank you for telling me. " + LINE_988,
                  ("If you have hurt yourself badly (a deep cut, bleeding that won't stop, or you took something), "
                   "call 911.",
                   "You can also text HOME to 741741 (Crisis Text Line).")),
}
# When a kind is not the first, one line says what it adds.
_ALSO = {
    "overdose": POISON_HELP,
    "violence": DV_HOTLINE,
    "suicidal": "If this came from thoughts of ending your life, " + LINE_988[0].lower() + LINE_988[1:],
    "self_harm": "If you hurt yourself on purpose, " + LINE_988[0].lower() + LINE_988[1:],
    "pregnancy": "If you are pregnant, tell the responders how many weeks.",
}
_FIRST_PERSON_INGESTION = re.compile(r"(?i)\bi (just )?(took|swallowed|ate|drank|downed|overdosed|popped)\b")


def safety_reply(finding: RiskFinding, text: str = "") -> str:
    """The reply to an urgent message: the right number first, then what to do, then one line on coverage."""
    kinds = list(finding.kinds or (finding.kind or "medical",))
    # A person who took too much of something themselves may have meant to: 988 belongs in the reply.
    if kinds[0] == "overdose" and _FIRST_PERSON_INGESTION.search(text) and "suicidal" not in kinds:
        kinds.append("suicidal")
    first, actions = _REPLIES.get(kinds[0], _REPLIES["medical"])
    lines = [first] + [f"- {action}" for action in actions]
    for kind in kinds[1:]:
        extra = _ALSO.get(kind) or _REPLIES[kind][0]
        if extra not in "\n".join(lines):
            lines.append(f"- {extra}")
    parts = ["\n".join(lines)]
    if any(kind in MEDICAL_KINDS for kind in kinds):
        parts.append(COVERAGE_LINE)
    elif kinds[0] in ("suicidal", "self_harm"):
        parts.append("Insurance questions can wait; crisis care comes first, and emergency care for a mental-health "
                     "crisis is covered like any other emergency.")
    else:
        parts.append("We can look at insurance questions once you are safe.")
    parts.append(f"{OUTSIDE_US} {SAFETY_NOTE}")
    return "\n\n".join(parts)
