"""The one place that turns errors into HTTP answers: `{"detail": ...}`, never a trace.

db.errors -> 404/409/503, a lost database connection -> 503 with Retry-After,
bad tokens -> 401, throttling -> 429 with Retry-After, and a 422 body that
names the field and the problem but never echoes the submitted value.
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agents.document_reader import UnreadableDocument
from api.security import InvalidAccessToken
from db.errors import Conflict, NotFound, Unavailable, Undecryptable
from db.pool import CONNECTION_ERRORS
from db.registrations import InvalidConfirmation
from db.throttle import Throttled
from db.tokens import InvalidToken

log = logging.getLogger("api.errors")

RETRY_AFTER_SECONDS = "5"
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}

# Statuses every route may answer, for the OpenAPI document.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request (a body that cannot be parsed, a bad Content-Length)"},
    422: {"description": "Invalid input (the submitted values are never echoed)"},
    413: {"description": "Request body larger than MAX_REQUEST_BYTES"},
    503: {"description": "Database unavailable; retry after Retry-After seconds"},
}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid, expired or revoked access token"},
}
OWNED_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found, or not yours"},
}


def error(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


def safe_location(loc: Any) -> list[str | int]:
    """Field names and indexes as they are; anything else in a location (a key the client
    chose, say) is input too, so it is replaced."""
    return [part if isinstance(part, int) or (isinstance(part, str) and FIELD_NAME.match(part)) else "<key>"
            for part in loc]


def validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and what, never the input (it may be a password)."""
    return [{"loc": safe_location(e.get("loc", ())), "msg": str(e.get("msg", "invalid")),
             "type": str(e.get("type", ""))} for e in exc.errors()]


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error(422, validation_details(exc))


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFound)
    return error(404, f"{exc.kind} not found")


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return error(409, str(exc))


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", type(exc).__name__)
    return error(503, "database unavailable, retry later", {"Retry-After": RETRY_AFTER_SECONDS})


async def _bad_token(request: Request, exc: Exception) -> JSONResponse:
    return error(401, "invalid or expired token", UNAUTHORIZED_HEADERS)


async def _throttled(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Throttled)
    return error(429, f"too many {exc.action} attempts, retry later", {"Retry-After": str(exc.retry_after)})


async def _invalid_confirmation(request: Request, exc: Exception) -> JSONResponse:
    return error(404, str(exc))


async def _bad_value(request: Request, exc: Exception) -> JSONResponse:
    return error(422, str(exc))


async def _bad_data(request: Request, exc: Exception) -> JSONResponse:
    # asyncpg's client-side DataError (a value its codec cannot encode) subclasses
    # InterfaceError, which would otherwise read as "database gone" (503). Its
    # message quotes the value, so it is not repeated.
    return error(422, "a value could not be stored (wrong type or out of range)")


async def _unreadable_document(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnreadableDocument)
    return error(415 if exc.problem == "unsupported_type" else 422, str(exc))


async def _undecryptable(request: Request, exc: Exception) -> JSONResponse:
    # The operator's key changed: say so (the message names key ids, never keys) rather than "internal error".
    log.error("%s", exc)
    return error(500, str(exc))


# Routing's own answers for an Agent Protocol call this server does not serve (a LangGraph SDK
# method such as crons, store, update_state, or writing an assistant) say so instead.
UNROUTED = {404: "Not Found", 405: "Method Not Allowed"}
AGENT_PROTOCOL_PATH = "/lg/"


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if request.url.path.startswith(AGENT_PROTOCOL_PATH) and UNROUTED.get(exc.status_code) == detail:
        detail = (f"{request.method} {request.url.path} is not part of the Agent Protocol this server offers "
                  "(its assistants are read-only; crons, the store and direct state updates are not supported); "
                  "the /lg routes it serves are listed at /docs")
    return error(exc.status_code, detail, dict(exc.headers) if exc.headers else None)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return error(500, "internal error")


# What answers 503 with Retry-After: the database is away or out of connections ("retry", not a bug).
UNAVAILABLE_ERRORS = cast(tuple[type[Exception], ...],
                          (Unavailable, *CONNECTION_ERRORS, asyncpg.TooManyConnectionsError))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    for exc_type in UNAVAILABLE_ERRORS:
        app.add_exception_handler(exc_type, _unavailable)
    app.add_exception_handler(InvalidAccessToken, _bad_token)
    app.add_exception_handler(InvalidToken, _bad_token)
    app.add_exception_handler(Throttled, _throttled)
    app.add_exception_handler(InvalidConfirmation, _invalid_confirmation)
    app.add_exception_handler(UnreadableDocument, _unreadable_document)
    app.add_exception_handler(Undecryptable, _undecryptable)
    app.add_exception_handler(ValueError, _bad_value)
    app.add_exception_handler(asyncpg.DataError, _bad_data)
    app.add_exception_handler(Exception, _unexpected)
