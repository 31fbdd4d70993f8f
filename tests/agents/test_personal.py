"""The navigator with a person's own context: an in-memory `PersonalContext` on the real graph (offline model)."""

from __future__ import annotations

import uuid
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agents.document_reader import read_document
from agents.documents import extract_document_facts
from agents.facts import FACT_KEYS
from agents.graph import build_graph, resume_input, user_input
from agents.outcome import RunOutcome, read_outcome
from agents.personal import asks_about_documents, citations, known_facts, rank_together, with_citations
from agents.sources import relevant_documents
from tests.utils import pdfs


def document(data: bytes, *, attached: bool = True, standalone: bool = False) -> dict[str, Any]:
    facts = extract_document_facts(read_document(data).text)
    return {"id": str(uuid.uuid4()), "kind": facts["kind"], "filename": "upload.pdf", "pages": 1, "facts": facts,
            "standalone": standalone, "attached": attached}


class InMemoryPersonal:
    """One person's profile and documents, answering the port's two calls the way db/personal.py does."""

    def __init__(self, profile: dict[str, Any], documents: list[dict[str, Any]],
                 searchable: bool | None = None) -> None:
        self.profile = profile
        self.documents = documents
        self.searchable = searchable  # None: `known` does not say (the port allows that)
        self.calls: list[dict[str, Any]] = []
        self.searches = 0

    async def known(self, *, user_id: str, conversation_id: str | None,
                    every_document: bool = False) -> dict[str, Any]:
        self.calls.append({"user_id": user_id, "conversation_id": conversation_id, "every": every_document})
        chosen = [d for d in self.documents if every_document or d["attached"] or d["standalone"]]
        said = {} if self.searchable is None else {"searchable": self.searchable}
        return {"profile": self.profile, "documents": chosen, **said}

    async def passages(self, *, user_id: str, query: str, conversation_id: str | None,
                       limit: int = 3) -> list[dict[str, Any]]:
        self.searches += 1
        return [{"document_id": d["id"], "kind": d["kind"], "filename": d["filename"], "page": 1,
                 "body": "passage", "rank": 0.9} for d in self.documents if d["attached"]][:limit]


async def converse(personal: InMemoryPersonal, *messages: str) -> list[RunOutcome]:
    graph = build_graph(checkpointer=InMemorySaver(), personal=personal)
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}}
    outcomes = []
    for message in messages:
        outcome = await read_outcome(graph, config)
        payload = resume_input(message) if outcome.status == "needs_input" else user_input(message)
        await graph.ainvoke(payload, config, durability="sync")
        outcomes.append(await read_outcome(graph, config))
    return outcomes


async def test_profile_plan_type_is_known_and_never_asked() -> None:
    personal = InMemoryPersonal({"plan_type": "marketplace", "state": "TX"}, [])
    [outcome] = await converse(personal, "My claim for physical therapy was denied on April 2. What can I do?")
    assert outcome.status == "answered" and outcome.question is None
    assert "On your Marketplace plan in Texas (from your profile)." in str(outcome.reply)
    assert personal.calls[0]["user_id"] and personal.calls[0]["conversation_id"]


async def test_passages_are_searched_unless_the_context_says_there_is_nothing_to_search() -> None:
    question = "How do I appeal the denial of my MRI from March 3? It is a plan through my job."
    outcomes = {}
    for searchable in (None, True, False):
        personal = InMemoryPersonal({}, [], searchable=searchable)
        [outcomes[searchable]] = await converse(personal, question)
        assert personal.searches == (0 if searchable is False else 1)
    # Skipping a search that could find nothing changes nothing in the answer.
    assert outcomes[False].reply == outcomes[None].reply == outcomes[True].reply


async def test_what_the_person_says_overrides_the_profile_across_turns() -> None:
    personal = InMemoryPersonal({"plan_type": "marketplace"}, [])
    first, second = await converse(personal, "My MRI claim was denied on March 3. It is a plan through my job.",
                                   "And how do I appeal the denial of my CT scan from May 2?")
    assert first.status == "answered" and "your employer plan" in str(first.reply)
    assert second.status == "answered" and "your employer plan" in str(second.reply)
    assert "Marketplace plan" not in (first.reply or "") + (second.reply or "")


async def test_a_letter_counts_where_it_is_attached_or_when_asked_about() -> None:
    elsewhere = document(pdfs.denial_letter_pdf(), attached=False)
    personal = InMemoryPersonal({}, [elsewhere])
    [plain] = await converse(personal, "How do I appeal?")
    assert plain.status == "needs_input"  # the letter belongs to another conversation
    [asked] = await converse(personal, "How do I appeal the denial in my letter?")
    assert asked.status == "answered" and "August 30, 2026" in str(asked.reply)
    assert personal.calls[-1]["every"] is True


async def test_the_letters_deadline_is_stated_once_with_its_computation_and_its_page() -> None:
    personal = InMemoryPersonal({}, [document(pdfs.denial_letter_pdf())])
    [answer] = await converse(personal, "How do I appeal?")
    reply = str(answer.reply)
    assert "Your internal appeal deadline is August 30, 2026: 180 days from March 3, 2026, when the denial " \
           "arrived, as your denial letter states on page 2." in reply
    assert reply.count("August 30, 2026") == 1 and "Your appeal deadline is" not in reply
    assert "Your denial letter (page 1): MRI of the lumbar spine denied" in reply  # the letter is still cited


def test_a_letters_deadline_the_answer_does_not_give_keeps_its_own_line() -> None:
    letter = document(pdfs.denial_letter_pdf())
    found = citations({"profile": {}, "documents": [letter]}, "claim_denial_appeal", {})
    deadline_line = "Your appeal deadline is August 30, 2026 (180 days from the letter's date), as the letter " \
                    "states on page 2."
    assert deadline_line in found["lines"]
    # A reply that gives no date (a model that left it out), or gives it outside a deadline's sentence.
    for text in ("You can appeal.\n\nWhat to do:\n1. Write to the plan.",
                 "Your MRI is booked for August 30, 2026.\n\nWhat to do:\n1. Write to the plan."):
        cited = with_citations(text, found)
        assert f"- {deadline_line}" in cited and cited.count("August 30, 2026") == text.count("August 30, 2026") + 1
    # Stated in a deadline's sentence: cited there, once, and the other lines still come as a section.
    given = "Appeal by August 30, 2026. That is a while away.\n\nWhat to do:\n1. Write to the plan."
    cited = with_citations(given, found)
    assert cited.startswith("Appeal by August 30, 2026, as your denial letter states on page 2. That is")
    assert cited.count("August 30, 2026") == 1 and "- Your denial letter (page 1)" in cited
    # Citations stored by an earlier version (no "stated") still read as before.
    assert f"- {deadline_line}" in with_citations(given, {"lines": found["lines"], "documents": []})


async def test_a_summary_of_benefits_for_the_account_informs_cost_questions() -> None:
    summary = document(pdfs.summary_of_benefits_pdf(), attached=False, standalone=True)
    personal = InMemoryPersonal({}, [summary])
    [outcome] = await converse(personal, "How much will a specialist visit cost me?")
    assert "Your summary of benefits (page 1): PPO plan; deductible $1,500; out-of-pocket maximum $6,000" \
        in str(outcome.reply)
    assert "specialist $50 copay" in str(outcome.reply)


def test_known_facts_precedence_and_ranking() -> None:
    older = document(pdfs.denial_letter_pdf(pdfs.Letter(letter_date="January 5, 2026", claim_number="OLD-1")))
    newer = document(pdfs.denial_letter_pdf(pdfs.Letter(letter_date="March 3, 2026", claim_number="NEW-2")))
    facts = known_facts({"profile": {"plan_type": "medicare_advantage", "state": "OH"},
                         "documents": [newer, older]})  # newest first, as the port returns them
    # Dates in the facts' ISO form (agents.facts); the answer shows them as "March 3, 2026".
    assert facts["claim_number"] == "NEW-2" and facts["denial_date"] == "2026-03-03"
    assert facts["appeal_deadline"] == "2026-08-30"
    assert facts["plan_type"] == "employer"  # the letter says so; the profile's Medicare Advantage is below it
    assert set(facts) <= set(FACT_KEYS)
    profile = known_facts({"profile": {"plan_type": "medicare_advantage", "plan_through": "my spouse's employer"},
                           "documents": []})
    assert profile == {"plan_type": "medicare", "plan_detail": "medicare_advantage", "plan_through": "spouse"}
    knowledge = [{"slug": "kb-a", "title": "A", "source": "s", "rank": 0.8},
                 {"slug": "kb-b", "title": "B", "source": "s", "rank": 0.1}]
    passage = {"document_id": newer["id"], "kind": "denial_letter", "filename": "x.pdf", "page": 2, "body": "b",
               "rank": 0.5}
    ranked = rank_together(knowledge, [passage, dict(passage)])
    assert [hit["slug"].split("-p")[0][:3] for hit in ranked] == ["kb-", "doc", "kb-"]
    assert ranked[1]["title"] == "Your denial letter (page 2)"
    assert asks_about_documents("what does my EOB say?") and asks_about_documents("I uploaded it yesterday")
    assert not asks_about_documents("how do I appeal?") and not asks_about_documents("how do I appeal the denial?")


async def test_profile_letter_and_conversation_are_one_set_of_facts_in_one_form() -> None:
    letter = document(pdfs.denial_letter_pdf())
    personal = InMemoryPersonal({"plan_type": "marketplace", "state": "OH", "insurer": "Acme Health"}, [letter])
    graph = build_graph(checkpointer=InMemorySaver(), personal=personal)
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
                                    "today": "2026-04-01"}}
    await graph.ainvoke(user_input("How do I appeal? I live in Texas now.", known_facts={"age": 40}), config,
                        durability="sync")
    values = (await graph.aget_state(config)).values
    facts = values["navigator"]["facts"]
    # profile < letter < the caller's layer < the conversation; ISO dates, the facts' own keys.
    assert facts["state"] == "TX" and facts["insurer"] == "Acme Health Insurance Company"
    assert facts["plan_type"] == "employer" and facts["denial_date"] == "2026-03-03" and facts["age"] == 40
    assert facts["claim_number"] == "CLM-2026-0042117" and facts["appeal_deadline"] == "2026-08-30"
    assert set(facts) <= set(FACT_KEYS)
    assert "claim_number" not in values["facts"]  # the conversation's layer holds only what was said
    reply = (await read_outcome(graph, config)).reply or ""
    assert "Your internal appeal deadline is August 30, 2026" in reply and "Texas" in reply
    told = next(line for line in reply.splitlines() if line.startswith("Based on what you told me:"))
    assert "Texas" in told and "employer" not in told and "March 3" not in told  # the letter's are cited apart
    assert "Your denial letter (page 1)" in reply


def test_a_passage_of_the_persons_own_document_stays_among_the_sources() -> None:
    knowledge = [{"slug": "external-review", "title": "E", "source": "s", "intents": ["claim_denial_appeal"],
                  "rank": 0.9},
                 {"slug": "internal-appeals", "title": "I", "source": "s", "intents": ["claim_denial_appeal"],
                  "rank": 0.7}]
    passage = {"document_id": str(uuid.uuid4()), "kind": "denial_letter", "filename": "x.pdf", "page": 1,
               "body": "b", "rank": 0.8}
    ranked = rank_together(knowledge, [passage])
    kept = relevant_documents(ranked, "claim_denial_appeal", {"plan_type": "employer"}, ["external_review"])
    assert [hit["slug"][:8] for hit in kept] == ["external", "document"]
