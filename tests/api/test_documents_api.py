"""Documents and the profile over HTTP: upload, facts, list, download, delete, limits, bad files."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from tests.api.conftest import Account, register_and_login
from tests.conftest import make_settings
from tests.utils import pdfs

MIB = 1024 * 1024
COUNT_ROWS = """
SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM document_chunks)
     + (SELECT count(*) FROM document_conversations)
"""


async def upload(client: httpx.AsyncClient, account: Account, data: bytes, name: str = "letter.pdf",
                 content_type: str = "application/pdf", **form: str) -> httpx.Response:
    return await client.post("/documents", headers=account.headers, files={"file": (name, data, content_type)},
                             data=form)


async def test_upload_reads_the_facts_and_serves_the_file_back(client: httpx.AsyncClient, alice: Account) -> None:
    letter = pdfs.denial_letter_pdf()
    created = await upload(client, alice, letter, "denial.pdf")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "denial_letter" and body["media_type"] == "application/pdf" and body["pages"] == 2
    assert body["standalone"] is True and body["conversation_ids"] == []
    facts = body["facts"]
    assert facts["denial_date"] == "2026-03-03" and facts["appeal_deadline"] == "2026-08-30"
    assert facts["claim_number"] == "CLM-2026-0042117" and facts["reason_code"] == "medical_necessity"
    assert facts["pages"]["reason"] == 1 and facts["pages"]["appeal_address"] == 2

    fetched = await client.get(f"/documents/{body['id']}", headers=alice.headers)
    assert fetched.status_code == 200 and fetched.json()["facts"] == facts
    download = await client.get(f"/documents/{body['id']}/file", headers=alice.headers)
    assert download.status_code == 200 and download.content == letter
    assert download.headers["content-type"] == "application/pdf"
    assert 'filename="denial.pdf"' in download.headers["content-disposition"]
    listed = await client.get("/documents", headers=alice.headers)
    assert body["id"] in [item["id"] for item in listed.json()["items"]]


async def test_the_type_comes_from_the_bytes_not_the_name(client: httpx.AsyncClient, alice: Account) -> None:
    text = b"Explanation of Benefits\nTHIS IS NOT A BILL\nClaim number: T-100\nAmount billed: $90.00\nYou owe: $20.00"
    response = await upload(client, alice, text, "scan.pdf", "application/pdf")
    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == "text/plain" and response.json()["kind"] == "explanation_of_benefits"
    assert response.json()["facts"]["owed"] == "$20.00"


async def test_same_file_twice_is_stored_once_and_attached_to_both_places(
        app: FastAPI, client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    dana = await register_and_login(client)
    conversation = await client.post("/conversations", json={}, headers=dana.headers)
    letter = pdfs.denial_letter_pdf(pdfs.Letter(claim_number="CLM-TWICE-1"))
    first = await upload(client, dana, letter, conversation_id=conversation.json()["id"])
    again = await upload(client, dana, letter, "same-again.pdf")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["standalone"] is True and again.json()["conversation_ids"] == [conversation.json()["id"]]
    assert await pool.fetchval("SELECT count(*) FROM documents WHERE user_id = $1", uuid.UUID(dana.id)) == 1
    # Another person uploading the same bytes gets a document of their own.
    erin = await register_and_login(client)
    theirs = await upload(client, erin, letter)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


async def test_a_conversations_documents_are_listed_with_the_upload_limit(
        client: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    first = (await client.post("/conversations", json={}, headers=alice.headers)).json()["id"]
    second = (await client.post("/conversations", json={}, headers=alice.headers)).json()["id"]
    letter = await upload(client, alice, pdfs.denial_letter_pdf(pdfs.Letter(claim_number="CLM-LIST-1")),
                          conversation_id=first)
    await upload(client, alice, pdfs.explanation_of_benefits_pdf(), conversation_id=second)
    listed = await client.get("/documents", params={"conversation_id": first}, headers=alice.headers)
    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()["items"]] == [letter.json()["id"]]
    assert listed.json()["max_bytes"] == 10 * MIB  # DOCUMENT_MAX_BYTES, for a client to check before it sends
    assert len((await client.get("/documents", headers=alice.headers)).json()["items"]) >= 2
    # Someone else's conversation is not found (nor are its documents listed).
    theirs = await client.get("/documents", params={"conversation_id": first}, headers=bob.headers)
    assert theirs.status_code == 404


async def test_upload_to_someone_elses_conversation_is_404_and_stores_nothing(
        client: httpx.AsyncClient, alice: Account, bob: Account, pool: asyncpg.Pool) -> None:
    conversation = await client.post("/conversations", json={}, headers=alice.headers)
    before = await pool.fetchval(COUNT_ROWS)
    response = await upload(client, bob, pdfs.denial_letter_pdf(pdfs.Letter(claim_number="CLM-BOB-9")),
                            conversation_id=conversation.json()["id"])
    assert response.status_code == 404
    assert await pool.fetchval(COUNT_ROWS) == before


@pytest.mark.parametrize(("name", "make", "status", "says"), [
    ("empty", lambda: b"", 422, "empty"),
    ("png named pdf", pdfs.png_bytes, 415, "PNG image"),
    ("encrypted", pdfs.encrypted_pdf, 422, "password"),
    ("image only", pdfs.image_only_pdf, 422, "no text layer"),
    ("truncated", pdfs.truncated_pdf, 422, "damaged or incomplete"),
    ("decompression bomb", lambda: pdfs.bomb_pdf(128 * MIB), 422, "inflates"),
    ("binary junk", lambda: bytes(range(256)) * 8, 415, "neither a PDF nor plain text"),
])
async def test_bad_files_get_a_clear_4xx_and_nothing_is_stored(
        client: httpx.AsyncClient, alice: Account, pool: asyncpg.Pool, name: str, make: object, status: int,
        says: str) -> None:
    before = await pool.fetchval(COUNT_ROWS)
    response = await upload(client, alice, make(), f"{name}.pdf")  # type: ignore[operator]
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]
    assert "Traceback" not in response.text
    assert await pool.fetchval(COUNT_ROWS) == before
    # The server is still serving.
    assert (await client.get("/documents", headers=alice.headers)).status_code == 200


async def test_size_limit_follows_document_max_bytes_and_other_routes_keep_theirs(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    frank = await register_and_login(client)
    big = pdfs.padded_pdf(9 * MIB)
    assert 9 * MIB <= len(big) < 10 * MIB
    accepted = await upload(client, frank, big, "nine.pdf")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["size_bytes"] == len(big)
    too_big = await upload(client, frank, pdfs.padded_pdf(11 * MIB), "eleven.pdf")
    assert too_big.status_code == 413
    assert await pool.fetchval("SELECT count(*) FROM documents WHERE user_id = $1", uuid.UUID(frank.id)) == 1
    # Everything else keeps MAX_REQUEST_BYTES (1 MiB).
    other = await client.post("/conversations", headers={**frank.headers, "content-type": "application/json"},
                              content=b'{"title": "' + b"x" * (2 * MIB) + b'"}')
    assert other.status_code == 413


async def test_delete_removes_bytes_text_and_chunks(client: httpx.AsyncClient, alice: Account,
                                                    pool: asyncpg.Pool) -> None:
    created = await upload(client, alice, pdfs.denial_letter_pdf(pdfs.Letter(claim_number="CLM-DEL-1")))
    document_id = uuid.UUID(created.json()["id"])
    assert await pool.fetchval("SELECT count(*) FROM document_chunks WHERE document_id = $1", document_id) > 0
    deleted = await client.delete(f"/documents/{document_id}", headers=alice.headers)
    assert deleted.status_code == 204
    assert await pool.fetchval("SELECT count(*) FROM documents WHERE id = $1", document_id) == 0
    assert await pool.fetchval("SELECT count(*) FROM document_chunks WHERE document_id = $1", document_id) == 0
    assert (await client.get(f"/documents/{document_id}", headers=alice.headers)).status_code == 404
    assert (await client.delete(f"/documents/{document_id}", headers=alice.headers)).status_code == 404


async def test_profile_round_trip_and_validation(client: httpx.AsyncClient) -> None:
    gail = await register_and_login(client)
    empty = await client.get("/me/profile", headers=gail.headers)
    assert empty.status_code == 200 and empty.json()["plan_type"] is None and empty.json()["updated_at"] is None
    saved = await client.put("/me/profile", headers=gail.headers, json={
        "plan_type": "employer", "insurer": "Acme Health", "state": "oh", "plan_through": "my employer",
        "renewal_month": 1, "preferred_language": "es"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["state"] == "OH" and saved.json()["plan_type"] == "employer"
    assert (await client.get("/me/profile", headers=gail.headers)).json() == saved.json()
    # PUT replaces the whole profile.
    replaced = await client.put("/me/profile", headers=gail.headers, json={"plan_type": "marketplace"})
    assert replaced.json()["insurer"] is None and replaced.json()["plan_type"] == "marketplace"
    for bad in ({"plan_type": "gold"}, {"state": "Ohio"}, {"renewal_month": 13}, {"favourite_colour": "red"},
                {"insurer": "x" * 201}):
        response = await client.put("/me/profile", headers=gail.headers, json=bad)
        assert response.status_code == 422, bad
    assert (await client.get("/me/profile", headers=gail.headers)).json()["plan_type"] == "marketplace"
    assert (await client.get("/me/profile")).status_code == 401


async def test_a_server_with_another_key_says_so_instead_of_serving_garbage(
        client: httpx.AsyncClient, alice: Account, migrated_dsn: str) -> None:
    created = await upload(client, alice, pdfs.denial_letter_pdf(pdfs.Letter(claim_number="CLM-KEY-1")))
    document_id = created.json()["id"]
    other_key = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzI="
    rekeyed = create_app(make_settings(migrated_dsn, document_encryption_key=other_key), dsn=migrated_dsn,
                         workers=None)
    async with rekeyed.router.lifespan_context(rekeyed):
        transport = httpx.ASGITransport(app=rekeyed)
        async with httpx.AsyncClient(transport=transport, base_url="http://rekeyed") as other:
            download = await other.get(f"/documents/{document_id}/file", headers=alice.headers)
            assert download.status_code == 500
            assert "another DOCUMENT_ENCRYPTION_KEY" in download.json()["detail"]
            assert other_key not in download.text and "%PDF" not in download.text
            # The facts were not encrypted: they still read.
            facts = await other.get(f"/documents/{document_id}", headers=alice.headers)
            assert facts.status_code == 200 and facts.json()["facts"]["claim_number"] == "CLM-KEY-1"
