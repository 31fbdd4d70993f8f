"""Limits and failure modes: 413, 422 without echo, 503 when the database is away, request ids, clean logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from db.settings import Settings
from tests.api.conftest import PASSWORD, Account, register_and_login
from tests.conftest import make_settings
from tests.utils.proxy import CuttableProxy


async def test_body_over_limit_is_413_by_length_and_chunked(client: httpx.AsyncClient, alice: Account,
                                                            settings: Settings) -> None:
    limit = settings.max_request_bytes
    big = {"title": "x", "metadata": {"blob": "y" * limit}}
    response = await client.post("/conversations", json=big, headers=alice.headers)
    assert response.status_code == 413
    assert response.json() == {"detail": "request body too large"}

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "x", "metadata": {"blob": "'
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536
        yield b'"}}'

    chunked = await client.post("/conversations", content=chunks(),
                                headers={**alice.headers, "content-type": "application/json"})
    assert chunked.status_code == 413
    # Under the limit is fine, and nothing of the refused requests was stored.
    page = (await client.get("/conversations", headers=alice.headers, params={"limit": 100})).json()
    assert all(item["metadata"] == {} or "blob" not in item["metadata"] for item in page["items"])
    small = await client.post("/conversations", json={"title": "small"}, headers=alice.headers)
    assert small.status_code == 201


async def test_validation_errors_never_echo_input(client: httpx.AsyncClient) -> None:
    secret = "hunter2-secret-\x00"
    response = await client.post("/auth/register", json={"email": "not-an-email-hunter2", "password": secret,
                                                         "extra": "hunter2-extra"})
    assert response.status_code == 422
    assert "hunter2" not in response.text
    detail = response.json()["detail"]
    assert {tuple(d["loc"]) for d in detail} >= {("body", "email"), ("body", "password")}
    assert all(set(d) == {"loc", "msg", "type"} for d in detail)
    nul_key = await client.post("/conversations", json={"metadata": {"hunter2\x00key": "v"}},
                                headers=(await register_and_login(client)).headers)
    assert nul_key.status_code == 422 and "hunter2" not in nul_key.text
    assert nul_key.json()["detail"][0]["loc"][:3] == ["body", "metadata", "<key>"]
    broken = await client.post("/auth/login", content=b'{"email": "hunter2',
                               headers={"content-type": "application/json"})
    assert broken.status_code == 422 and "hunter2" not in broken.text


async def test_request_id_is_returned_and_logs_hold_no_secrets(client: httpx.AsyncClient,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from api.logging import ContextFilter

    handler_filter = ContextFilter()
    caplog.handler.addFilter(handler_filter)
    caplog.set_level(logging.DEBUG)
    try:
        account = await register_and_login(client)
        response = await client.get("/auth/me", headers={**account.headers, "X-Request-ID": "req-123"})
        assert response.headers["x-request-id"] == "req-123"
        generated = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
        assert len(generated.headers["x-request-id"]) == 32
        await client.get("/auth/me", params={"access_token": account.access_token})
        logging.getLogger("test").info("Authorization: Bearer %s", account.access_token)
    finally:
        caplog.handler.removeFilter(handler_filter)
    text = caplog.text + "".join(str(getattr(r, "request_id", "")) for r in caplog.records)
    assert "req-123" in text
    for secret in (PASSWORD, account.access_token, account.refresh_token):
        assert secret not in text


async def test_json_log_lines_carry_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from api.logging import REQUEST_ID, configure_logging

    configure_logging("json", "INFO")
    token = REQUEST_ID.set("rid-42")
    try:
        logging.getLogger("api.test").info("login password=%s", "hunter2")
    finally:
        REQUEST_ID.reset(token)
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_navigator", False)]:
            root.removeHandler(handler)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["request_id"] == "rid-42" and "hunter2" not in line


async def test_database_down_is_503_everywhere_and_recovers(migrated_dsn: str) -> None:
    proxy = CuttableProxy(migrated_dsn)
    await proxy.start()
    app = create_app(make_settings(proxy.dsn), dsn=proxy.dsn, workers=None)
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        async with client:
            account = await register_and_login(client)
            created = await client.post("/conversations", json={"title": "kept"}, headers=account.headers)
            assert created.status_code == 201
            await proxy.cut()
            calls = [
                client.get("/health"),
                client.post("/auth/login", json={"email": account.email, "password": PASSWORD}),
                client.post("/auth/register", json={"email": "new-one@example.com", "password": PASSWORD}),
                client.get("/auth/me", headers=account.headers),
                client.get("/conversations", headers=account.headers),
                client.post("/conversations", json={}, headers=account.headers),
                client.get(f"/conversations/{created.json()['id']}", headers=account.headers),
            ]
            for call in calls:
                response = await call
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"].isdigit()
                assert "Traceback" not in response.text
            health = await client.get("/health")
            assert health.json() == {"status": "unavailable", "database": "unavailable"}
            await proxy.restore()
            assert (await client.get("/health")).json() == {"status": "ok", "database": "connected"}
            page = await client.get("/conversations", headers=account.headers)
            assert page.status_code == 200
            assert [c["title"] for c in page.json()["items"]] == ["kept"]
    await proxy.cut()


async def test_service_starts_with_the_database_down_and_answers_503() -> None:
    proxy = CuttableProxy("postgresql://nobody@127.0.0.1:1/none")
    await proxy.start()
    await proxy.cut()
    app = create_app(make_settings(proxy.dsn, db_connect_timeout_seconds=2), dsn=proxy.dsn, workers=None)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/health")).status_code == 503
            response = await client.post("/auth/login", json={"email": "a@example.com", "password": PASSWORD})
            assert response.status_code == 503


async def test_non_finite_numbers_are_422_not_500(client: httpx.AsyncClient, alice: Account) -> None:
    # Python's json module reads NaN and Infinity (and 1e999 as infinity); jsonb refuses them.
    for raw in (b'{"metadata": {"a": NaN}}', b'{"metadata": {"a": Infinity}}', b'{"metadata": {"a": 1e999}}'):
        response = await client.post("/conversations", content=raw,
                                      headers={**alice.headers, "content-type": "application/json"})
        assert response.status_code == 422, (raw, response.status_code, response.text)


async def test_masking_cannot_push_a_title_past_its_limit(client: httpx.AsyncClient, alice: Account) -> None:
    # "123-45-6789" (11 characters) is stored as "[SSN REDACTED]" (14): 200 in can be over 200 out.
    title = ("123-45-6789x" * 17)[:200]
    response = await client.post("/conversations", json={"title": title}, headers=alice.headers)
    assert response.status_code in (201, 422), (response.status_code, response.text)
    if response.status_code == 201:
        assert len(response.json()["title"]) <= 200 and "6789" not in response.json()["title"]
    register = await client.post("/auth/register", json={"email": "masked-name@example.com",
                                                         "password": PASSWORD, "full_name": title})
    assert register.status_code in (201, 422), (register.status_code, register.text)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_tracebacks_in_logs_are_scrubbed(log_format: str, capsys: pytest.CaptureFixture[str]) -> None:
    from api.logging import configure_logging

    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlY3JldA"
    configure_logging(log_format, "INFO")
    try:
        try:
            raise RuntimeError(f"refused Authorization: Bearer {token} password=hunter2")
        except RuntimeError:
            logging.getLogger("api.test").exception("request failed")
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_navigator", False)]:
            root.removeHandler(handler)
    err = capsys.readouterr().err
    assert "request failed" in err and "RuntimeError" in err
    assert token not in err and "c2lnbmF0dXJlLXNlY3JldA" not in err and "hunter2" not in err


async def test_a_value_asyncpg_cannot_encode_is_422_not_503(settings: Settings, migrated_dsn: str) -> None:
    """asyncpg's DataError subclasses InterfaceError; it must not read as 'database unavailable'."""
    application = create_app(settings, dsn=migrated_dsn, workers=None)

    @application.get("/test-only/bad-value")
    async def bad_value() -> None:
        await application.state.pool.fetchval("SELECT $1::int", "secret-looking-value")

    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/test-only/bad-value")
    assert response.status_code == 422
    assert "secret-looking-value" not in response.text
