"""Accounts and tokens: register, login (form and JSON), refresh (rotating), logout, me.

Login counts the attempt against the account's throttle first, then verifies
the password off the event loop; an unknown email is verified against the
dummy hash, so both failures look and take the same.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError

from api.deps import Analytics, Claims, CurrentUser, SettingsDep, Throttle, Tokens, Users
from api.errors import AUTH_RESPONSES, UNAUTHORIZED_HEADERS
from api.refresh_cookie import (
    CookieMode,
    clear_refresh_cookie,
    cookie_token,
    require_same_origin,
    set_refresh_cookie,
)
from api.schemas import LoginRequest, LogoutRequest, RefreshRequest, RegisterRequest, TokenResponse, UserOut
from api.security import create_access_token, hash_password, verify_password
from db.settings import Settings
from db.throttle import LoginThrottle
from db.tokens import TokenService
from db.users import User, UserService

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_CREDENTIALS = "incorrect email or password"
NO_REFRESH_TOKEN = "no refresh token: send refresh_token in the body, or X-Refresh-Cookie: 1 with the cookie"
CROSS_SITE_RESPONSE: dict[int | str, dict[str, object]] = {
    403: {"description": "X-Refresh-Cookie on a request the browser marks as cross-site"},
}
LOGIN_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": BAD_CREDENTIALS},
    429: {"description": "Too many attempts for this account; see Retry-After"},
    **CROSS_SITE_RESPONSE,
}


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, full_name=user.full_name, role=user.role,  # type: ignore[arg-type]
                   is_active=user.is_active, created_at=user.created_at)


async def authenticate(users: UserService, throttle: LoginThrottle, email: str, password: str) -> User:
    await throttle.count_attempt(email)
    credentials = await users.credentials(email)
    stored = credentials.password_hash if credentials is not None else None
    ok, new_hash = await asyncio.to_thread(verify_password, password, stored)
    if not ok or credentials is None or not credentials.user.is_active:
        raise HTTPException(401, BAD_CREDENTIALS, headers=UNAUTHORIZED_HEADERS)
    if new_hash is not None and stored is not None:
        await users.replace_password_hash(credentials.user.id, stored, new_hash)
    await throttle.clear(email)
    return credentials.user


async def issue_tokens(settings: Settings, tokens: TokenService, user: User) -> TokenResponse:
    refresh = await tokens.issue(user.id)
    access = create_access_token(settings, user.id, session_id=refresh.family_id)
    return TokenResponse(access_token=access.token, expires_in=access.expires_in, refresh_token=refresh.token)


def deliver(pair: TokenResponse, response: Response, settings: Settings, cookie_mode: str | None) -> TokenResponse:
    """The pair as asked: refresh token in the body, or (X-Refresh-Cookie) in the cookie only."""
    if cookie_mode is None or pair.refresh_token is None:
        return pair
    set_refresh_cookie(response, settings, pair.refresh_token)
    return pair.model_copy(update={"refresh_token": None})


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut,
             responses={409: {"description": "An account with this email exists"}})
async def register(body: RegisterRequest, users: Users, analytics: Analytics) -> UserOut:
    """Create an account (role `user`). Emails are unique whatever their case."""
    if await users.credentials(body.email) is not None:
        raise HTTPException(409, "an account with this email already exists")
    password_hash = await asyncio.to_thread(hash_password, body.password)
    user = await users.create(body.email, password_hash, body.full_name)
    await analytics.record("user_registered", user.id)
    return user_out(user)


@router.post("/token", response_model=TokenResponse, responses=LOGIN_RESPONSES)
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], settings: SettingsDep,
                users: Users, tokens: Tokens, throttle: Throttle, analytics: Analytics) -> TokenResponse:
    """OAuth2 password flow (what the Authorize button of /docs uses); `username` is the email."""
    try:
        login = LoginRequest(email=form.username, password=form.password)
    except ValidationError:
        # Same answer as a wrong password: the form's username need not look like an email to us.
        raise HTTPException(401, BAD_CREDENTIALS, headers=UNAUTHORIZED_HEADERS) from None
    user = await authenticate(users, throttle, login.email, login.password)
    await analytics.record("login", user.id, {"via": "form"})
    return await issue_tokens(settings, tokens, user)


@router.post("/login", response_model=TokenResponse, responses=LOGIN_RESPONSES)
async def login(body: LoginRequest, request: Request, response: Response, settings: SettingsDep, users: Users,
                tokens: Tokens, throttle: Throttle, analytics: Analytics,
                cookie_mode: CookieMode = None,  # type: ignore[assignment]  # optional without a null in the schema
                ) -> TokenResponse:
    """JSON login: same answers as /auth/token. With `X-Refresh-Cookie: 1` (the web client) the
    refresh token is set as an HttpOnly cookie for /auth/refresh and the body's is null."""
    if cookie_mode is not None:
        require_same_origin(request)
    user = await authenticate(users, throttle, body.email, body.password)
    await analytics.record("login", user.id, {"via": "json"})
    return deliver(await issue_tokens(settings, tokens, user), response, settings, cookie_mode)


@router.post("/refresh", response_model=TokenResponse,
             responses={401: {"description": "Refresh token missing, invalid, expired, or reused (family revoked)"},
                        **CROSS_SITE_RESPONSE})
async def refresh(request: Request, response: Response, settings: SettingsDep, users: Users, tokens: Tokens,
                  cookie_mode: CookieMode = None,  # type: ignore[assignment]  # optional without a null in the schema
                  body: RefreshRequest | None = None) -> TokenResponse:
    """Spend the refresh token for a new pair. Presenting a spent one revokes its whole family.
    The token comes from the body (the new one is then in the body), or, with no body and
    `X-Refresh-Cookie: 1`, from the cookie set at login (the new one then replaces it there)."""
    token: str | None = None
    from_cookie = body is None and cookie_mode is not None
    if body is not None:
        token = body.refresh_token
    elif from_cookie:
        require_same_origin(request)
        token = cookie_token(request)
    if token is None:
        raise HTTPException(401, NO_REFRESH_TOKEN, headers=UNAUTHORIZED_HEADERS)
    issued = await tokens.rotate(token)
    user = await users.get(issued.user_id)
    if not user.is_active:
        raise HTTPException(401, "account disabled", headers=UNAUTHORIZED_HEADERS)
    access = create_access_token(settings, user.id, session_id=issued.family_id)
    pair = TokenResponse(access_token=access.token, expires_in=access.expires_in, refresh_token=issued.token)
    return deliver(pair, response, settings, cookie_mode if from_cookie else None)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=AUTH_RESPONSES)
async def logout(claims: Claims, tokens: Tokens, body: LogoutRequest | None = None) -> Response:
    """Revoke this access token (until it expires) and its session's refresh family, on every
    process, and clear the web client's refresh cookie."""
    await tokens.logout(claims.user_id, claims.jti, claims.expires_at, claims.session_id,
                        body.refresh_token if body is not None else None)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_refresh_cookie(response)
    return response


@router.get("/me", response_model=UserOut, responses=AUTH_RESPONSES)
async def me(user: CurrentUser) -> UserOut:
    return user_out(user)
