"""Exactly-once under SIGKILL: many cases whose reminders all came due while no worker ran, fired
by several worker processes while a random one is SIGKILLed every few seconds, delivered to a
real webhook receiver that counts them.

    python -m scripts.dev.case_chaos            # 500 cases, 3 workers, >= 10 kills every 1-3 s
    python -m scripts.dev.case_chaos --short    # the suite's version: 60 cases, 3 workers, 3 kills

First the cases are opened and their openings processed in this process (each arms a reminder
that is already due: the case was opened 10 days ago, its filing deadline is tomorrow). Then the
workers start: every reminder is due at the same moment. Prints timers fired and runs queued per
timer, notifications, distinct idempotency keys accepted at the receiver (each must be exactly
one per case: none lost, none doubled), redeliveries of an already-accepted key (a kill between
the receiver's answer and its record; the key makes them harmless), and the kills. Exit code 1
when anything was lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg

from api.graph_runner import start_workers
from db.pool import create_pool
from db.settings import Settings
from scripts.dev.case_harness import audit, open_overdue_cases, register_webhook
from scripts.dev.receivers import WebhookReceiver
from scripts.dev.runs_harness import Worker, fresh_database
from scripts.dev.scratch_settings import DOCUMENT_KEY, INSERT_USER, settings_for

UNFINISHED_RUNS = "SELECT count(*) FROM runs WHERE conversation_id = ANY($1::uuid[]) AND status <> 'success'"
RUNNING_ON = "SELECT count(*) FROM runs WHERE status = 'running' AND worker_id LIKE $1"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="small and quick (used by the test suite)")
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--kills", type=int, default=10, help="minimum number of SIGKILLs")
    parser.add_argument("--min-interval", type=float, default=1.0)
    parser.add_argument("--max-interval", type=float, default=3.0)
    parser.add_argument("--lease", type=float, default=2.0, help="RUN_LEASE_SECONDS")
    parser.add_argument("--dsn", default=None, help="server to create a throwaway database on")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--receiver-delay", type=float, default=0.05,
                        help="seconds the receiver takes to answer (widens the window a kill can hit)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.short:
        args.cases, args.kills, args.min_interval, args.max_interval = 60, 3, 0.3, 0.6
    return args


def worker_env(lease: float) -> dict[str, str]:
    """`navigator worker` (executors, the timer loop and the outbox loop) with short leases and polls."""
    return {"DOCUMENT_ENCRYPTION_KEY": DOCUMENT_KEY, "RUN_LEASE_SECONDS": str(lease), "RUN_MAX_ATTEMPTS": "20",
            "TIMER_POLL_SECONDS": "0.2", "NOTIFY_POLL_SECONDS": "0.2", "NOTIFY_BACKOFF_SECONDS": "0.2",
            "NOTIFY_MAX_ATTEMPTS": "20", "NOTIFY_TIMEOUT_SECONDS": "5", "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"}


async def process_openings(pool: asyncpg.Pool, settings: Settings, dsn: str, case_ids: list[Any]) -> None:
    """Run the cases' openings here, with no timer loop: their reminders stay armed, not fired."""
    executor = await start_workers(pool, settings, dsn=dsn, concurrency=4)
    try:
        while True:
            if not await pool.fetchval(UNFINISHED_RUNS, case_ids):
                return
            await asyncio.sleep(0.2)
    finally:
        await executor.stop(drain_seconds=10)


async def case_chaos(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    dsn = await fresh_database(args.dsn)
    settings = settings_for(dsn, run_lease_seconds=args.lease)
    receiver = WebhookReceiver(delay=args.receiver_delay).start()
    pool = await create_pool(settings, dsn, min_size=1, max_size=12)
    try:
        user = await pool.fetchval(INSERT_USER, f"chaos-{uuid.uuid4().hex[:8]}@example.com")
        receiver.secret = await register_webhook(pool, settings.document_key(), user, receiver.url)
        started = time.monotonic()
        case_ids = await open_overdue_cases(pool, user, args.cases)
        await process_openings(pool, settings, dsn, case_ids)
        armed = await audit(pool, case_ids)
        assert armed["pending"] == args.cases and armed["fired"] == 0, armed
        openings_seconds = time.monotonic() - started

        due_at_once = time.monotonic()
        env = worker_env(args.lease)
        workers = [Worker(dsn, args.concurrency, env) for _ in range(args.workers)]
        kills = kills_in_flight = 0
        try:
            # Kills start once firing has: each lands on work in flight (runs, sends), not on start-up.
            while True:
                if (await audit(pool, case_ids))["fired"] or time.monotonic() - due_at_once > 120:
                    break
                await asyncio.sleep(0.05)
            while kills < args.kills and (await audit(pool, case_ids))["delivered"] < args.cases:
                await asyncio.sleep(rng.uniform(args.min_interval, args.max_interval))
                index = rng.randrange(len(workers))
                running = await pool.fetchval(RUNNING_ON, f"%:{workers[index].proc.pid}:%")
                workers[index].kill()
                workers[index] = Worker(dsn, args.concurrency, env)
                kills += 1
                kills_in_flight += running > 0
            last_kill = time.monotonic()
            deadline = time.monotonic() + args.timeout
            while True:
                found = await audit(pool, case_ids)
                if (found["delivered"] == args.cases and found["unfinished_runs"] == 0) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            settled = time.monotonic() - last_kill
        finally:
            for worker in workers:
                worker.stop()
        total = time.monotonic() - due_at_once
        found = await audit(pool, case_ids)
        notes = await pool.fetch("SELECT idempotency_key, case_id FROM notifications WHERE case_id = ANY($1::uuid[])",
                                 case_ids)
    finally:
        await pool.close()
        receiver.stop()
    accepted = receiver.accepted()
    case_of = {row["idempotency_key"]: row["case_id"] for row in notes}
    keys_per_case = Counter(case_of.get(key) for key in accepted)
    return {
        "cases": args.cases, "workers": args.workers, "kills": kills, "kills_with_runs_in_flight": kills_in_flight,
        "timers_fired": found["fired"], "timers_still_pending": found["pending"],
        "runs_queued_by_timers": found["timer_runs"], "notifications": found["notifications"],
        "distinct_keys_accepted_at_receiver": len(accepted),
        "lost": args.cases - sum(1 for case in case_ids if keys_per_case.get(case)),
        "doubled": sum(1 for n in keys_per_case.values() if n > 1) + (len(notes) - args.cases if len(notes) >
                                                                      args.cases else 0),
        "redeliveries_of_an_accepted_key": sum(n - 1 for n in accepted.values()),
        "requests_at_receiver": len(receiver.received),
        "bad_signatures": sum(1 for r in receiver.received if not r.signature_ok),
        "seconds_opening_cases": round(openings_seconds, 1),
        "seconds_from_due_to_all_delivered": round(total, 1),
        "seconds_from_last_kill_to_all_delivered": round(settled, 1),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(case_chaos(args))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<40} {value}")
    return 1 if result["lost"] or result["doubled"] or result["bad_signatures"] else 0


if __name__ == "__main__":
    sys.exit(main())
