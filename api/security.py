"""Passwords and access tokens: pure functions, no I/O.

Hashes are argon2id through passlib's API (libpass) at m=19 MiB, t=2, p=1
(OWASP's minimum); `verify_password` also says when a stored hash is older or
weaker and returns its replacement. `DUMMY_HASH` is verified when the email is
unknown, so both failures take the same time.

Access tokens are JWTs signed with JWT_SECRET_KEY. Decoding passes one
explicit algorithm list, the audience and the issuer, and requires every
claim we issue, the session id (`sid`) included; a token issued in the future
or living longer than ACCESS_TOKEN_EXPIRE_MINUTES is refused too (a leaked
key could mint such tokens; we never do). Anything else is
`InvalidAccessToken` (the API answers 401).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from passlib.context import CryptContext

from db.settings import Settings

PASSWORD_CONTEXT = CryptContext(
    schemes=["argon2"],
    deprecated="auto",
    argon2__type="ID",
    argon2__memory_cost=19 * 1024,
    argon2__rounds=2,
    argon2__parallelism=1,
)
DUMMY_HASH = PASSWORD_CONTEXT.hash(secrets.token_urlsafe(16))

ACCESS_TOKEN_TYPE = "access"
REQUIRED_CLAIMS = ("sub", "exp", "iat", "nbf", "iss", "aud", "jti", "typ", "sid")
# Far above any token we issue (~400 bytes); refuse before parsing.
MAX_TOKEN_LENGTH = 4096


class InvalidAccessToken(Exception):
    """The bearer token is malformed, forged, expired or not an access token."""


@dataclass(frozen=True)
class AccessToken:
    token: str
    jti: str
    expires_at: datetime
    expires_in: int


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    jti: str
    expires_at: datetime
    session_id: uuid.UUID


def hash_password(password: str) -> str:
    return PASSWORD_CONTEXT.hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """(matches, new hash when the stored one should be upgraded). A missing or
    unreadable hash still costs one full verification (against the dummy)."""
    if stored_hash is None:
        PASSWORD_CONTEXT.verify(password, DUMMY_HASH)
        return False, None
    try:
        return PASSWORD_CONTEXT.verify_and_update(password, stored_hash)
    except (ValueError, TypeError):
        PASSWORD_CONTEXT.verify(password, DUMMY_HASH)
        return False, None


def create_access_token(settings: Settings, user_id: uuid.UUID, *, session_id: uuid.UUID,
                        now: datetime | None = None) -> AccessToken:
    """A token of the session `session_id` (the refresh-token family of the login it came from)."""
    now = now or datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    expires_at = now + lifetime
    jti = uuid.uuid4().hex
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": jti,
        "typ": ACCESS_TOKEN_TYPE,
        "sid": str(session_id),
    }
    token = jwt.encode(claims, settings.jwt_secret(), algorithm=settings.jwt_algorithm)
    return AccessToken(token, jti, expires_at, int(lifetime.total_seconds()))


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise InvalidAccessToken("malformed token")
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != settings.jwt_algorithm:
            raise InvalidAccessToken("unexpected algorithm")
        claims = jwt.decode(token, settings.jwt_secret(), algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"verify_signature": True, "verify_aud": True, "verify_iat": True, "verify_exp": True,
                     "verify_nbf": True, "verify_iss": True, "verify_sub": True, "verify_jti": True,
                     "require_aud": True, "require_iat": True, "require_exp": True, "require_nbf": True,
                     "require_iss": True, "require_sub": True, "require_jti": True, "leeway": 0},
        )
    except (JWTError, ValueError, TypeError, KeyError, UnicodeError) as exc:
        raise InvalidAccessToken("invalid token") from exc
    return _to_claims(claims, max_lifetime_seconds=settings.access_token_expire_minutes * 60)


def _to_claims(claims: dict[str, Any], *, max_lifetime_seconds: int) -> AccessClaims:
    if any(name not in claims for name in REQUIRED_CLAIMS) or claims["typ"] != ACCESS_TOKEN_TYPE:
        raise InvalidAccessToken("not an access token")
    jti, exp, iat = claims["jti"], claims["exp"], claims["iat"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 100 or not all(isinstance(v, int | float) for v in (exp, iat)):
        raise InvalidAccessToken("invalid claims")
    # Same clock and no leeway, like nbf: a token from the future, or one meant to outlive
    # the lifetime we issue, was not made by this service.
    if iat > datetime.now(UTC).timestamp():
        raise InvalidAccessToken("issued in the future")
    if exp - iat > max_lifetime_seconds:
        raise InvalidAccessToken("lifetime above ACCESS_TOKEN_EXPIRE_MINUTES")
    try:
        user_id = uuid.UUID(claims["sub"])
        session_id = uuid.UUID(claims["sid"])
    except (ValueError, TypeError, AttributeError):
        raise InvalidAccessToken("invalid subject or session") from None
    return AccessClaims(user_id, jti, datetime.fromtimestamp(exp, UTC), session_id)
