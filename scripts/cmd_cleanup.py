"""`navigator cleanup [--dry-run]`: one pass of the expiry cleanup now (what every worker process
runs every CLEANUP_INTERVAL_SECONDS), or with --dry-run what such a pass would delete."""

from __future__ import annotations

import argparse
import asyncio

from db.lifecycle.cleanup import CleanupReport, count_expired, run_cleanup
from db.pool import create_pool
from db.settings import load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("cleanup", help="delete expired conversations (with everything of theirs) "
                                                   "and purge what is past its retention now")
    parser.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    parser.set_defaults(func=cmd_cleanup)


def cmd_cleanup(args: argparse.Namespace) -> int:
    return asyncio.run(cleanup(args.dry_run))


def purged_text(report: CleanupReport) -> str:
    return ", ".join(f"{rows} {name.replace('_', ' ')}" for name, rows in report.purged.items()) or "nothing"


async def cleanup(dry_run: bool) -> int:
    settings = load_settings()
    pool = await create_pool(settings, min_size=1, max_size=2)
    try:
        if dry_run:
            expired = await count_expired(pool)
            report = await run_cleanup(pool, settings, dry_run=True)
            print(f"would delete {expired.conversations - expired.waiting_for_runs} expired conversations "
                  f"({expired.messages} messages, {expired.runs} runs in all, with their checkpoints), "
                  f"{expired.documents} documents attached only to them")
            if expired.waiting_for_runs:
                print(f"{expired.waiting_for_runs} more expired conversations wait for a run in flight to settle")
            print(f"would purge {purged_text(report)}")
        else:
            report = await run_cleanup(pool, settings)
            if report.busy:
                print("another process is cleaning up right now; nothing more to do here")
            print(f"deleted {report.conversations} expired conversations and {report.documents} documents "
                  f"attached only to them in {len(report.batch_seconds)} batches; purged {purged_text(report)}")
            if report.interrupted:
                print("a batch waited too long for a lock, or kept outlasting its time limit, and was rolled back; "
                      "run again to finish")
    finally:
        await pool.close()
    return 0
