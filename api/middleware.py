"""Pure ASGI middleware (no BaseHTTPMiddleware: it buffers and breaks streaming).

`RequestContext` gives each request an id (kept from a sane X-Request-ID,
else new), returns it in the response, works out the client's address
(api/client_address.py: TRUSTED_PROXIES decides when X-Forwarded-For is
believed), logs one line per request without headers, body or query string
(api/logging.py escapes the path: it is decoded, so it may hold a newline),
and counts it in the metrics by route template. `BodySizeLimit` answers 413
when a body is over MAX_REQUEST_BYTES
(an upload route's own limit for it): at once from Content-Length, or while
reading a chunked body, before the route sees more than the limit.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.client_address import CLIENT_ADDRESS, FORWARDED_FOR, Network, resolve_client
from api.instrumentation import observe_request
from api.logging import REQUEST_ID
from db.scope import ACTING_USER

log = logging.getLogger("api.access")
REQUEST_ID_HEADER = b"x-request-id"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TOO_LARGE = "request body too large"


class RequestContext:
    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted_proxies = list(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"").decode("latin-1")
        request_id = given if SANE_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        peer = scope["client"][0] if scope.get("client") else None
        forwarded = [value.decode("latin-1") for name, value in scope["headers"] if name == FORWARDED_FOR]
        address_token = CLIENT_ADDRESS.set(resolve_client(peer, forwarded, self.trusted_proxies))
        # Nobody acts until the request authenticates (api/deps.py), and nobody after it ends.
        acting = ACTING_USER.set(None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            observe_request(scope, status, seconds)
            duration_ms = round(seconds * 1000, 1)
            log.info("%s %s %s %.1fms", scope["method"], scope["path"], status, duration_ms,
                     extra={"status": status, "duration_ms": duration_ms})
            CLIENT_ADDRESS.reset(address_token)
            REQUEST_ID.reset(token)
            ACTING_USER.reset(acting)


class BodySizeLimit:
    """`route_limits` raises the limit for named routes ("POST /documents": an upload)."""

    def __init__(self, app: ASGIApp, max_bytes: int, route_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.route_limits = route_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.route_limits.get(f"{scope['method']} {scope['path']}", self.max_bytes)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            try:
                too_large = int(length) > max_bytes
            except ValueError:
                await _reply(send, 400, "invalid Content-Length")
                return
            if too_large:
                await _reply(send, 413, TOO_LARGE)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise HTTPException(413, TOO_LARGE)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await _reply(send, 413, TOO_LARGE)


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Headers every response gets: no MIME sniffing, no Referer to other sites, and a
    Content-Security-Policy when the route set none (`html_csp` for HTML, a deny-all one
    otherwise). Paths under `revalidate_prefix` are revalidated on every use (no-cache),
    so a new release of the web client is picked up at the next load."""

    def __init__(self, app: ASGIApp, html_csp: str, revalidate_prefix: str) -> None:
        self.app = app
        self.html_csp = html_csp.encode()
        self.revalidate_prefix = revalidate_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        revalidate = scope["path"].startswith(self.revalidate_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                added = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                if b"content-security-policy" not in present:
                    html = any(name.lower() == b"content-type" and value.startswith(b"text/html")
                               for name, value in headers)
                    added.append((b"content-security-policy",
                                  self.html_csp if html else b"default-src 'none'; frame-ancestors 'none'"))
                if revalidate and b"cache-control" not in present:
                    added.append((b"cache-control", b"no-cache"))
                message["headers"] = headers + added
            await send(message)

        await self.app(scope, receive, send_with_headers)
