"""End to end over a real `navigator serve` process on a free port: register, login, chat,
interrupt, resume, SSE replay after a reconnect, export, then a clean SIGTERM shutdown."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.utils.db import ROOT, cli_env, navigator_cmd
from tests.utils.sse import sse_events

URL_LINE = re.compile(r"listening on (http://[0-9.]+:[0-9]+) .*open (http://\S+/) in a browser "
                      r"\(API docs at (http://\S+/docs)\)")
START_TIMEOUT_SECONDS = 60


@pytest.fixture(scope="module")
def server(serve_dsn: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process = subprocess.Popen([*navigator_cmd(), "serve", "--port", "0"], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=cli_env(serve_dsn, LOG_FORMAT="json"))
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    base = None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = URL_LINE.search(line)
        if match:
            base = match.group(1)
            assert (match.group(2), match.group(3)) == (f"{base}/", f"{base}/docs")
            break
    if base is None:
        process.kill()
        pytest.fail(f"navigator serve did not announce its URL: {process.stderr.read() if process.stderr else ''}")
    yield base, process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_register_login_chat_interrupt_resume_replay_export(server: tuple[str, subprocess.Popen[str]]) -> None:
    base, process = server
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.get("/health").json() == {"status": "ok", "database": "connected"}
        assert http.get("/docs").status_code == 200
        page = http.get("/")  # the web client, from the installed package
        assert page.status_code == 200 and "<title>Insurance Navigator</title>" in page.text
        email, password = "e2e@example.com", "e2e password 123"
        assert http.post("/auth/register", json={"email": email, "password": password}).status_code == 202
        tokens = http.post("/auth/token", data={"username": email, "password": password}).json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}

        asked = http.post("/chat", json={"message": "My MRI claim was denied. What now?"}, headers=auth).json()
        assert asked["status"] == "interrupted" and asked["question"]["question"]
        resumed = http.post(f"/runs/{asked['run_id']}/resume",
                            json={"input": "The letter came on March 3; it is an employer plan."}, headers=auth)
        assert resumed.status_code == 202
        run_id = resumed.json()["id"]

        # Read one event, drop the connection, reconnect with Last-Event-ID: the rest, nothing twice.
        with http.stream("GET", f"/runs/{run_id}/events", headers=auth) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            first = sse_events(stream.iter_lines(), limit=1)
        assert len(first) == 1
        with http.stream("GET", f"/runs/{run_id}/events", headers={**auth, "Last-Event-ID": first[0]["id"]}) as rest:
            remaining = sse_events(rest.iter_lines())
        ids = [int(first[0]["id"])] + [int(e["id"]) for e in remaining]
        assert ids == sorted(set(ids)) and len(ids) >= 2
        everything = http.get(f"/runs/{run_id}/events", headers=auth)
        assert [int(e["id"]) for e in sse_events(iter(everything.text.splitlines()))] == ids
        assert any(json.loads(e["data"])["event"] == "message" for e in remaining + first) or \
            http.get(f"/runs/{run_id}", headers=auth).json()["status"] == "success"

        final = http.get(f"/runs/{run_id}", headers=auth).json()
        assert final["status"] == "success" and final["output"]["reply"]
        exported = http.get(f"/conversations/{asked['conversation_id']}/export", headers=auth)
        assert exported.status_code == 200
        body = exported.json()
        assert [m["role"] for m in body["messages"]][:2] == ["user", "assistant"]
        assert body["messages"][-1]["content"] == final["output"]["reply"]
        assert body["workflow"]["workflow"] is not None

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    logs = process.stderr.read() if process.stderr else ""
    assert password not in logs and tokens["access_token"] not in logs and tokens["refresh_token"] not in logs
    assert '"request_id"' in logs
