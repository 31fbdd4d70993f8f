"""Shared by bench_runs.py and chaos.py: a throwaway database, worker processes, queued runs, results."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

from db.embedded import start_embedded
from db.pool import create_pool
from db.runs.service import RunService
from db.scratch import create_migrated_database
from scripts.dev.scratch_settings import INSERT_CONVERSATIONS, INSERT_USER, SECRET, settings_for

ROOT = Path(__file__).resolve().parents[2]
SELECT_RESULTS = ("SELECT id, conversation_id, status, error, created_at, finished_at, lost_attempts FROM runs "
                  "WHERE id = ANY($1::uuid[])")
SELECT_NODE_EVENTS = ("SELECT run_id, event, data FROM run_events WHERE run_id = ANY($1::uuid[]) "
                      "AND event IN ('node_started', 'node_finished')")
SELECT_MESSAGE_COUNTS = ("SELECT conversation_id, count(*) AS n FROM conversation_messages "
                         "WHERE conversation_id = ANY($1::uuid[]) GROUP BY conversation_id")
ANSWERED = "I need a prior authorization"
NODES = Counter(["guard", "navigator", "strategy", "communicator"])


async def fresh_database(dsn: str | None) -> str:
    """A new migrated database on DATABASE_URL's server, or on an embedded server in a temp dir."""
    admin = dsn or start_embedded(Path(tempfile.mkdtemp(prefix="navigator-bench-")))
    return await create_migrated_database(admin, "bench")


class Worker:
    def __init__(self, dsn: str, concurrency: int, env: dict[str, str]) -> None:
        full_env = {**os.environ, "DATABASE_URL": dsn, "JWT_SECRET_KEY": SECRET, **env}
        self.proc = subprocess.Popen([sys.executable, "-m", "scripts.cli", "worker", "--concurrency",
                                      str(concurrency)], cwd=ROOT, env=full_env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class Harness:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: Any = None
        self.user: uuid.UUID | None = None
        self.run_ids: list[uuid.UUID] = []
        self.conversations: list[uuid.UUID] = []

    async def __aenter__(self) -> Harness:
        self.pool = await create_pool(settings_for(self.dsn), self.dsn, min_size=1, max_size=8)
        self.user = await self.pool.fetchval(INSERT_USER, f"bench-{uuid.uuid4().hex[:8]}@example.com")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.pool.close()

    async def queue(self, count: int) -> None:
        service = RunService(self.pool)
        rows = await self.pool.fetch(INSERT_CONVERSATIONS, self.user, count)
        for row in rows:
            run = await service.create(self.user, row["id"], ANSWERED)
            self.run_ids.append(run.id)
            self.conversations.append(row["id"])

    async def wait_all(self, seconds: float) -> list[asyncpg.Record]:
        deadline = time.monotonic() + seconds
        while True:
            try:
                rows = await self.pool.fetch(SELECT_RESULTS, self.run_ids)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                rows = []
            done = [r for r in rows if r["status"] in ("success", "error", "cancelled", "interrupted")]
            if (rows and len(done) == len(self.run_ids)) or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.1)

    async def audit(self) -> dict[str, Any]:
        """Lost runs, wrong final states, and node executions repeated by recovery."""
        rows = await self.pool.fetch(SELECT_RESULTS, self.run_ids)
        lost = len(self.run_ids) - sum(r["status"] == "success" for r in rows)
        finished: dict[Any, Counter] = {rid: Counter() for rid in self.run_ids}
        starts: dict[Any, Counter] = {rid: Counter() for rid in self.run_ids}
        for ev in await self.pool.fetch(SELECT_NODE_EVENTS, self.run_ids):
            data = ev["data"] if isinstance(ev["data"], dict) else json.loads(ev["data"])
            if ev["event"] == "node_finished":
                finished[ev["run_id"]][data["node"]] += 1
            else:
                starts[ev["run_id"]][data["task_id"]] += 1
        messages = {r["conversation_id"]: r["n"] for r in await self.pool.fetch(SELECT_MESSAGE_COUNTS,
                                                                                 self.conversations)}
        # Wrong: a run that succeeded without each node finishing once, or without exactly its two messages.
        wrong = sum(1 for r in rows if r["status"] == "success"
                    and (finished[r["id"]] != NODES or messages.get(r["conversation_id"], 0) != 2))
        endings = Counter(f"{r['status']}:{r['error']}" if r["error"] else r["status"] for r in rows)
        repeated = sum(n - 1 for c in starts.values() for n in c.values())
        recovered = sum(1 for r in rows if r["lost_attempts"] > 0)
        return {"lost": lost, "wrong": wrong, "repeated_node_executions": repeated, "recovered_runs": recovered,
                "final_states": dict(endings)}
