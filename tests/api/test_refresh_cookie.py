"""The web client's refresh token: an HttpOnly, Secure, SameSite=Strict cookie for
/auth/refresh only, accepted there as well as the JSON body, refused cross-site,
cleared by logout."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.refresh_cookie import REFRESH_COOKIE
from tests.api.conftest import PASSWORD

COOKIE_MODE = {"X-Refresh-Cookie": "1"}


@pytest.fixture
async def browser_like(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client with its own cookie jar, over https (a Secure cookie is never sent over plain http)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        yield http


async def signed_in(http: httpx.AsyncClient) -> httpx.Response:
    email = f"c-{uuid.uuid4().hex[:10]}@example.com"
    assert (await http.post("/auth/register", json={"email": email, "password": PASSWORD})).status_code == 202
    response = await http.post("/auth/login", json={"email": email, "password": PASSWORD}, headers=COOKIE_MODE)
    assert response.status_code == 200, response.text
    return response


def set_cookie_attributes(response: httpx.Response) -> dict[str, str]:
    header = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and REFRESH_COOKIE in v)
    parts = [p.strip() for p in header.split(";")]
    attributes = {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts[1:]}
    attributes["value"] = parts[0].split("=", 1)[1]
    return attributes


async def test_login_sets_the_cookie_for_the_refresh_path_and_keeps_it_out_of_the_body(
        browser_like: httpx.AsyncClient) -> None:
    response = await signed_in(browser_like)
    assert response.json()["refresh_token"] is None and response.json()["access_token"]
    cookie = set_cookie_attributes(response)
    assert cookie["path"] == "/auth/refresh" and cookie["samesite"].lower() == "strict"
    assert "httponly" in cookie and "secure" in cookie and int(cookie["max-age"]) == 14 * 24 * 3600
    # Only the refresh route gets it back.
    assert browser_like.cookies.jar and all(c.path == "/auth/refresh" for c in browser_like.cookies.jar)


async def test_refresh_from_the_cookie_rotates_it(browser_like: httpx.AsyncClient) -> None:
    first = set_cookie_attributes(await signed_in(browser_like))["value"]
    refreshed = await browser_like.post("/auth/refresh", headers=COOKIE_MODE)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] is None
    second = set_cookie_attributes(refreshed)["value"]
    assert second != first
    me = await browser_like.get("/auth/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
    assert me.status_code == 200
    # The old cookie is spent: replaying it (after the concurrency grace) is reuse.
    replay = await browser_like.post("/auth/refresh", json={"refresh_token": first})
    assert replay.status_code == 401


async def test_the_body_still_works_and_wins_over_the_cookie(browser_like: httpx.AsyncClient,
                                                             client: httpx.AsyncClient) -> None:
    email = f"b-{uuid.uuid4().hex[:10]}@example.com"
    await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    pair = (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
    assert pair["refresh_token"]  # no X-Refresh-Cookie: the body, as before
    rotated = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert rotated.status_code == 200 and rotated.json()["refresh_token"]
    assert "set-cookie" not in rotated.headers

    # A client holding another session's cookie that sends a token in the body gets the body's
    # session back in the body, and its cookie is left as it was.
    cookie = set_cookie_attributes(await signed_in(browser_like))["value"]
    body_wins = await browser_like.post("/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]},
                                        headers=COOKIE_MODE)
    assert body_wins.status_code == 200 and body_wins.json()["refresh_token"]
    assert "set-cookie" not in body_wins.headers
    me = await browser_like.get("/auth/me", headers={"Authorization": f"Bearer {body_wins.json()['access_token']}"})
    assert me.json()["email"] == email
    assert [c.value for c in browser_like.cookies.jar] == [cookie]


async def test_refresh_from_the_cookie_needs_the_header_and_a_same_origin_request(
        browser_like: httpx.AsyncClient) -> None:
    await signed_in(browser_like)
    # A cross-site form cannot add the header: without it the cookie is not looked at.
    no_header = await browser_like.post("/auth/refresh")
    assert no_header.status_code == 401 and "X-Refresh-Cookie" in no_header.json()["detail"]
    for site in ("cross-site", "same-site"):
        refused = await browser_like.post("/auth/refresh", headers={**COOKIE_MODE, "Sec-Fetch-Site": site})
        assert refused.status_code == 403
    login = await browser_like.post("/auth/login", json={"email": "x@example.com", "password": "whatever"},
                                    headers={**COOKIE_MODE, "Sec-Fetch-Site": "cross-site"})
    assert login.status_code == 403
    # None of that spent the cookie.
    ok = await browser_like.post("/auth/refresh", headers={**COOKIE_MODE, "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200
    assert (await browser_like.post("/auth/refresh", headers={"X-Refresh-Cookie": "yes"})).status_code == 422


async def test_no_cookie_is_401(browser_like: httpx.AsyncClient) -> None:
    response = await browser_like.post("/auth/refresh", headers=COOKIE_MODE)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


async def test_logout_clears_the_cookie_and_revokes_its_session(browser_like: httpx.AsyncClient) -> None:
    login = await signed_in(browser_like)
    spent = set_cookie_attributes(login)["value"]
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    out = await browser_like.post("/auth/logout", headers=auth)
    assert out.status_code == 204
    cleared = set_cookie_attributes(out)
    assert cleared["path"] == "/auth/refresh" and cleared["max-age"] == "0"
    assert not browser_like.cookies.jar
    assert (await browser_like.post("/auth/refresh", json={"refresh_token": spent})).status_code == 401
