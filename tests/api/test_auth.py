"""Accounts and tokens over HTTP: registration rules, login, rehash, refresh rotation, logout, throttling."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid

import httpx
import pytest
from fastapi import FastAPI
from passlib.context import CryptContext

from api.app import create_app
from db.settings import Settings
from tests.api.conftest import PASSWORD, Account, register_and_login


def new_email() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@example.com"


async def test_register_rules(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = new_email()
    created = await client.post("/auth/register", json={"email": email, "password": PASSWORD, "full_name": "Ann"})
    assert created.status_code == 202
    assert created.json() == {"email": email, "confirmation_required": False,
                              "detail": "If no account uses this address, it has been created: sign in with this "
                                        "email and password."}
    assert PASSWORD not in created.text and "hash" not in created.text
    # The same address in another case: the same answer, and the account is untouched.
    dup = await client.post("/auth/register", json={"email": email.upper(), "password": "another password 2"})
    assert dup.status_code == 202 and dup.json() == created.json()
    login = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json()["role"] == "user" and me.json()["full_name"] == "Ann"
    assert await app.state.pool.fetchval("SELECT count(*) FROM users WHERE lower(email) = $1", email) == 1
    for password in ["short7!", "x" * 257, "has\x00nul-byte"]:
        response = await client.post("/auth/register", json={"email": new_email(), "password": password})
        assert response.status_code == 422, password
        assert password not in response.text
    # A lone surrogate is valid JSON but not valid text: 422, not 500.
    raw = b'{"email": "%s", "password": "abc\\ud800defghij"}' % new_email().encode()
    response = await client.post("/auth/register", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    ok = await client.post("/auth/register", json={"email": new_email(), "password": "x" * 256})
    assert ok.status_code == 202


async def test_login_json_and_form_and_me(client: httpx.AsyncClient, alice: Account) -> None:
    form = await client.post("/auth/token", data={"username": alice.email, "password": alice.password})
    assert form.status_code == 200
    body = form.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 30 * 60 and body["refresh_token"]
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == alice.email
    # Never from the query string.
    query = await client.get("/auth/me", params={"access_token": body["access_token"], "token": body["access_token"]})
    assert query.status_code == 401
    assert (await client.get("/auth/me")).status_code == 401


async def test_unknown_email_and_wrong_password_look_the_same(client: httpx.AsyncClient, alice: Account) -> None:
    async def attempt(email: str) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = await client.post("/auth/login", json={"email": email, "password": "wrong password!"})
        return response, time.perf_counter() - started

    unknown: list[tuple[httpx.Response, float]] = []
    wrong: list[tuple[httpx.Response, float]] = []
    for _ in range(4):  # interleaved, so a busy machine slows both alike (4 stays under the account's limit of 5)
        unknown.append(await attempt(new_email()))
        wrong.append(await attempt(alice.email))
    await client.post("/auth/login", json={"email": alice.email, "password": alice.password})  # clears the count
    assert {r.status_code for r, _ in unknown + wrong} == {401}
    assert {r.text for r, _ in unknown + wrong} == {wrong[0][0].text}
    unknown_median = statistics.median(t for _, t in unknown)
    wrong_median = statistics.median(t for _, t in wrong)
    # Both pay one argon2 verification (~tens of ms): neither is a fast path.
    assert 0.5 < unknown_median / wrong_median < 2.0, (unknown_median, wrong_median)


async def test_weaker_hash_is_upgraded_on_login(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = new_email()
    weak = CryptContext(schemes=["argon2"], argon2__memory_cost=8192, argon2__rounds=1).hash(PASSWORD)
    await app.state.pool.execute("INSERT INTO users (email, password_hash) VALUES ($1, $2)", email, weak)
    response = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    stored = await app.state.pool.fetchval("SELECT password_hash FROM users WHERE email = $1", email)
    assert stored != weak and stored.startswith("$argon2id$") and "m=19456,t=2" in stored
    again = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert again.status_code == 200


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": token})


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient, app: FastAPI) -> None:
    account = await register_and_login(client)
    first = await refresh(client, account.refresh_token)
    assert first.status_code == 200
    second_token = first.json()["refresh_token"]
    assert second_token != account.refresh_token
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    assert me.status_code == 200
    # The spent token again, past the grace for racing refreshes: reuse. The whole
    # family dies, including the fresh successor.
    await app.state.pool.execute("UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 minute' "
                                 "WHERE rotated_at IS NOT NULL")
    reused = await refresh(client, account.refresh_token)
    assert reused.status_code == 401
    assert (await refresh(client, second_token)).status_code == 401
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    assert me.status_code == 401
    assert (await refresh(client, "not-a-token")).status_code == 401


async def test_concurrent_refresh_exactly_one_succeeds(client: httpx.AsyncClient) -> None:
    account = await register_and_login(client)
    results = await asyncio.gather(*(refresh(client, account.refresh_token) for _ in range(4)))
    assert sorted(r.status_code for r in results) == [200, 401, 401, 401]
    # The losers were a client racing itself, not a thief: the winner's tokens work.
    winner = next(r.json() for r in results if r.status_code == 200)
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {winner['access_token']}"})
    assert me.status_code == 200
    assert (await refresh(client, winner["refresh_token"])).status_code == 200


async def test_logout_revokes_access_jti_and_refresh_family(client: httpx.AsyncClient) -> None:
    account = await register_and_login(client)
    other_session = (await client.post("/auth/login", json={"email": account.email,
                                                            "password": account.password})).json()
    out = await client.post("/auth/logout", headers=account.headers)
    assert out.status_code == 204
    assert (await client.get("/auth/me", headers=account.headers)).status_code == 401
    assert (await refresh(client, account.refresh_token)).status_code == 401
    # Another login of the same person is another session and survives.
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {other_session['access_token']}"})
    assert me.status_code == 200
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200


async def test_failed_logins_are_throttled_per_account_across_processes(
        client: httpx.AsyncClient, settings: Settings, migrated_dsn: str) -> None:
    account = await register_and_login(client)
    second_app = create_app(settings, dsn=migrated_dsn, workers=None)
    async with second_app.router.lifespan_context(second_app):
        other = httpx.AsyncClient(transport=httpx.ASGITransport(app=second_app), base_url="http://other")
        async with other:
            statuses = []
            for i in range(5):
                target = client if i % 2 else other
                response = await target.post("/auth/login", json={"email": account.email, "password": "nope-nope"})
                statuses.append(response.status_code)
            assert statuses == [401] * 5
            locked = await other.post("/auth/login", json={"email": account.email, "password": account.password})
            assert locked.status_code == 429
            assert 1 <= int(locked.headers["retry-after"]) <= 300
            form = await client.post("/auth/token", data={"username": account.email.upper(),
                                                          "password": account.password})
            assert form.status_code == 429
    # Another account is not affected.
    fresh = await register_and_login(client)
    assert fresh.access_token


@pytest.mark.parametrize("path", ["/auth/me", "/conversations", "/stats"])
async def test_routes_need_a_token(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_stats_is_for_admins(client: httpx.AsyncClient, app: FastAPI, alice: Account) -> None:
    assert (await client.get("/stats", headers=alice.headers)).status_code == 403
    admin = await register_and_login(client)
    await app.state.pool.execute("UPDATE users SET role = 'admin' WHERE email = $1", admin.email)
    stats = await client.get("/stats", headers=admin.headers)
    assert stats.status_code == 200
    assert stats.json()["users"]["admin"] >= 1
    conversation = (await client.post("/conversations", json={}, headers=admin.headers)).json()
    queued = await client.post(f"/conversations/{conversation['id']}/runs", json={"message": "COBRA?"},
                               headers=admin.headers)
    assert queued.status_code == 202, queued.text
    runs = (await client.get("/stats", headers=admin.headers)).json()["runs"]
    assert sum(runs.values()) >= 1 and set(runs) <= {"pending", "running", "interrupted", "success", "error",
                                                      "cancelled"}
