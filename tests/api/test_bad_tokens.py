"""At least twenty bad bearer tokens, each answered 401 (and never 500)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from jose import jwt

from db.settings import Settings
from tests.api.conftest import Account
from tests.utils.db import TEST_SECRET

ISSUER, AUDIENCE = "insurance-navigator", "insurance-navigator-api"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def claims(user_id: str, **changes: object) -> dict[str, object]:
    now = int(time.time())
    values: dict[str, object] = {"sub": user_id, "iat": now, "nbf": now, "exp": now + 600, "iss": ISSUER,
                                 "aud": AUDIENCE, "jti": uuid.uuid4().hex, "typ": "access", "sid": str(uuid.uuid4())}
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def signed(user_id: str, key: str = TEST_SECRET, algorithm: str = "HS256", **changes: object) -> str:
    return jwt.encode(claims(user_id, **changes), key, algorithm=algorithm)


def unsigned(user_id: str, alg: str) -> str:
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims(user_id)).encode())}."


def flip_bit(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    return f"{header}.{payload}.{b64(bytes(raw))}"


# Each maker gets (user id, a valid access token of that user, that user's refresh token).
BAD_TOKENS: dict[str, Callable[[str, str, str], str]] = {
    "alg none": lambda uid, good, rt: unsigned(uid, "none"),
    "alg None": lambda uid, good, rt: unsigned(uid, "None"),
    "alg NONE": lambda uid, good, rt: unsigned(uid, "NONE"),
    "alg none with signature kept": lambda uid, good, rt: unsigned(uid, "none") + good.split(".")[2],
    "wrong key": lambda uid, good, rt: signed(uid, key="another-secret-key-that-is-long-enough-987654"),
    "empty key": lambda uid, good, rt: signed(uid, key=""),
    "HS512 with our key": lambda uid, good, rt: signed(uid, algorithm="HS512"),
    "expired": lambda uid, good, rt: signed(uid, exp=int(time.time()) - 5, iat=int(time.time()) - 700,
                                            nbf=int(time.time()) - 700),
    "nbf in the future": lambda uid, good, rt: signed(uid, nbf=int(time.time()) + 300),
    "missing exp": lambda uid, good, rt: signed(uid, exp=None),
    "missing aud": lambda uid, good, rt: signed(uid, aud=None),
    "missing iss": lambda uid, good, rt: signed(uid, iss=None),
    "missing sub": lambda uid, good, rt: signed(uid, sub=None),
    "missing jti": lambda uid, good, rt: signed(uid, jti=None),
    "missing iat": lambda uid, good, rt: signed(uid, iat=None),
    "missing nbf": lambda uid, good, rt: signed(uid, nbf=None),
    "missing typ": lambda uid, good, rt: signed(uid, typ=None),
    "missing sid (no session)": lambda uid, good, rt: signed(uid, sid=None),
    "sid not a uuid": lambda uid, good, rt: signed(uid, sid="everything"),
    "iat in the future": lambda uid, good, rt: signed(uid, iat=int(time.time()) + 120),
    "lifetime above ACCESS_TOKEN_EXPIRE_MINUTES": lambda uid, good, rt: signed(
        uid, exp=int(time.time()) + 31 * 60),
    "a year-long token issued an hour ago": lambda uid, good, rt: signed(
        uid, iat=int(time.time()) - 3600, nbf=int(time.time()) - 3600, exp=int(time.time()) + 365 * 86400),
    "wrong aud": lambda uid, good, rt: signed(uid, aud="someone-else"),
    "wrong iss": lambda uid, good, rt: signed(uid, iss="evil-issuer"),
    "typ refresh": lambda uid, good, rt: signed(uid, typ="refresh"),
    "sub not a uuid": lambda uid, good, rt: signed(uid, sub="admin"),
    "sub of nobody": lambda uid, good, rt: signed(str(uuid.uuid4())),
    "refresh token as access token": lambda uid, good, rt: rt,
    "random string": lambda uid, good, rt: "definitely-not-a-jwt",
    "three random parts": lambda uid, good, rt: "abc.def.ghi",
    "signature stripped": lambda uid, good, rt: good.rsplit(".", 1)[0] + ".",
    "signature removed entirely": lambda uid, good, rt: good.rsplit(".", 1)[0],
    "one bit flipped": lambda uid, good, rt: flip_bit(good),
    "payload swapped": lambda uid, good, rt: ".".join([good.split(".")[0], signed(str(uuid.uuid4())).split(".")[1],
                                                        good.split(".")[2]]),
    "10 KB token": lambda uid, good, rt: signed(uid, pad="x" * 10_240),
    "non-ascii garbage": lambda uid, good, rt: "é.ü.ß".encode().decode("latin-1"),
}


def test_table_is_large_enough() -> None:
    assert len(BAD_TOKENS) >= 20


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
async def test_bad_token_is_401(client: httpx.AsyncClient, alice: Account, name: str) -> None:
    token = BAD_TOKENS[name](alice.id, alice.access_token, alice.refresh_token)
    header = f"Bearer {token}".encode()  # bytes: latin-1 garbage must reach the server as sent
    response = await client.get("/auth/me", headers={"Authorization": header})
    assert response.status_code == 401, (name, response.text)
    assert response.json() == {"detail": "invalid or expired token"}


async def test_good_token_passes_and_a_revoked_jti_does_not(client: httpx.AsyncClient, settings: Settings) -> None:
    from tests.api.conftest import register_and_login

    account = await register_and_login(client)
    assert (await client.get("/auth/me", headers=account.headers)).status_code == 200
    assert (await client.post("/auth/logout", headers=account.headers)).status_code == 204
    assert (await client.get("/auth/me", headers=account.headers)).status_code == 401
    # Same claims re-signed with a new jti and session would pass: it is the jti and its session
    # that are revoked, not the user.
    fresh = signed(account.id)
    assert (await client.get("/auth/me", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200


async def test_a_token_at_the_maximum_lifetime_passes(client: httpx.AsyncClient, alice: Account) -> None:
    """The lifetime check is not off by one: exactly ACCESS_TOKEN_EXPIRE_MINUTES (30) is what we issue."""
    now = int(time.time())
    token = signed(alice.id, iat=now, nbf=now, exp=now + 30 * 60)
    assert (await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_wrong_scheme_is_401(client: httpx.AsyncClient, alice: Account) -> None:
    for header in (f"Basic {alice.access_token}", alice.access_token, "Bearer", "Bearer "):
        response = await client.get("/auth/me", headers={"Authorization": header})
        assert response.status_code == 401, header
