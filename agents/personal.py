"""The person's own plan and documents in the navigator's work: known facts, passages ranked
with the knowledge base, and the lines that cite them in the answer.

The navigator reads the `PersonalContext` port before it asks anything: the profile and the
documents' facts are known facts, below what the person says in the conversation (which
always wins). Facts of a denial letter count in the conversations it is attached to (or in
any, when the person asks about "my letter"); a summary of benefits or policy uploaded for
the whole account counts everywhere.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.dates import date_words
from agents.deadlines import PLAN_LABELS
from agents.extract import money_value, plan_through
from agents.facts import merge_facts
from agents.ports import PersonalContext
from agents.vocabulary import STATE_NAMES

PASSAGE_LIMIT = 2
KIND_LABELS = {
    "denial_letter": "Your denial letter", "decision_letter": "Your appeal decision letter",
    "summary_of_benefits": "Your summary of benefits", "explanation_of_benefits": "Your explanation of benefits",
    "policy": "Your policy document", "bill": "Your bill", "other": "Your document",
}
LETTER_KINDS = ("denial_letter", "decision_letter")
PLAN_KINDS = ("summary_of_benefits", "policy")
# Profile plan types the navigator's facts name otherwise: (plan_type, plan_detail).
PROFILE_PLANS: dict[str, tuple[str, str | None]] = {"medicare_advantage": ("medicare", "medicare_advantage"),
                                                    "none": ("uninsured", None)}
# Intents whose answer depends on the plan's cost sharing (summary of benefits, EOB lines).
COST_INTENTS = ("coverage_check", "cost_estimate", "billing_dispute", "prescription_drugs", "find_provider",
                "prior_authorization", "other")
_ASKS_ABOUT_DOCUMENTS = re.compile(
    r"(?i)\b(my|the|our|this)\s+(uploaded\s+)?(letters?|documents?|uploads?|files?|eobs?|notices?|"
    r"policy|denial letter|explanation of benefits|summary of benefits|sbc|plan documents?|paperwork)\b|"
    r"\bi (uploaded|sent you|attached)\b")


def asks_about_documents(question: str) -> bool:
    return bool(_ASKS_ABOUT_DOCUMENTS.search(question))


def _ids(config: RunnableConfig | None) -> tuple[str | None, str | None]:
    configurable = (config or {}).get("configurable") or {}
    user_id = configurable.get("user_id")
    thread_id = configurable.get("thread_id")
    return (str(user_id) if user_id else None), (str(thread_id) if thread_id else None)


async def load_context(personal: PersonalContext | None, config: RunnableConfig | None,
                       question: str) -> dict[str, Any]:
    """The person's profile and the documents that apply to this conversation; {} without a user."""
    user_id, thread_id = _ids(config)
    if personal is None or user_id is None:
        return {}
    every = asks_about_documents(question)
    context = await personal.known(user_id=user_id, conversation_id=thread_id, every_document=every)
    return {**context, "every_document": every}


def _used(document: dict[str, Any], context: dict[str, Any]) -> bool:
    return bool(document.get("attached") or context.get("every_document") or document.get("kind") in PLAN_KINDS)


def _plan_of(profile: dict[str, Any]) -> tuple[str | None, str | None]:
    plan_type = profile.get("plan_type")
    return PROFILE_PLANS.get(plan_type, (plan_type, None)) if plan_type else (None, None)


def profile_facts(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile as facts (agents.facts.FACT_KEYS)."""
    plan_type, detail = _plan_of(profile)
    facts = {key: profile.get(key) for key in ("state", "insurer", "plan_name", "renewal_month",
                                                 "preferred_language")}
    facts.update(plan_type=plan_type, plan_detail=detail)
    if profile.get("plan_through"):
        facts["plan_through"] = plan_through(str(profile["plan_through"]), plan_type)
    return {key: value for key, value in facts.items() if value not in (None, "")}


def _dollars(value: Any) -> float | None:
    return money_value(value) if isinstance(value, str) and re.search(r"\d", value) else None


def _percent(value: Any) -> float | None:
    found = re.match(r"\s*(\d{1,3}(?:\.\d+)?)\s*%", value) if isinstance(value, str) else None
    return float(found.group(1)) if found else None


def document_facts(document: dict[str, Any]) -> dict[str, Any]:
    """What one document tells the navigator, as facts (agents.facts.FACT_KEYS; dates stay ISO)."""
    facts, kind = document.get("facts") or {}, document.get("kind")
    out: dict[str, Any] = {}
    if kind in LETTER_KINDS:
        out = {"denial_date": facts.get("denial_date"), "service": facts.get("service"), "drug": facts.get("drug"),
               "claim_number": facts.get("claim_number"), "denial_reason": facts.get("reason"),
               "appeal_deadline": facts.get("appeal_deadline"), "appeal_address": facts.get("appeal_address")}
    elif kind in PLAN_KINDS:
        network = facts.get("network_type")
        out = {"plan_detail": network.lower() if isinstance(network, str) else None,
               "deductible": _dollars(facts.get("deductible")), "oop_max": _dollars(facts.get("out_of_pocket_max")),
               "coinsurance_pct": _percent(facts.get("coinsurance"))}
    elif kind in ("explanation_of_benefits", "bill"):
        owed = _dollars(facts.get("owed"))
        out = {"claim_number": facts.get("claim_number"), "service": facts.get("service"),
               "bill_amount": _dollars(facts.get("billed")) or (owed if kind == "bill" else None),
               "price": _dollars(facts.get("allowed")), "plan_paid": _dollars(facts.get("paid")),
               "eob_owed": owed if kind == "explanation_of_benefits" else None}
    plan_type = facts.get("plan_type")
    out["plan_type"] = plan_type.lower() if isinstance(plan_type, str) else None
    out["insurer"] = facts.get("insurer")
    return {key: value for key, value in out.items() if value not in (None, "")}


def known_facts(context: dict[str, Any]) -> dict[str, Any]:
    """The person's own facts: profile, then documents (older first, so the newest wins). They are the
    lowest layer of `agents.facts.merge_facts`: the conversation's facts go on top."""
    facts = profile_facts(context.get("profile") or {})
    for document in reversed(context.get("documents") or []):
        if _used(document, context):
            facts = merge_facts(facts, document_facts(document))
    return facts


def passage_hit(passage: dict[str, Any]) -> dict[str, Any]:
    """A passage of the person's document, shaped like a knowledge hit so it ranks and cites alike."""
    label = KIND_LABELS.get(str(passage.get("kind")), "Your document")
    return {"slug": f"document-{str(passage['document_id'])[:8]}-p{passage['page']}",
            "title": f"{label} (page {passage['page']})", "source": f"your upload: {passage['filename']}",
            "url": None, "body": passage["body"], "deadline": None, "intents": [], "rank": passage["rank"],
            "personal": True, "document_id": str(passage["document_id"])}


def rank_together(knowledge: list[dict[str, Any]], passages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One list by rank: the knowledge hits and the person's passages (one per document page)."""
    hits, seen = [], set()
    for passage in passages:
        hit = passage_hit(passage)
        if hit["slug"] not in seen:
            seen.add(hit["slug"])
            hits.append(hit)
    return sorted(knowledge + hits, key=lambda hit: -float(hit.get("rank") or 0))


async def rank_with_passages(personal: PersonalContext | None, config: RunnableConfig | None, query: str,
                             knowledge: list[dict[str, Any]],
                             context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The knowledge hits and the person's passages for the query, ranked together. `context` is what
    `load_context` read: when it says the person has nothing to search, no search is made."""
    user_id, thread_id = _ids(config)
    if personal is None or user_id is None:
        return knowledge
    if context is not None and context.get("searchable") is False:
        return rank_together(knowledge, [])
    passages = await personal.passages(user_id=user_id, query=query, conversation_id=thread_id,
                                       limit=PASSAGE_LIMIT)
    return rank_together(knowledge, passages)


def _page(facts: dict[str, Any], *names: str) -> int:
    pages = facts.get("pages") or {}
    return next((int(pages[name]) for name in names if name in pages), 1)


def letter_deadline(document: dict[str, Any]) -> dict[str, str] | None:
    """The appeal deadline a letter states: its own citation `line`, and the `note` that cites the letter
    inside the answer's sentence instead, when the answer already gives that `date` (each fact once)."""
    facts = document.get("facts") or {}
    deadline = date_words(facts.get("appeal_deadline"))
    if not deadline:
        return None
    page = _page(facts, "deadline_days", "deadline_date", "appeal_deadline")
    basis = f" ({facts['deadline_days']} days from the letter's date)" if facts.get("deadline_days") and \
        not facts.get("deadline_date") else ""
    label = KIND_LABELS.get(str(document.get("kind")), "Your document")
    return {"date": deadline,
            "line": f"Your appeal deadline is {deadline}{basis}, as the letter states on page {page}.",
            "note": f"as {label[0].lower()}{label[1:]} states on page {page}"}


def letter_lines(document: dict[str, Any]) -> list[str]:
    facts = document.get("facts") or {}
    label = KIND_LABELS.get(str(document.get("kind")), "Your document")
    what = facts.get("drug") or facts.get("service") or "the claim"
    when = date_words(facts.get("denial_date"))
    reason = facts.get("reason")
    if facts.get("reason_code") == "medical_necessity":
        said = f"{what} denied as not medically necessary"
    else:
        said = f"{what} denied" + (f" ({reason.rstrip('.')})" if reason else "")
    said += f" on {when}" if when else ""
    claim = f" (claim {facts['claim_number']})" if facts.get("claim_number") else ""
    lines = [f"{label} (page {_page(facts, 'reason', 'service', 'denial_date')}): {said}{claim}."]
    if reason and facts.get("reason_code") == "medical_necessity":
        lines.append(f"The reason it gives: {reason.rstrip('.')}.")
    stated = letter_deadline(document)
    if stated:
        lines.append(stated["line"])
    if facts.get("appeal_address"):
        lines.append(f"Send the appeal to: {facts['appeal_address']} (page {_page(facts, 'appeal_address')}).")
    return lines


def benefit_lines(document: dict[str, Any]) -> list[str]:
    facts = document.get("facts") or {}
    label = KIND_LABELS.get(str(document.get("kind")), "Your document")
    parts = []
    if facts.get("network_type"):
        parts.append(f"{facts['network_type']} plan")
    if facts.get("deductible"):
        parts.append(f"deductible {facts['deductible']}")
    if facts.get("out_of_pocket_max"):
        parts.append(f"out-of-pocket maximum {facts['out_of_pocket_max']}")
    if facts.get("coinsurance"):
        parts.append(f"coinsurance {facts['coinsurance']}")
    copays = facts.get("copays") or {}
    parts += [f"{name.replace('_', ' ')} {value}" for name, value in copays.items()]
    if not parts:
        return []
    return [f"{label} (page {_page(facts, 'deductible', 'network_type', 'out_of_pocket_max')}): " + "; ".join(parts)
            + "."]


def eob_lines(document: dict[str, Any]) -> list[str]:
    facts = document.get("facts") or {}
    label = KIND_LABELS.get(str(document.get("kind")), "Your document")
    amounts = [f"{name} {facts[name]}" for name in ("billed", "allowed", "paid", "owed") if facts.get(name)]
    if not amounts:
        return []
    claim = f" for claim {facts['claim_number']}" if facts.get("claim_number") else ""
    return [f"{label} (page {_page(facts, 'billed', 'owed')}){claim}: " + ", ".join(amounts) + "."]


def _plan_label(plan_type: str | None, detail: str | None) -> str:
    if plan_type == "medicare":
        return "Medicare Advantage plan" if detail == "medicare_advantage" else "Medicare plan"
    return PLAN_LABELS.get(str(plan_type), "plan")


def profile_line(profile: dict[str, Any], facts: dict[str, Any]) -> str | None:
    """"On your employer plan in Ohio (from your profile)", when the conversation did not say otherwise."""
    plan_type = profile.get("plan_type")
    plan_matches = plan_type and _plan_of(profile)[0] == facts.get("plan_type")
    state_matches = profile.get("state") and profile["state"] == facts.get("state")
    if not plan_matches and not state_matches:
        return None
    words = ["On your"]
    if plan_matches:
        words.append(_plan_label(*_plan_of(profile)))
        if profile.get("insurer"):
            words.append(f"with {profile['insurer']}")
    else:
        words.append("plan")
    if state_matches:
        words.append(f"in {STATE_NAMES.get(profile['state'], profile['state'])}")
    return " ".join(words) + " (from your profile)."


def citations(context: dict[str, Any], intent: str, facts: dict[str, Any]) -> dict[str, Any]:
    """What the answer cites from the person's own profile and documents (kept in the graph state)."""
    if not context:
        return {}
    lines: list[str] = []
    line = profile_line(context.get("profile") or {}, facts)
    if line and intent != "other":
        lines.append(line)
    used, stated = [], []
    for document in context.get("documents") or []:
        if not _used(document, context):
            continue
        kind = document.get("kind")
        if kind in LETTER_KINDS:
            found = letter_lines(document)
            deadline = letter_deadline(document)
            if deadline:
                stated.append(deadline)
        elif kind in PLAN_KINDS:
            found = benefit_lines(document) if intent in COST_INTENTS else []
        elif kind in ("explanation_of_benefits", "bill"):
            found = eob_lines(document) if intent in COST_INTENTS + ("claim_denial_appeal",) else []
        else:
            found = []
        if found:
            used.append(document["id"])
            lines += found
    return {"lines": lines, "documents": used, "stated": stated}


_SENTENCE_END = re.compile(r"\.(?=\s|$)")
_ABOUT_A_DEADLINE = re.compile(r"(?i)deadline|appeal|\bby\b|\bwithin\b")


def _cite_in_sentence(text: str, date: str, note: str) -> str | None:
    """The text with `note` at the end of the sentence that gives `date` as a deadline; None when none does."""
    at = text.find(date)
    if at < 0:
        return None
    start = max(text.rfind(". ", 0, at), text.rfind("\n", 0, at)) + 1
    end = _SENTENCE_END.search(text, at + len(date))
    if end is None or "\n" in text[at:end.start()] or not _ABOUT_A_DEADLINE.search(text[start:end.start()]):
        return None
    return f"{text[:end.start()]}, {note}{text[end.start():]}"


def with_citations(text: str, personal: dict[str, Any] | None) -> str:
    """The reply with a "From your documents" section after its first paragraph (once). A deadline a letter
    states that the reply already gives is cited in the reply's own sentence, not said a second time."""
    lines = (personal or {}).get("lines") or []
    stated = {entry["line"]: entry for entry in (personal or {}).get("stated") or []}
    fresh = []
    for line in lines:
        if line in text:
            continue
        entry = stated.get(line)
        cited = _cite_in_sentence(text, entry["date"], entry["note"]) if entry else None
        if cited is not None:
            text = cited
        else:
            fresh.append(line)
    if not fresh:
        return text
    section = "From your own documents and profile:\n" + "\n".join(f"- {line}" for line in fresh)
    first, sep, rest = text.partition("\n\n")
    return f"{first}\n\n{section}{sep}{rest}" if sep else f"{text}\n\n{section}"
