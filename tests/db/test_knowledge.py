"""Knowledge documents and risk detections against the real PostgreSQL."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from agents.kb import shipped_documents
from db.knowledge import KnowledgeSearch, count_documents, delete_document, search_documents, upsert_documents
from db.risk import RiskLog, list_risks, record_risk


def operator_doc(slug: str, body: str, **extra: object) -> dict[str, object]:
    return {"slug": slug, "title": extra.pop("title", "Operator note"), "source": "Acme Health plan manual",
            "url": None, "intents": extra.pop("intents", ["other"]), "keywords": "", "deadline": None,
            "body": body, **extra}


@pytest.fixture(scope="module")
async def loaded(pool: asyncpg.Pool) -> asyncpg.Pool:
    await upsert_documents(pool, [d.as_dict() for d in shipped_documents()], origin="shipped")
    return pool


async def test_shipped_documents_load_once_and_reload_is_a_no_op(loaded: asyncpg.Pool) -> None:
    docs = [d.as_dict() for d in shipped_documents()]
    assert len(docs) >= 30
    again = await upsert_documents(loaded, docs, origin="shipped")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(docs))
    assert (await count_documents(loaded))["shipped"] == len(docs)


@pytest.mark.parametrize(("query", "intent", "expected"), [
    ("my MRI claim was denied, how do I appeal", "claim_denial_appeal", "internal-appeals"),
    ("independent external review after final denial", "claim_denial_appeal", "external-review"),
    ("I got laid off, can I keep my insurance with cobra", "continuation_coverage", "cobra-basics"),
    ("surprise bill from an out-of-network anesthesiologist", "billing_dispute", "no-surprises-act"),
    ("medicare part d drug not on formulary exception", "prescription_drugs", "medicare-part-d-exceptions"),
    ("uninsured good faith estimate for surgery", "cost_estimate", "good-faith-estimate"),
])
async def test_full_text_search_ranks_the_relevant_document_first(
        loaded: asyncpg.Pool, query: str, intent: str, expected: str) -> None:
    hits = await search_documents(loaded, query, intent=intent, limit=3)
    assert hits[0]["slug"] == expected, [h["slug"] for h in hits]
    assert hits[0]["rank"] >= hits[-1]["rank"]
    assert hits[0]["source"] and hits[0]["title"]


async def test_search_uses_the_gin_index(loaded: asyncpg.Pool) -> None:
    async with loaded.acquire() as con, con.transaction():
        await con.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in await con.fetch(
            "EXPLAIN SELECT slug FROM knowledge_documents WHERE search @@ to_tsquery('simple', 'appeal')"))
    assert "knowledge_documents_search_idx" in plan


async def test_search_with_no_matching_word_is_empty(loaded: asyncpg.Pool) -> None:
    assert await search_documents(loaded, "zzzqx the and of") == []
    assert await KnowledgeSearch(loaded)("", intent="other") == []
    with pytest.raises(ValueError):
        await search_documents(loaded, "appeal", limit=0)


async def test_operator_documents_are_searchable_and_survive_shipped_reloads(loaded: asyncpg.Pool) -> None:
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    doc = operator_doc(slug, "Acme members call the zorblatt hotline for gym discounts.", title="Zorblatt hotline")
    result = await upsert_documents(loaded, [doc])
    assert result.inserted == 1
    hits = await search_documents(loaded, "zorblatt gym")
    assert hits[0]["slug"] == slug
    # An operator may override a shipped document by slug; shipped reloads then leave it alone.
    override = operator_doc("internal-appeals", "Acme: send appeals to PO Box 1, within 180 days.",
                            title="Acme internal appeals", intents=["claim_denial_appeal"])
    assert (await upsert_documents(loaded, [override])).updated == 1
    await upsert_documents(loaded, [d.as_dict() for d in shipped_documents()], origin="shipped")
    row = await loaded.fetchrow("SELECT title, origin FROM knowledge_documents WHERE slug = 'internal-appeals'")
    assert (row["title"], row["origin"]) == ("Acme internal appeals", "operator")
    assert await delete_document(loaded, "internal-appeals")
    assert await delete_document(loaded, slug)
    await upsert_documents(loaded, [d.as_dict() for d in shipped_documents()], origin="shipped")


async def test_bad_documents_are_refused_and_nothing_is_stored(loaded: asyncpg.Pool) -> None:
    before = await count_documents(loaded)
    with pytest.raises(ValueError):
        await upsert_documents(loaded, [operator_doc("dup", "x"), operator_doc("dup", "y")])
    with pytest.raises(asyncpg.CheckViolationError):
        await upsert_documents(loaded, [operator_doc("fine-one", "ok"), operator_doc("Bad Slug!", "x")])
    assert await count_documents(loaded) == before


async def test_risk_recording_is_idempotent(pool: asyncpg.Pool) -> None:
    thread = str(uuid.uuid4())
    user = uuid.uuid4()
    args = dict(conversation_id=thread, user_id=str(user), message_id="m1", category="self_harm",
                severity="urgent", excerpt="I want to end my life")
    assert await record_risk(pool, **args) is True
    assert await record_risk(pool, **args) is False  # a replayed guard step
    await RiskLog(pool)(**{**args, "category": "medical_emergency"})
    risks = await list_risks(pool, thread)
    assert [(r.category, r.user_id) for r in risks] == [("self_harm", user), ("medical_emergency", user)]
    with pytest.raises(ValueError):
        await record_risk(pool, **{**args, "user_id": "not-a-uuid"})
