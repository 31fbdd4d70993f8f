"""Personal API keys: shown once, stored hashed, listed without the key, accepted in x-api-key
on every route (not only /lg), refused once revoked or when their user is gone; CORS_ORIGINS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from db.api_keys import hash_api_key
from db.settings import ConfigError, Settings, load_settings
from tests.api.conftest import Account, register_and_login
from tests.conftest import make_settings


async def test_a_key_is_shown_once_stored_hashed_and_works_everywhere(client: httpx.AsyncClient, app: FastAPI,
                                                                     alice: Account) -> None:
    created = await client.post("/auth/api-keys", json={"name": "laptop script"}, headers=alice.headers)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("nav_") and created.json()["prefix"] == key[:12]
    stored = await app.state.pool.fetchrow("SELECT key_hash, prefix FROM api_keys WHERE id = $1",
                                           created.json()["id"])
    assert bytes(stored["key_hash"]) == hash_api_key(key) and key not in str(dict(stored))

    listed = await client.get("/auth/api-keys", headers=alice.headers)
    assert [k["name"] for k in listed.json()] == ["laptop script"] and key not in listed.text

    as_key = {"x-api-key": key}
    assert (await client.get("/auth/me", headers=as_key)).json()["email"] == alice.email
    made = await client.post("/conversations", json={"title": "by key"}, headers=as_key)
    assert made.status_code == 201
    assert (await client.get(f"/conversations/{made.json()['id']}", headers=alice.headers)).status_code == 200
    assert (await client.post("/lg/assistants/search", json={}, headers=as_key)).status_code == 200
    assert (await client.get("/auth/api-keys", headers=as_key)).json()[0]["last_used_at"] is not None


@pytest.mark.parametrize("key", ["nav_not-a-key", "no-prefix", "x" * 5000])
async def test_unknown_keys_are_401(client: httpx.AsyncClient, key: str) -> None:
    response = await client.get("/auth/me", headers={"x-api-key": key})
    assert response.status_code == 401 and response.json() == {"detail": "invalid or revoked API key"}


async def test_revoked_keys_and_keys_of_deleted_users_are_401(client: httpx.AsyncClient, app: FastAPI,
                                                              alice: Account, bob: Account) -> None:
    key = (await client.post("/auth/api-keys", json={"name": "soon revoked"}, headers=alice.headers)).json()
    assert (await client.delete(f"/auth/api-keys/{key['id']}", headers=bob.headers)).status_code == 404
    assert (await client.get("/auth/me", headers={"x-api-key": key["key"]})).status_code == 200
    assert (await client.delete(f"/auth/api-keys/{key['id']}", headers=alice.headers)).status_code == 204
    assert (await client.get("/auth/me", headers={"x-api-key": key["key"]})).status_code == 401
    assert (await client.delete(f"/auth/api-keys/{key['id']}", headers=alice.headers)).status_code == 404
    assert key["id"] not in (await client.get("/auth/api-keys", headers=alice.headers)).text

    carol = await register_and_login(client)
    carols = (await client.post("/auth/api-keys", json={"name": "carol"}, headers=carol.headers)).json()
    assert (await client.get("/auth/me", headers={"x-api-key": carols["key"]})).status_code == 200
    await app.state.pool.execute("DELETE FROM users WHERE id = $1", carol.id)
    assert (await client.post("/lg/threads/search", json={}, headers={"x-api-key": carols["key"]})).status_code == 401


async def test_key_names_are_checked(client: httpx.AsyncClient, alice: Account) -> None:
    for name in ["", "   ", "x" * 101, "nul\x00"]:
        response = await client.post("/auth/api-keys", json={"name": name}, headers=alice.headers)
        assert response.status_code == 422, name
    assert (await client.post("/auth/api-keys", json={"name": "x"})).status_code == 401


@pytest.fixture(scope="module")
async def cors_client(settings: Settings, migrated_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(migrated_dsn, cors_origins="https://chat.example.com, http://localhost:3000"),
                     dsn=migrated_dsn, workers=None)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            yield http


async def test_cors_preflight_and_credentials_only_for_listed_origins(cors_client: httpx.AsyncClient) -> None:
    preflight = await cors_client.options("/lg/threads/search", headers={
        "Origin": "https://chat.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://chat.example.com"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()

    listed = await cors_client.get("/health", headers={"Origin": "http://localhost:3000"})
    assert listed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "content-location" in listed.headers["access-control-expose-headers"].lower()

    other = await cors_client.get("/health", headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in other.headers
    refused = await cors_client.options("/lg/threads/search", headers={
        "Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


async def test_no_cors_headers_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": "https://chat.example.com"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("value", ["https://ok.example.com/", "ftp://x.example.com", "*,https://a.example.com",
                                   "not an origin"])
def test_bad_cors_origins_name_the_setting(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)
    with pytest.raises(ConfigError, match="CORS_ORIGINS"):
        load_settings(_env_file=None, jwt_secret_key="k" * 40)


async def test_agent_protocol_calls_this_server_does_not_serve_say_so(client: httpx.AsyncClient,
                                                                       alice: Account) -> None:
    for method, path in [("POST", "/lg/assistants"), ("POST", "/lg/runs/crons"), ("PUT", "/lg/store/items"),
                         ("POST", f"/lg/threads/{alice.id}/state")]:
        response = await client.request(method, path, json={}, headers=alice.headers)
        assert response.status_code in (404, 405), (method, path)
        assert "not part of the Agent Protocol this server offers" in response.json()["detail"], (method, path)
    assert (await client.get("/nothing-here")).json() == {"detail": "Not Found"}
