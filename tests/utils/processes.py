"""Real `navigator worker` processes for crash tests, and polling helpers over their database."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg

from db.pool import CONNECTION_ERRORS
from tests.utils.db import cli_env, navigator_cmd

READY_MARK = "ready with"
SETTLED = ("interrupted", "success", "error", "cancelled")


class WorkerProcess:
    """One `navigator worker` subprocess; stderr goes to a file the test can read."""

    def __init__(self, dsn: str, log_dir: Path, name: str, concurrency: int = 4, **env: str) -> None:
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(navigator_cmd() + ["worker", "--concurrency", str(concurrency)],
                                     env=cli_env(dsn, **env), stdout=subprocess.DEVNULL, stderr=self._log)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text()

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while READY_MARK not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start: {self.log()}")
            await asyncio.sleep(0.1)

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self._log.close()


async def start_workers(dsn: str, log_dir: Path, count: int, concurrency: int = 4,
                        **env: str) -> list[WorkerProcess]:
    workers = [WorkerProcess(dsn, log_dir, f"worker{i}", concurrency, **env) for i in range(count)]
    await asyncio.gather(*(w.ready() for w in workers))
    return workers


async def fetch_retrying(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    """A query on a fresh connection, retried while the server is away (restart tests)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            con = await asyncpg.connect(dsn)
            try:
                return await con.fetch(query, *args)
            finally:
                await con.close()
        except CONNECTION_ERRORS:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def wait_settled(dsn: str, run_ids: list[uuid.UUID], timeout: float) -> list[asyncpg.Record]:
    deadline = time.monotonic() + timeout
    while True:
        rows = await fetch_retrying(dsn, "SELECT id, status, error, attempt, lost_attempts FROM runs "
                                         "WHERE id = ANY($1::uuid[])", run_ids)
        if all(r["status"] in SETTLED for r in rows) or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.2)


async def wait_for(dsn: str, query: str, *args: object, timeout: float = 30) -> asyncpg.Record:
    """Poll until `query` returns a row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await fetch_retrying(dsn, query, *args)
        if rows:
            return rows[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {query}")


async def node_counts(dsn: str, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Counter, int]]:
    """Per run: node_finished counts by node, and how many task starts were repeats."""
    rows = await fetch_retrying(dsn, "SELECT run_id, event, data FROM run_events WHERE run_id = ANY($1::uuid[]) "
                                     "AND event IN ('node_started', 'node_finished')", run_ids)
    finished: dict[uuid.UUID, Counter] = {rid: Counter() for rid in run_ids}
    starts: dict[uuid.UUID, Counter] = {rid: Counter() for rid in run_ids}
    for row in rows:
        data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        if row["event"] == "node_finished":
            finished[row["run_id"]][data["node"]] += 1
        else:
            starts[row["run_id"]][data["task_id"]] += 1
    return {rid: (finished[rid], sum(n - 1 for n in starts[rid].values())) for rid in run_ids}
