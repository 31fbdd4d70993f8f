"""Dependencies as aliases: the services on app.state and the authenticated caller.

The caller proves who they are with a bearer access token in the Authorization
header (OAuth2PasswordBearer) or a personal API key in `x-api-key` (what the
LangGraph SDKs send); every route that takes `CurrentUser` accepts either.
A token or key in the query string is never looked at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from api.audit import RequestAudit
from api.document_intake import DocumentIntake
from api.errors import UNAUTHORIZED_HEADERS
from api.security import AccessClaims, InvalidAccessToken, decode_access_token
from db.analytics import AnalyticsService
from db.api_keys import ApiKeyService
from db.audit import AuditLog
from db.cases import CaseService
from db.conversations import ConversationService
from db.documents import DocumentService
from db.errors import NotFound
from db.notifications import NotificationService
from db.profiles import ProfileService
from db.registrations import RegistrationService
from db.runs.service import RunService
from db.scope import set_acting_user
from db.settings import Settings
from db.throttle import AuthThrottle
from db.tokens import TokenService
from db.users import User, UserService
from db.webhooks import WebhookService

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="x-api-key", auto_error=False,
                              description="A personal API key (POST /auth/api-keys), instead of a bearer token")


def from_state(name: str) -> Callable[[Request], Any]:
    """A dependency returning the object the lifespan put on `app.state` under `name`."""
    def dependency(request: Request) -> Any:
        return getattr(request.app.state, name)
    dependency.__name__ = f"get_{name}"
    return dependency


get_settings = from_state("settings")


SettingsDep = Annotated[Settings, Depends(get_settings)]
Users = Annotated[UserService, Depends(from_state("users"))]
Tokens = Annotated[TokenService, Depends(from_state("tokens"))]
Throttle = Annotated[AuthThrottle, Depends(from_state("throttle"))]
Registrations = Annotated[RegistrationService, Depends(from_state("registrations"))]
# Record a security event: `await audit.record("api_key.created", user.id, key_id=...)` (api/audit.py).
Audit = Annotated[RequestAudit, Depends(from_state("audit"))]
AuditTrail = Annotated[AuditLog, Depends(from_state("audit_log"))]
Conversations = Annotated[ConversationService, Depends(from_state("conversations"))]
Runs = Annotated[RunService, Depends(from_state("runs"))]
# The `Idempotency-Key` header of the routes that queue a run (printable ASCII, no spaces); declare
# it `= None` (optional, without a null in the schema).
IdempotencyKey = Annotated[str, Header(min_length=1, max_length=255, pattern=r"^[!-~]+$")]
Analytics = Annotated[AnalyticsService, Depends(from_state("analytics"))]
ApiKeys = Annotated[ApiKeyService, Depends(from_state("api_keys"))]
# Finds whose key it is before anyone is known: on the owner's pool (ApiKeys acts for the caller).
ApiKeyAuth = Annotated[ApiKeyService, Depends(from_state("api_key_auth"))]
Profiles = Annotated[ProfileService, Depends(from_state("profiles"))]
Documents = Annotated[DocumentService, Depends(from_state("documents"))]
Intake = Annotated[DocumentIntake, Depends(from_state("intake"))]
Cases = Annotated[CaseService, Depends(from_state("cases"))]
Notifications = Annotated[NotificationService, Depends(from_state("notifications"))]
Webhooks = Annotated[WebhookService, Depends(from_state("webhooks"))]


async def claims_of(settings: Settings, tokens: TokenService, token: str) -> AccessClaims:
    claims = decode_access_token(settings, token)
    if await tokens.is_access_revoked(claims.jti, claims.session_id):
        raise InvalidAccessToken("revoked")
    return claims


async def get_access_claims(settings: SettingsDep, tokens: Tokens,
                            token: Annotated[str | None, Depends(oauth2_scheme)]) -> AccessClaims:
    if not token:
        raise HTTPException(401, "not authenticated", headers=UNAUTHORIZED_HEADERS)
    return await claims_of(settings, tokens, token)


# Routes about the access token itself (logout) take Claims: an API key has no session to end.
Claims = Annotated[AccessClaims, Depends(get_access_claims)]


async def get_current_user(settings: SettingsDep, tokens: Tokens, users: Users, api_keys: ApiKeyAuth,
                           token: Annotated[str | None, Depends(oauth2_scheme)],
                           api_key: Annotated[str | None, Depends(api_key_scheme)]) -> User:
    """The caller, by bearer token or else by API key; a bad credential in either is 401. The caller
    becomes the request's acting user: the rows row-level security lets its queries see."""
    if token:
        user_id = (await claims_of(settings, tokens, token)).user_id
    elif api_key:
        found = await api_keys.user_of(api_key)
        if found is None:
            raise HTTPException(401, "invalid or revoked API key", headers=UNAUTHORIZED_HEADERS)
        user_id = found
    else:
        raise HTTPException(401, "not authenticated", headers=UNAUTHORIZED_HEADERS)
    try:
        user = await users.get(user_id)
    except NotFound:
        raise InvalidAccessToken("unknown user") from None
    if not user.is_active:
        raise InvalidAccessToken("inactive user")
    set_acting_user(user.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(403, "admin role required")
    return user


AdminUser = Annotated[User, Depends(get_admin)]
