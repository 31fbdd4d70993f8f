"""The embedded PostgreSQL under control: a `navigator serve` killed with SIGKILL is forgotten at the
next start, so the next clean exit stops the server; `navigator db status|stop` see and stop it.
The probes with that server stopped under a running `navigator serve`: /livez 200, /readyz 503.
(`dev.py start` interrupted during a slow request is tests/scripts/test_readme.py's Quick start.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import httpx

from db.embedded import embedded_status, start_embedded
from tests.scripts.test_readme import LISTENING, Serving, readme_env
from tests.utils.db import ROOT, navigator_cmd


def navigator(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*navigator_cmd(), *args], cwd=ROOT, env=env, text=True, capture_output=True, timeout=120)


def serve(env: dict[str, str]) -> Serving:
    server = Serving(" ".join([*navigator_cmd(), "serve", "--port", "0"]), env)
    server.wait_for(LISTENING)
    return server


def test_a_killed_server_is_forgotten_and_the_next_clean_exit_stops_postgres(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = readme_env(data)
    killed = serve(env)
    killed.proc.send_signal(signal.SIGKILL)
    killed.proc.wait(30)
    left = embedded_status(data)
    assert left.running and [(u.pid, u.alive) for u in left.users] == [(killed.proc.pid, False)]
    status = navigator(env, "db", "status")
    assert status.returncode == 0 and f"data directory  {data}" in status.stdout
    assert re.search(rf"pid {killed.proc.pid}: gone without saying so", status.stdout), status.stdout
    assert "pg_dump" in status.stdout and "running, pid" in status.stdout

    again = serve(env)
    users = embedded_status(data).users
    assert [(u.pid, u.alive) for u in users] == [(again.proc.pid, True)]
    assert "navigator serve" in users[0].command
    assert f"navigator: embedded PostgreSQL under {data}\n" in again.text()
    assert again.interrupt() == 0
    assert not embedded_status(data).running, "the last clean exit stops the server"


def test_db_stop_refuses_while_in_use_unless_forced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = readme_env(data)
    assert "not created yet" in navigator(env, "db", "status").stdout
    assert not (data / "pg").exists(), "db status never creates a database"
    start_embedded(data)  # this test process now uses it, as a `navigator serve` would
    refused = navigator(env, "db", "stop")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert f"in use by process(es) {os.getpid()}" in refused.stderr and "--force" in refused.stderr
    assert embedded_status(data).running
    forced = navigator(env, "db", "stop", "--force")
    assert forced.returncode == 0 and "stopped the embedded PostgreSQL" in forced.stdout
    assert not embedded_status(data).running
    assert "is not running" in navigator(env, "db", "stop").stdout
    with_url = navigator({**env, "DATABASE_URL": "postgresql://u@127.0.0.1:1/x"}, "db", "stop")
    assert with_url.returncode == 1 and "DATABASE_URL is set" in with_url.stderr


def test_probes_with_the_embedded_database_stopped(tmp_path: Path) -> None:
    """`/livez` stays 200 while the database is stopped under a running server; `/readyz` is 503."""
    data = tmp_path / "data"
    env = readme_env(data)
    server = Serving(" ".join([*navigator_cmd(), "serve", "--port", "0"]), env)
    base = server.wait_for(LISTENING).group(1)
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/readyz").status_code == 200
            stopped = navigator(env, "db", "stop", "--force")
            assert stopped.returncode == 0 and not embedded_status(data).running, stopped.stderr
            live, ready = http.get("/livez"), http.get("/readyz")
    finally:
        code = server.interrupt()
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 503 and ready.json()["checks"]["database"] == "unavailable", ready.text
    assert code == 0, server.text()
    assert not embedded_status(data).running
