"""The web client's refresh token, kept where its scripts cannot read it.

A client that sends `X-Refresh-Cookie: 1` to `POST /auth/login` or
`POST /auth/refresh` gets its refresh token in an `HttpOnly; Secure;
SameSite=Strict` cookie whose path is the refresh route (no other request
carries it), and `refresh_token: null` in the body. `POST /auth/refresh` with
no body spends that cookie. API clients that never send the header keep the
token in the JSON body as before.

Refreshing from a cookie is CSRF-safe three ways: SameSite=Strict keeps the
browser from attaching it to a request another site starts; the custom header
cannot be set by a cross-site form, and a cross-site script would need a CORS
preflight this API never grants; and a browser's `Sec-Fetch-Site` other than
`same-origin` is refused outright.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, HTTPException, Request, Response

from db.settings import Settings

# __Secure-: browsers refuse the cookie unless it is Secure and set by a secure origin
# (https, or http://localhost / 127.0.0.1, which browsers treat as secure).
REFRESH_COOKIE = "__Secure-navigator-refresh"
REFRESH_COOKIE_PATH = "/auth/refresh"
COOKIE_HEADER = "X-Refresh-Cookie"
CROSS_SITE = "refresh from the cookie is refused for a cross-site request"

# Declared as a plain string with a default of None (see the routes): a null in the schema
# would have schema-based clients send the text "null".
CookieMode = Annotated[str, Header(
    alias=COOKIE_HEADER, pattern="^1$",
    description="`1`: the refresh token goes in an HttpOnly cookie (path /auth/refresh), "
                "not in the body; required to refresh from that cookie")]


def require_same_origin(request: Request) -> None:
    """403 when the browser says another site started this request (Fetch Metadata)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise HTTPException(403, CROSS_SITE)


def set_refresh_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(REFRESH_COOKIE, token, max_age=settings.refresh_token_expire_days * 24 * 3600,
                        path=REFRESH_COOKIE_PATH, secure=True, httponly=True, samesite="strict")


def clear_refresh_cookie(response: Response) -> None:
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=True, httponly=True,
                           samesite="strict")


def cookie_token(request: Request) -> str | None:
    token = request.cookies.get(REFRESH_COOKIE)
    return token if token else None
