"""Registration confirmed by email: the account exists once its owner opens the link, the
answer is the same for a taken address (whose owner is told instead), and registering someone
else's address first does not keep them out."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from db.registrations import purge_expired_registrations
from db.settings import ConfigError
from scripts.dev.receivers import SmtpReceiver
from tests.api.conftest import PASSWORD, client_at, started_app
from tests.conftest import make_settings
from tests.utils.mail import RecordingSender

PUBLIC_URL = "https://navigator.example.org"


def new_email() -> str:
    return f"mail-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture(scope="module")
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture(scope="module")
async def mail_app(migrated_dsn: str, sender: RecordingSender) -> AsyncIterator[FastAPI]:
    settings = make_settings(migrated_dsn, public_url=PUBLIC_URL + "/")
    async with started_app(settings, migrated_dsn, confirmation_sender=sender) as application:
        yield application


@pytest.fixture
async def http(mail_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_at(mail_app, "198.51.100.60") as client:
        yield client


def test_a_sender_needs_the_public_url(migrated_dsn: str) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        create_app(make_settings(migrated_dsn), dsn=migrated_dsn, workers=None, confirmation_sender=RecordingSender())
    with pytest.raises(ConfigError, match="^PUBLIC_URL is required when registration confirms by email .* "
                                          "REGISTRATION_CONFIRMATION=off$"):
        create_app(make_settings(migrated_dsn, smtp_host="127.0.0.1"), dsn=migrated_dsn, workers=None)
    with pytest.raises(ConfigError, match="^SMTP_HOST is required when REGISTRATION_CONFIRMATION=email$"):
        create_app(make_settings(migrated_dsn, registration_confirmation="email", public_url=PUBLIC_URL),
                   dsn=migrated_dsn, workers=None)


async def test_with_smtp_configured_the_link_comes_by_email(migrated_dsn: str) -> None:
    smtp = SmtpReceiver().start()
    try:
        settings = make_settings(migrated_dsn, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                                 public_url=PUBLIC_URL, smtp_from="Navigator <accounts@navigator.example.org>")
        async with started_app(settings, migrated_dsn) as app, client_at(app, "198.51.100.61") as client:
            email = new_email()
            answer = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
            assert answer.status_code == 202 and answer.json()["confirmation_required"] is True
            for _ in range(100):
                if smtp.messages:
                    break
                await asyncio.sleep(0.05)
            [message] = smtp.messages
            assert message["To"] == email and message["From"] == "Navigator <accounts@navigator.example.org>"
            body = message.get_payload(decode=True).decode()
            token = re.search(r"/#/confirm/([A-Za-z0-9_-]+)", body).group(1)  # type: ignore[union-attr]
            assert (await client.post("/auth/confirm", json={"token": token})).status_code == 201
            assert (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).status_code == 200
    finally:
        smtp.stop()


async def register(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/auth/register", json={"email": email, "password": password})


async def test_the_link_creates_the_account(http: httpx.AsyncClient, sender: RecordingSender,
                                            mail_app: FastAPI) -> None:
    email = new_email()
    answer = await register(http, email)
    assert answer.status_code == 202 and answer.json()["confirmation_required"] is True
    assert (await http.post("/auth/login", json={"email": email, "password": PASSWORD})).status_code == 401
    [message] = sender.to(email)
    assert message.subject == "Confirm your Insurance Navigator account"
    assert f"{PUBLIC_URL}/#/confirm/" in message.body and PASSWORD not in message.body
    token = sender.token_for(email)
    confirmed = await http.post("/auth/confirm", json={"token": token})
    assert confirmed.status_code == 201 and confirmed.json()["email"] == email
    assert (await http.post("/auth/login", json={"email": email, "password": PASSWORD})).status_code == 200
    again = await http.post("/auth/confirm", json={"token": token})
    assert again.status_code == 404 and "invalid, used or expired" in again.json()["detail"]
    assert await mail_app.state.pool.fetchval("SELECT count(*) FROM pending_registrations WHERE email = $1",
                                              email) == 0


async def test_a_taken_address_gets_the_same_answer_and_its_owner_a_note(http: httpx.AsyncClient,
                                                                         sender: RecordingSender) -> None:
    email = new_email()
    await register(http, email)
    assert (await http.post("/auth/confirm", json={"token": sender.token_for(email)})).status_code == 201
    free = await register(http, new_email())
    taken = await register(http, email, "a different password")
    assert taken.status_code == free.status_code == 202
    assert {k: v for k, v in taken.json().items() if k != "email"} == \
        {k: v for k, v in free.json().items() if k != "email"}
    note = sender.to(email)[-1]
    assert note.subject == "You already have an Insurance Navigator account" and "/#/confirm/" not in note.body
    assert (await http.post("/auth/login", json={"email": email, "password": PASSWORD})).status_code == 200


async def test_registering_someone_elses_address_first_does_not_keep_them_out(http: httpx.AsyncClient,
                                                                              sender: RecordingSender) -> None:
    email = new_email()
    await register(http, email, "the squatter's password")
    squatter_token = sender.token_for(email)
    await register(http, email, PASSWORD)  # the owner, later
    owner_token = sender.token_for(email)
    assert owner_token != squatter_token
    assert (await http.post("/auth/confirm", json={"token": owner_token})).status_code == 201
    late = await http.post("/auth/confirm", json={"token": squatter_token})
    assert late.status_code == 404  # every link for the address was spent by the first one opened
    assert (await http.post("/auth/login", json={"email": email, "password": PASSWORD})).status_code == 200
    squat = await http.post("/auth/login", json={"email": email, "password": "the squatter's password"})
    assert squat.status_code == 401


async def test_a_link_for_an_address_that_got_an_account_otherwise_is_a_conflict(
        http: httpx.AsyncClient, sender: RecordingSender, mail_app: FastAPI) -> None:
    email = new_email()
    await register(http, email)
    await mail_app.state.pool.execute("INSERT INTO users (email, password_hash) VALUES ($1, 'x')", email)  # the CLI
    late = await http.post("/auth/confirm", json={"token": sender.token_for(email)})
    assert late.status_code == 409 and late.json() == {"detail": "this address already has an account: sign in"}
    assert await mail_app.state.pool.fetchval("SELECT count(*) FROM pending_registrations WHERE email = $1",
                                              email) == 0


async def test_an_expired_link_creates_nothing(http: httpx.AsyncClient, sender: RecordingSender,
                                               mail_app: FastAPI) -> None:
    email = new_email()
    await register(http, email)
    await mail_app.state.pool.execute("UPDATE pending_registrations SET expires_at = now() - interval '1 second' "
                                      "WHERE email = $1", email)
    assert (await http.post("/auth/confirm", json={"token": sender.token_for(email)})).status_code == 404
    async with mail_app.state.pool.acquire() as con:
        assert await purge_expired_registrations(con, mail_app.state.settings) >= 1
    assert await mail_app.state.pool.fetchval("SELECT count(*) FROM pending_registrations WHERE email = $1",
                                              email) == 0
    for bad in ("short", "x" * 200, "has spaces in it!!!!"):
        assert (await http.post("/auth/confirm", json={"token": bad})).status_code == 422
