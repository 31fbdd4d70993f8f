"""A small OpenAI-compatible chat-completions server for tests, on 127.0.0.1 (stdlib only).

It answers like a model that follows the structured-output schema it is given:
the risk, navigator and strategy requests carry `response_format.json_schema.name`
and get canned JSON; the communicator gets canned text. The risk judgement is
"urgent" when the message contains one of `urgent_markers` (a model that reads
meaning the rules missed). Modes simulate a server that fails transiently
(503 first), rate-limits (429 with Retry-After for the first `rate_limited`
requests), or hangs past the client's timeout; `delay_seconds` slows every
answer, and `max_in_flight` records the most requests it was ever answering at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NOT_URGENT = {"urgent": False, "kind": "none", "reason": "an insurance question"}
URGENT = {"urgent": True, "kind": "suicidal", "reason": "indirect suicidal statement"}
CANNED: dict[str, Any] = {
    "RiskJudgement": NOT_URGENT,
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
    def __init__(self, mode: str = "ok", hang_seconds: float = 5.0, urgent_markers: tuple[str, ...] = (),
                 canned: dict[str, Any] | None = None, *, rate_limited: int = 0, retry_after: str = "1",
                 delay_seconds: float = 0.0) -> None:
        self.mode = mode
        self.urgent_markers = urgent_markers
        self.canned = {**CANNED, **(canned or {})}
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
                    if self.path.rstrip("/").endswith("/embeddings"):
                        self._send(200, outer.embeddings(body))
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
        content = json.dumps(self.canned[schema]) if schema in self.canned else REPLY_TEXT
        said = str((body.get("messages") or [{}])[-1].get("content", ""))
        if schema == "RiskJudgement" and any(marker in said for marker in self.urgent_markers):
            content = json.dumps(URGENT)
        return {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = [embed_text(str(text)) for text in texts]
        as_base64 = body.get("encoding_format") == "base64"
        data = [{"object": "embedding", "index": i,
                 "embedding": base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() if as_base64 else v}
                for i, v in enumerate(vectors)]
        return {"object": "list", "data": data, "model": body.get("model", "fake"),
                "usage": {"prompt_tokens": 1, "total_tokens": 1}}

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


EMBEDDING_DIMENSIONS = 64


def embed_text(text: str) -> list[float]:
    """A deterministic embedding: character trigrams hashed into 64 dimensions, unit length, so texts
    that share spelling (a typo and its word) are near even when they share no whole word."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for word in text.lower().split():
        padded = f" {word.strip('.,?!:;()')} "
        for i in range(len(padded) - 2):
            digest = hashlib.sha256(padded[i:i + 3].encode()).digest()
            vector[digest[0] % EMBEDDING_DIMENSIONS] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def closed_port_url() -> str:
    """A local URL where nothing listens (the port was just released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
