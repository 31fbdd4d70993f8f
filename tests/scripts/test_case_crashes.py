"""Real worker processes killed with SIGKILL around the commit of the step that decides a
reminder: before it, neither the step nor the notification exists; after it, both do and nothing
was delivered; recovery delivers it once, counted at a real webhook receiver."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from api.case_loops import start_case_loops
from api.graph_runner import start_workers
from db.clock import Clock
from db.settings import Settings
from scripts.dev.case_harness import audit, open_overdue_cases, register_webhook
from scripts.dev.receivers import WebhookReceiver
from tests.conftest import make_settings
from tests.utils.db import ROOT, cli_env
from tests.utils.factories import insert_user

pytestmark = pytest.mark.slow
FAST = {"RUN_LEASE_SECONDS": "1", "TIMER_POLL_SECONDS": "0.1", "NOTIFY_POLL_SECONDS": "0.1",
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"}
# The reminder step as its checkpoint's projection shows it (written in the checkpoint's statement).
REMINDER_STEPS = """
SELECT count(*) FROM workflow_states w, jsonb_array_elements(w.state_data -> 'timeline') AS e
 WHERE w.conversation_id = $1 AND e ->> 'type' = 'reminder'
"""


def killed_worker(dsn: str, kill: str, log: Path) -> subprocess.CompletedProcess[bytes]:
    """Run a worker that SIGKILLs itself around the notifying step; returns once it died."""
    with log.open("w") as out:
        return subprocess.run([sys.executable, "-m", "tests.utils.case_worker", "--kill", kill], cwd=ROOT,
                              env=cli_env(dsn, **FAST), stdout=subprocess.DEVNULL, stderr=out, timeout=120)


async def wait_for(check, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := await check()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.1)
    return found


async def test_sigkill_before_and_after_the_commit(pool: asyncpg.Pool, migrated_dsn: str, settings: Settings,
                                                  tmp_path: Path) -> None:
    user = await insert_user(pool)
    receiver = WebhookReceiver().start()
    try:
        receiver.secret = await register_webhook(pool, settings.document_key(), user, receiver.url)
        (case_id,) = await open_overdue_cases(pool, user, 1)

        died = killed_worker(migrated_dsn, "before", tmp_path / "before.log")
        assert died.returncode == -9, (tmp_path / "before.log").read_text()
        state = await pool.fetchval("SELECT state_data FROM workflow_states WHERE conversation_id = $1",
                                    str(case_id))
        assert state["stage"] == "drafted"  # where the opening left it
        assert (await audit(pool, [case_id]))["notifications"] == 0
        assert await pool.fetchval(REMINDER_STEPS, str(case_id)) == 0  # the step does not exist
        assert receiver.received == []

        died = killed_worker(migrated_dsn, "after", tmp_path / "after.log")
        assert died.returncode == -9, (tmp_path / "after.log").read_text()
        found = await audit(pool, [case_id])
        assert (found["notifications"], found["delivered"]) == (1, 0)
        assert await pool.fetchval(REMINDER_STEPS, str(case_id)) == 1  # the step and its notification
        assert receiver.received == []

        recovering = make_settings(migrated_dsn, run_lease_seconds=1, timer_poll_seconds=0.1,
                                   notify_poll_seconds=0.1, webhook_allow_private_networks=True)
        workers = await start_workers(pool, recovering, dsn=migrated_dsn, concurrency=2)
        loops = start_case_loops(pool, recovering, Clock())
        try:
            async def done() -> dict[str, int] | None:
                found = await audit(pool, [case_id])
                return found if found["delivered"] == 1 and found["unfinished_runs"] == 0 else None

            found = await wait_for(done)
        finally:
            await loops.stop()
            await workers.stop(drain_seconds=5)
        assert found == {"fired": 1, "pending": 0, "timer_runs": 1, "unfinished_runs": 0, "notifications": 1,
                         "delivered": 1}
        assert len(receiver.received) == 1 and receiver.accepted() == {receiver.received[0].key: 1}
        assert receiver.received[0].signature_ok
        run = await pool.fetchrow("SELECT status, lost_attempts FROM runs WHERE conversation_id = $1 "
                                  "AND kind = 'timer'", case_id)
        assert (run["status"], run["lost_attempts"]) == ("success", 2)
    finally:
        receiver.stop()
