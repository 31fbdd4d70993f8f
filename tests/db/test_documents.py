"""DocumentService on the real database: encryption at rest, keys, deletion, search, isolation, RLS, embeddings."""

from __future__ import annotations

import hashlib
import uuid

import asyncpg
import pytest

from agents.document_reader import chunk_pages, read_document
from agents.documents import extract_document_facts
from agents.models import build_embedder
from db.conversations import ConversationService
from db.document_crypto import key_id
from db.documents import DocumentSearch, DocumentService, NewDocument
from db.errors import NotFound, Undecryptable
from db.settings import decode_document_key
from tests.agents.fake_openai import EMBEDDING_DIMENSIONS, FakeOpenAI
from tests.utils import pdfs
from tests.utils.db import TEST_DOCUMENT_KEY
from tests.utils.factories import insert_user

KEY = decode_document_key(TEST_DOCUMENT_KEY)
OTHER_KEY = bytes(range(32))


def new_document(data: bytes, kind: str | None = None) -> NewDocument:
    read = read_document(data)
    facts = extract_document_facts(read.text, kind)
    return NewDocument(kind=kind or facts["kind"], filename="letter.pdf", media_type=read.media_type, data=data,
                       pages=read.page_count, text=read.text, facts=facts, chunks=chunk_pages(read.pages))


@pytest.fixture(scope="module")
def documents(pool: asyncpg.Pool) -> DocumentService:
    return DocumentService(pool, KEY)


@pytest.fixture(scope="module")
def conversations(pool: asyncpg.Pool) -> ConversationService:
    return ConversationService(pool)


async def test_the_stored_bytes_are_not_the_file(documents: DocumentService, pool: asyncpg.Pool) -> None:
    user = await insert_user(pool)
    letter = pdfs.denial_letter_pdf(pdfs.Letter(claim_number="CLM-ENC-1"))
    stored, created = await documents.store(user, new_document(letter))
    assert created
    row = await pool.fetchrow("SELECT content, digest, key_id FROM documents WHERE id = $1", stored.id)
    content = bytes(row["content"])
    assert content != letter and b"%PDF" not in content and letter[200:264] not in content
    assert len(content) == len(letter) + 12 + 16  # nonce + ciphertext + tag
    assert row["key_id"] == key_id(KEY) and len(row["key_id"]) == 16
    assert bytes(row["digest"]) != hashlib.sha256(letter).digest()  # keyed, not a plain hash
    assert (await documents.read_file(stored.id, user)).data == letter


async def test_a_wrong_key_fails_clearly_not_with_garbage(documents: DocumentService, pool: asyncpg.Pool) -> None:
    user = await insert_user(pool)
    stored, _ = await documents.store(user, new_document(pdfs.denial_letter_pdf(pdfs.Letter(claim_number="K-1"))))
    with pytest.raises(Undecryptable, match="another DOCUMENT_ENCRYPTION_KEY") as caught:
        await DocumentService(pool, OTHER_KEY).read_file(stored.id, user)
    assert TEST_DOCUMENT_KEY not in str(caught.value) and OTHER_KEY.hex() not in str(caught.value)
    # Bytes moved to another row do not decrypt either (the row is part of the authenticated data).
    other, _ = await documents.store(user, new_document(pdfs.explanation_of_benefits_pdf()))
    await pool.execute("UPDATE documents SET content = (SELECT content FROM documents WHERE id = $1) WHERE id = $2",
                       stored.id, other.id)
    with pytest.raises(Undecryptable, match="integrity check"):
        await documents.read_file(other.id, user)


async def test_deleting_a_conversation_deletes_documents_attached_only_to_it(
        documents: DocumentService, conversations: ConversationService, pool: asyncpg.Pool) -> None:
    user = await insert_user(pool)
    first = await conversations.create(user, "first")
    second = await conversations.create(user, "second")
    only_first, _ = await documents.store(user, new_document(pdfs.denial_letter_pdf(pdfs.Letter(claim_number="A-1"))),
                                          conversation_id=first.id)
    both, _ = await documents.store(user, new_document(pdfs.summary_of_benefits_pdf()), conversation_id=first.id)
    await documents.attach(both.id, user, second.id)
    account, _ = await documents.store(user, new_document(pdfs.explanation_of_benefits_pdf()))
    await documents.attach(account.id, user, first.id)

    await conversations.delete(first.id, user)
    with pytest.raises(NotFound):
        await documents.get(only_first.id, user)
    assert await pool.fetchval("SELECT count(*) FROM document_chunks WHERE document_id = $1", only_first.id) == 0
    assert (await documents.get(both.id, user)).conversation_ids == [second.id]
    assert (await documents.get(account.id, user)).conversation_ids == []
    # Someone else's conversation id deletes nothing of theirs, and is 404.
    stranger = await insert_user(pool)
    with pytest.raises(NotFound):
        await conversations.delete(second.id, stranger)
    assert (await documents.get(both.id, user)).conversation_ids == [second.id]


async def test_export_lists_documents_with_facts_and_text(documents: DocumentService, pool: asyncpg.Pool) -> None:
    user = await insert_user(pool)
    await documents.store(user, new_document(pdfs.denial_letter_pdf(pdfs.Letter(claim_number="EXP-1"))))
    await documents.store(user, new_document(pdfs.summary_of_benefits_pdf()))
    exported = await documents.export(user)
    assert [d["kind"] for d in exported] == ["denial_letter", "summary_of_benefits"]
    assert exported[0]["facts"]["claim_number"] == "EXP-1" and "EXP-1" in exported[0]["text"]
    assert exported[1]["facts"]["deductible"] == "$1,500"
    assert await documents.export(await insert_user(pool)) == []


async def test_ssns_and_card_numbers_are_masked_in_text_facts_and_chunks(documents: DocumentService,
                                                                         pool: asyncpg.Pool) -> None:
    user = await insert_user(pool)
    letter = pdfs.denial_letter_pdf(pdfs.Letter(claim_number="SSN-1", ssn="123-45-6789",
                                                reason="The card 4111 1111 1111 1111 on file is not relevant; "
                                                       "the service is not medically necessary."))
    stored, _ = await documents.store(user, new_document(letter))
    text = await pool.fetchval("SELECT text FROM documents WHERE id = $1", stored.id)
    chunks = await pool.fetchval("SELECT string_agg(body, ' ') FROM document_chunks WHERE document_id = $1",
                                 stored.id)
    for where in (text, chunks, str(stored.facts)):
        assert "123-45-6789" not in where and "4111 1111 1111 1111" not in where
    assert "[SSN REDACTED]" in text and "[CARD REDACTED]" in str(stored.facts)


async def test_search_never_returns_another_users_passages(documents: DocumentService, pool: asyncpg.Pool) -> None:
    ann, ben = await insert_user(pool), await insert_user(pool)
    await documents.store(ann, new_document(pdfs.denial_letter_pdf(pdfs.Letter(claim_number="ANN-1"))))
    await documents.store(ben, new_document(pdfs.denial_letter_pdf(pdfs.Letter(
        claim_number="BEN-1", service="physical therapy", reason="Physical therapy visits exceeded the plan limit."))))
    search = DocumentSearch(pool)
    ann_hits = await search.search(ann, "appeal denied claim lumbar therapy", limit=10)
    ben_hits = await search.search(ben, "appeal denied claim lumbar therapy", limit=10)
    assert ann_hits and ben_hits
    assert all("BEN-1" not in hit["body"] and "physical therapy visits" not in hit["body"] for hit in ann_hits)
    assert all("ANN-1" not in hit["body"] and "lumbar" not in hit["body"] for hit in ben_hits)
    assert await search.search(await insert_user(pool), "appeal denied claim", limit=10) == []


async def test_row_level_security_lets_a_non_owner_role_see_only_its_users_rows(
        documents: DocumentService, pool: asyncpg.Pool) -> None:
    ann, ben = await insert_user(pool), await insert_user(pool)
    await documents.store(ann, new_document(pdfs.denial_letter_pdf(pdfs.Letter(claim_number="RLS-ANN"))))
    await documents.store(ben, new_document(pdfs.denial_letter_pdf(pdfs.Letter(claim_number="RLS-BEN"))))
    role = f"rls_{uuid.uuid4().hex[:8]}"
    tables = ["documents", "document_chunks", "document_conversations", "user_profiles"]
    async with pool.acquire() as con:
        await con.execute(f'CREATE ROLE "{role}" NOLOGIN NOBYPASSRLS')
        try:
            for table in tables:
                await con.execute(f'GRANT SELECT ON {table} TO "{role}"')
            async with con.transaction():
                await con.execute(f'SET LOCAL ROLE "{role}"')
                assert await con.fetchval("SELECT count(*) FROM documents") == 0  # no app.user_id: nothing
                await con.execute("SELECT set_config('app.user_id', $1, true)", str(ann))
                claims = {r["facts"]["claim_number"] for r in await con.fetch("SELECT facts FROM documents")}
                assert claims == {"RLS-ANN"}
                owners = {r["user_id"] for r in await con.fetch("SELECT user_id FROM document_chunks")}
                assert owners == {ann}
        finally:
            for table in tables:
                await con.execute(f'REVOKE ALL ON {table} FROM "{role}"')
            await con.execute(f'DROP ROLE "{role}"')
    policies = {r["tablename"] for r in await pool.fetch("SELECT tablename FROM pg_policies")}
    assert set(tables) | {"document_chunk_embeddings"} <= policies


async def test_embeddings_from_an_openai_compatible_server_find_what_full_text_misses(pool: asyncpg.Pool) -> None:
    user, other = await insert_user(pool), await insert_user(pool)
    with FakeOpenAI() as server:
        embed = build_embedder(model_name="fake-embedding", base_url=server.base_url, api_key="sk-embed", timeout=5)
        search = DocumentSearch(pool, embed=embed, embedding_model="fake-embedding")
        documents = DocumentService(pool, KEY, search=search)
        letter = pdfs.denial_letter_pdf(pdfs.Letter(claim_number="VEC-1"))
        stored, _ = await documents.store(user, new_document(letter))
        await documents.store(other, new_document(pdfs.denial_letter_pdf(pdfs.Letter(claim_number="VEC-OTHER"))))
        rows = await pool.fetch("SELECT e.model, vector_dims(e.embedding) AS dims FROM document_chunk_embeddings e "
                                "JOIN document_chunks c ON c.id = e.chunk_id WHERE c.document_id = $1", stored.id)
        assert rows and all(r["model"] == "fake-embedding" and r["dims"] == EMBEDDING_DIMENSIONS for r in rows)
        # Misspelled words share no lexeme with the letter, so full text finds nothing; the vectors do.
        query = "lumbarr spinne imagng"
        assert await DocumentSearch(pool).search(user, query) == []
        hits = await search.search(user, query)
        assert hits and all(hit["document_id"] == str(stored.id) for hit in hits)
        assert any("lumbar spine" in hit["body"] for hit in hits)
        embedding_calls = [r for r in server.requests if "input" in r]
        assert embedding_calls[-1]["input"] == [query] and embedding_calls[-1]["encoding_format"] == "float"
    assert server.headers[0]["authorization"] == "Bearer sk-embed"
    await documents.delete(stored.id, user)
    assert await pool.fetchval("SELECT count(*) FROM document_chunk_embeddings WHERE user_id = $1", user) == 0


async def test_an_embedding_server_that_is_down_leaves_full_text_search(pool: asyncpg.Pool) -> None:
    from tests.agents.fake_openai import closed_port_url

    user = await insert_user(pool)
    embed = build_embedder(model_name="fake-embedding", base_url=closed_port_url(), timeout=2, max_retries=0)
    documents = DocumentService(pool, KEY, search=DocumentSearch(pool, embed=embed, embedding_model="fake-embedding"))
    stored, created = await documents.store(user, new_document(pdfs.denial_letter_pdf(pdfs.Letter(claim_number="D-1"))))
    assert created
    assert await documents.search.search(user, "lumbar spine appeal")
    assert await pool.fetchval("SELECT count(*) FROM document_chunk_embeddings WHERE user_id = $1", user) == 0
