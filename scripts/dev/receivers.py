"""Real receivers for the notification tests and scripts/dev/case_chaos.py: an HTTP webhook
receiver and an SMTP server (aiosmtpd), both on 127.0.0.1 in threads of the calling process,
counting what arrives.

The webhook receiver verifies signatures with its own few lines (what the README tells a
receiver to do), fails the first `fail_first` requests (or all of them), and counts deliveries
per idempotency key, so a test can tell "accepted once" from "sent twice with one key".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def signature_valid(secret: str, header: str, body: bytes, tolerance: float = 300) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp = int(parts.get("t", "0"))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(time.time() - timestamp) <= tolerance and hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass
class Received:
    key: str
    signature_ok: bool
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class WebhookReceiver:
    fail_first: int = 0
    always_fail: bool = False
    delay: float = 0.0  # seconds before answering
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/navigator"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.handle(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        key = request.headers.get("Idempotency-Key", "")
        header = request.headers.get("Navigator-Signature", "")
        signed = bool(self.secret) and signature_valid(self.secret or "", header, body)
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            failing = self.always_fail or len(self.received) < self.fail_first
            status = 500 if failing or not signed else 200
            self.received.append(Received(key, signed, status, json.loads(body), dict(request.headers)))
        request.send_response(status)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def accepted(self) -> Counter[str]:
        """Accepted deliveries per idempotency key (a receiver ignores a key it already accepted)."""
        with self._lock:
            return Counter(r.key for r in self.received if r.status == 200)

    def attempts(self) -> Counter[str]:
        with self._lock:
            return Counter(r.key for r in self.received)


class _Collect:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """aiosmtpd on a free port; `messages` are the emails it accepted."""

    def __init__(self) -> None:
        self.handler = _Collect()
        # aiosmtpd checks the server is up by connecting to its port, so the port is chosen first.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self._port = probe.getsockname()[1]
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self._port)

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    @property
    def port(self) -> int:
        return int(self._port)

    @property
    def messages(self) -> list[Message]:
        return list(self.handler.messages)

    def stop(self) -> None:
        self.controller.stop()
