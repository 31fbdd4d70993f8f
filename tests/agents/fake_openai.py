"""A small OpenAI-compatible chat-completions server for tests, on 127.0.0.1 (stdlib only).

It answers like a model that follows the structured-output schema it is given:
the navigator and strategy requests carry `response_format.json_schema.name`
and get canned JSON; the communicator gets canned text. Modes simulate a
server that fails transiently (503 first), rate-limits (429 with Retry-After
for the first `rate_limited` requests), or hangs past the client's timeout;
`delay_seconds` slows every answer, and `max_in_flight` records the most
requests it was ever answering at once.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CANNED: dict[str, Any] = {
    "NavigatorAnalysis": {
        "intent": "claim_denial_appeal", "confidence": 0.93,
        "facts": {"plan_type": "employer", "service": "MRI", "state": "TX", "denial_date": "March 3",
                  "dates": ["March 3"], "amounts": []},
        "search_query": "appeal denied MRI employer plan external review",
    },
    "Facts": {"plan_type": "employer", "service": None, "state": None, "denial_date": "March 3", "dates": ["March 3"],
              "amounts": []},
    "StrategyPlan": {
        "short_answer": "Appeal the MRI denial with your employer plan now; you have 180 days.",
        "steps": ["Read the denial letter.", "Get a letter of medical necessity.",
                  "File the internal appeal within 180 days.", "Request external review within 4 months if denied."],
        "contacts": ["Plan appeals department"], "documents": ["Denial letter"],
        "deadlines": ["Internal appeal: 180 days"], "if_step_fails": ["External review"],
    },
}
REPLY_TEXT = ("Short answer: appeal within 180 days.\n1. File the internal appeal.\n"
              "2. If denied, ask for an external review within 4 months.")


class FakeOpenAI:
    def __init__(self, mode: str = "ok", hang_seconds: float = 5.0, *, rate_limited: int = 0,
                 retry_after: str = "1", delay_seconds: float = 0.0) -> None:
        self.mode = mode
        self.hang_seconds = hang_seconds
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.failures_left = 1 if mode == "flaky" else 0
        self.rate_limited_left = rate_limited
        self.retry_after = retry_after
        self.delay_seconds = delay_seconds
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with outer._lock:
                    outer.requests.append(body)
                    outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                    limited = outer.rate_limited_left > 0
                    outer.rate_limited_left -= int(limited)
                try:
                    if outer.mode == "hang":
                        time.sleep(outer.hang_seconds)
                    if outer.delay_seconds:
                        time.sleep(outer.delay_seconds)
                    if limited:
                        self._send(429, {"error": {"message": "slow down", "type": "rate_limit_exceeded"}},
                                   {"Retry-After": outer.retry_after})
                        return
                    if outer.failures_left > 0:
                        outer.failures_left -= 1
                        self._send(503, {"error": {"message": "overloaded", "type": "server_error"}})
                        return
                    self._send(200, outer.completion(body))
                finally:
                    with outer._lock:
                        outer.in_flight -= 1

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
        content = json.dumps(CANNED[schema]) if schema in CANNED else REPLY_TEXT
        return {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A local URL where nothing listens (the port was just released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
