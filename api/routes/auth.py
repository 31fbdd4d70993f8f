"""Accounts and tokens: register (and confirm), login (form and JSON), refresh (rotating), logout, me.

Registration answers the same, in the same time, whether the address is free
or taken: both pay the throttle, one argon2 hash and one transaction of the
same statements, and a taken address's account is left untouched. With a
confirmation sender (api/confirmation.py) the account is created only when
the emailed link is opened.

Login counts the attempt against the throttles first (db/throttle.py: per
account and address, per address, in total), then verifies the password off
the event loop; an unknown email is verified against the dummy hash, so both
failures look and take the same. Sign-ins, failures, refresh-token reuse and
logouts go to the audit trail.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError

from api.audit import RequestAudit
from api.client_address import CLIENT_ADDRESS
from api.confirmation import ConfirmationSender, already_registered_email, confirmation_email, send_quietly
from api.deps import Analytics, Audit, Claims, CurrentUser, Registrations, SettingsDep, Throttle, Tokens, Users
from api.errors import AUTH_RESPONSES, UNAUTHORIZED_HEADERS
from api.refresh_cookie import (
    CookieMode,
    clear_refresh_cookie,
    cookie_token,
    require_same_origin,
    set_refresh_cookie,
)
from api.schemas import (
    ConfirmRequest,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    RegistrationAccepted,
    TokenResponse,
    UserOut,
)
from api.security import create_access_token, hash_password, verify_password
from db.analytics import AnalyticsService
from db.settings import Settings
from db.throttle import AuthThrottle
from db.tokens import TokenReused, TokenService
from db.users import User, UserService

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_CREDENTIALS = "incorrect email or password"
NO_REFRESH_TOKEN = "no refresh token: send refresh_token in the body, or X-Refresh-Cookie: 1 with the cookie"
CROSS_SITE_RESPONSE: dict[int | str, dict[str, object]] = {
    403: {"description": "X-Refresh-Cookie on a request the browser marks as cross-site"},
}
LOGIN_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": BAD_CREDENTIALS},
    429: {"description": "Too many attempts for this account from this address, from this address, or in "
                         "total; see Retry-After"},
    **CROSS_SITE_RESPONSE,
}
REGISTERED_NOW = "If no account uses this address, it has been created: sign in with this email and password."
REGISTERED_BY_EMAIL = ("We sent a message to this address: open its link to finish creating the account "
                       "(if the address already has an account, the message says so).")


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, full_name=user.full_name, role=user.role,  # type: ignore[arg-type]
                   is_active=user.is_active, created_at=user.created_at)


async def authenticate(users: UserService, throttle: AuthThrottle, audit: RequestAudit, email: str, password: str,
                       via: Literal["form", "json"]) -> User:
    attempt = await throttle.login_attempt(email, CLIENT_ADDRESS.get())
    credentials = await users.credentials(email)
    stored = credentials.password_hash if credentials is not None else None
    ok, new_hash = await asyncio.to_thread(verify_password, password, stored)
    if not ok or credentials is None or not credentials.user.is_active:
        # The attempted address is not recorded: people type passwords into that field.
        await audit.record("auth.login_failed", credentials.user.id if credentials is not None else None, via=via)
        raise HTTPException(401, BAD_CREDENTIALS, headers=UNAUTHORIZED_HEADERS)
    if new_hash is not None and stored is not None:
        await users.replace_password_hash(credentials.user.id, stored, new_hash)
    await throttle.succeeded(attempt)
    await audit.record("auth.login", credentials.user.id, via=via)
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


@router.post("/register", status_code=status.HTTP_202_ACCEPTED, response_model=RegistrationAccepted,
             responses={429: {"description": "Too many registrations from this address or in total; see "
                                             "Retry-After"}})
async def register(body: RegisterRequest, request: Request, background: BackgroundTasks, settings: SettingsDep,
                   users: Users, registrations: Registrations, throttle: Throttle, analytics: Analytics,
                   audit: Audit) -> RegistrationAccepted:
    """Create an account (role `user`), or with email confirmation on, email a link that creates it.
    The answer is the same whether or not the address already has an account (that one is left
    as it is): registering says nothing about who has an account. Emails are normalised (NFKC,
    lower case); one that mixes writing systems or holds invisible characters is refused (422)."""
    await throttle.registration_attempt(CLIENT_ADDRESS.get())
    password_hash = await asyncio.to_thread(hash_password, body.password)
    sender: ConfirmationSender | None = request.app.state.confirmation_sender
    if sender is None:
        await create_now(users, analytics, audit, body, password_hash)
        return RegistrationAccepted(email=body.email, confirmation_required=False, detail=REGISTERED_NOW)
    assert settings.public_url is not None  # create_app refuses a sender without it
    async with registrations.pool.acquire() as con, con.transaction():
        outcome = await registrations.start(body.email, password_hash, body.full_name, con=con)
        if outcome.token is not None:
            await audit.record("auth.registration_pending", con=con)
            message = confirmation_email(settings.public_url, body.email, outcome.token,
                                         settings.registration_confirm_hours)
        else:
            await audit.record("auth.register_taken", outcome.taken_by, con=con)
            message = already_registered_email(settings.public_url, body.email)
    background.add_task(send_quietly, sender, message)
    return RegistrationAccepted(email=body.email, confirmation_required=True, detail=REGISTERED_BY_EMAIL)


async def create_now(users: UserService, analytics: AnalyticsService, audit: RequestAudit, body: RegisterRequest,
                     password_hash: str) -> None:
    """Free or taken, the same statements in one transaction (one commit): the times match."""
    async with users.pool.acquire() as con, con.transaction():
        outcome = await users.create_if_free(body.email, password_hash, body.full_name, con=con)
        if outcome.created:
            await audit.record("auth.registered", outcome.user_id, con=con)
            await analytics.record("user_registered", outcome.user_id, con=con)
        else:
            await audit.record("auth.register_taken", outcome.user_id, con=con)
            await analytics.record("registration_taken", None, con=con)


@router.post("/confirm", status_code=status.HTTP_201_CREATED, response_model=UserOut,
             responses={404: {"description": "The link is unknown, used or expired"},
                        409: {"description": "Another link for the address was opened first"}})
async def confirm(body: ConfirmRequest, registrations: Registrations, analytics: Analytics, audit: Audit,
                  users: Users) -> UserOut:
    """Open the emailed link's token: the account is created, with the password given at registration."""
    confirmed = await registrations.confirm(body.token)
    await audit.record("auth.registered", confirmed.user_id, confirmed_by="email")
    await analytics.record("user_registered", confirmed.user_id)
    return user_out(await users.get(confirmed.user_id))


@router.post("/token", response_model=TokenResponse, responses=LOGIN_RESPONSES)
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], settings: SettingsDep,
                users: Users, tokens: Tokens, throttle: Throttle, analytics: Analytics, audit: Audit) -> TokenResponse:
    """OAuth2 password flow (what the Authorize button of /docs uses); `username` is the email."""
    try:
        login = LoginRequest(email=form.username, password=form.password)
    except ValidationError:
        # Same answer as a wrong password: the form's username need not look like an email to us.
        raise HTTPException(401, BAD_CREDENTIALS, headers=UNAUTHORIZED_HEADERS) from None
    user = await authenticate(users, throttle, audit, login.email, login.password, "form")
    await analytics.record("login", user.id, {"via": "form"})
    return await issue_tokens(settings, tokens, user)


@router.post("/login", response_model=TokenResponse, responses=LOGIN_RESPONSES)
async def login(body: LoginRequest, request: Request, response: Response, settings: SettingsDep, users: Users,
                tokens: Tokens, throttle: Throttle, analytics: Analytics, audit: Audit,
                cookie_mode: CookieMode = None,  # type: ignore[assignment]  # optional without a null in the schema
                ) -> TokenResponse:
    """JSON login: same answers as /auth/token. With `X-Refresh-Cookie: 1` (the web client) the
    refresh token is set as an HttpOnly cookie for /auth/refresh and the body's is null."""
    if cookie_mode is not None:
        require_same_origin(request)
    user = await authenticate(users, throttle, audit, body.email, body.password, "json")
    await analytics.record("login", user.id, {"via": "json"})
    return deliver(await issue_tokens(settings, tokens, user), response, settings, cookie_mode)


@router.post("/refresh", response_model=TokenResponse,
             responses={401: {"description": "Refresh token missing, invalid, expired, or reused (family revoked)"},
                        **CROSS_SITE_RESPONSE})
async def refresh(request: Request, response: Response, settings: SettingsDep, users: Users, tokens: Tokens,
                  audit: Audit, cookie_mode: CookieMode = None,  # type: ignore[assignment]  # optional without a null in the schema
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
    try:
        issued = await tokens.rotate(token)
    except TokenReused as reused:
        await audit.record("auth.refresh_reuse", reused.user_id, session=str(reused.family_id))
        raise
    user = await users.get(issued.user_id)
    if not user.is_active:
        raise HTTPException(401, "account disabled", headers=UNAUTHORIZED_HEADERS)
    access = create_access_token(settings, user.id, session_id=issued.family_id)
    pair = TokenResponse(access_token=access.token, expires_in=access.expires_in, refresh_token=issued.token)
    return deliver(pair, response, settings, cookie_mode if from_cookie else None)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=AUTH_RESPONSES)
async def logout(claims: Claims, tokens: Tokens, audit: Audit, body: LogoutRequest | None = None) -> Response:
    """Revoke this access token (until it expires) and its session's refresh family, on every
    process, and clear the web client's refresh cookie."""
    await tokens.logout(claims.user_id, claims.jti, claims.expires_at, claims.session_id,
                        body.refresh_token if body is not None else None)
    await audit.record("auth.logout", claims.user_id, session=str(claims.session_id))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_refresh_cookie(response)
    return response


@router.get("/me", response_model=UserOut, responses=AUTH_RESPONSES)
async def me(user: CurrentUser) -> UserOut:
    return user_out(user)
