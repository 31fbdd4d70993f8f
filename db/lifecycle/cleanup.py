"""Expiry that deletes: conversations past `expires_at` go with everything of theirs.

A pass deletes expired conversations in batches. A batch is one statement, so its locks are held
only while it executes (never while this process's event loop is busy elsewhere): it locks a
batch of expired conversations with SKIP LOCKED (a row another transaction holds is left for the
next pass, never waited for), deletes their documents attached to nothing else, their
checkpoints, blobs, writes, workflow and agent states and risk detections (these name the
conversation by its thread id, without a foreign key), and the conversations themselves, which
take their messages, runs, run events, protocol options and document links along (ON DELETE
CASCADE). The batch size adapts so that a batch takes about `BATCH_TARGET_SECONDS`;
`lock_timeout` bounds any wait for a row lock, and a batch still running after
`BATCH_MAX_SECONDS` (a stall of the disk or the machine) is cancelled: it rolls back, lets its
locks go, and the pass goes on with half the batch. The statement is composed from fragments that live
with each table's owner (db.conversations, db.documents, db.checkpoint.sql, db.risk).

A conversation with a run pending or running is not deleted until the run settles: the worker
holding it would otherwise lose its lease mid-step, and a run only ever waits seconds to minutes
(a stuck one is ended by RUN_MAX_ATTEMPTS). The next pass deletes it.

One process at a time: every batch (and every retention purge) first takes a transaction-scoped
advisory lock whose id is derived from a name; a process that finds it taken leaves the pass to
the process holding it. Transaction-scoped, so it also holds behind a transaction-mode pooler,
where a session lock could outlive its client.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import asyncpg

from db.checkpoint.sql import DELETE_THREADS_OF_EXPIRED
from db.connection import Connection
from db.conversations.sql import COUNT_EXPIRED, DELETE_EXPIRED_BATCH, EXPIRED_BATCH
from db.documents import COUNT_DOCUMENTS_ONLY_OF_EXPIRED, DELETE_DOCUMENTS_OF_EXPIRED
from db.lifecycle.retention import RETENTION_PURGES, Purge
from db.metrics import record_cleanup_deleted
from db.migrate import advisory_lock_id
from db.risk import DELETE_RISKS_OF_EXPIRED
from db.settings import Settings

log = logging.getLogger(__name__)

CLEANUP_LOCK_ID = advisory_lock_id("insurance-navigator:cleanup")
TRY_CLEANUP_LOCK = "SELECT pg_try_advisory_xact_lock($1)"

# One batch, in the statement's own transaction: $1 the cleanup lock id, $2 the batch size. The
# lock_timeout (local to that transaction) bounds a wait for a row lock: such a batch fails, is
# rolled back whole and waits for the next pass. The fragments read `cleanup_lock` and `expired`.
_CLEANUP_LOCK = """
WITH cleanup_lock AS MATERIALIZED (
    SELECT pg_try_advisory_xact_lock($1) AS held, set_config('lock_timeout', '2s', true)
),"""
_BATCH_COUNTS = """
SELECT (SELECT held FROM cleanup_lock) AS held, (SELECT count(*) FROM expired_conversations) AS conversations,
       (SELECT count(*) FROM expired_documents) AS documents
"""
DELETE_EXPIRED_CONVERSATIONS = (_CLEANUP_LOCK + EXPIRED_BATCH + DELETE_DOCUMENTS_OF_EXPIRED + DELETE_THREADS_OF_EXPIRED
                                + DELETE_RISKS_OF_EXPIRED + DELETE_EXPIRED_BATCH + _BATCH_COUNTS)

BATCH_TARGET_SECONDS = 0.03
# No batch holds its locks longer than this (measured by this process, so a cancelled batch may
# have committed after all: its rows are gone, the report does not count them).
BATCH_MAX_SECONDS = 0.15
# Cancelled batches in a row (at the smallest size) after which the pass leaves the rest for the next.
MAX_CANCELLED_IN_A_ROW = 5
FIRST_BATCH = 50
MIN_BATCH = 5
MAX_BATCH = 500

# Where a conversation is named without a foreign key (its id as text: the graph's thread id), and
# the statements that delete those rows with it. Every other reference to a conversation is a
# foreign key with ON DELETE CASCADE or SET NULL; tests/db/lifecycle/test_cleanup.py holds both
# against the database's catalog, so a new table cannot be forgotten.
UNLINKED_CONVERSATION_COLUMNS: dict[tuple[str, str], str] = {
    ("checkpoints", "thread_id"): "db.checkpoint.sql DELETE_THREADS, DELETE_THREADS_OF_EXPIRED",
    ("checkpoint_blobs", "thread_id"): "db.checkpoint.sql DELETE_THREADS, DELETE_THREADS_OF_EXPIRED",
    ("checkpoint_writes", "thread_id"): "db.checkpoint.sql DELETE_THREADS, DELETE_THREADS_OF_EXPIRED",
    ("workflow_states", "conversation_id"): "db.checkpoint.sql DELETE_THREADS, DELETE_THREADS_OF_EXPIRED",
    ("agent_states", "conversation_id"): "db.checkpoint.sql DELETE_THREADS, DELETE_THREADS_OF_EXPIRED",
    ("risk_detections", "conversation_id"): "db.risk DELETE_RISKS_OF_THREADS, DELETE_RISKS_OF_EXPIRED",
}


class _DryRun(Exception):
    """Rolls a purge's transaction back after it counted what it would delete."""

    def __init__(self, rows: int) -> None:
        super().__init__(rows)
        self.rows = rows


@dataclass(frozen=True)
class ExpiredCounts:
    """What expired and is not deleted yet; `waiting_for_runs` of the conversations have a run in flight."""

    conversations: int
    waiting_for_runs: int
    messages: int
    runs: int
    documents: int


@dataclass
class CleanupReport:
    conversations: int = 0
    documents: int = 0
    batch_seconds: list[float] = field(default_factory=list)
    purged: dict[str, int] = field(default_factory=dict)
    # Another process held the cleanup lock: it is doing this pass.
    busy: bool = False
    # A batch waited too long for a lock, met a deadlock, or was cancelled too often: the rest waits
    # for the next pass.
    interrupted: bool = False
    # Batches cancelled at BATCH_MAX_SECONDS (rolled back, retried smaller in the same pass).
    cancelled: int = 0


async def count_expired(con: Connection | asyncpg.Pool) -> ExpiredCounts:
    row = await con.fetchrow(COUNT_EXPIRED)
    assert row is not None
    documents = await con.fetchval(COUNT_DOCUMENTS_ONLY_OF_EXPIRED)
    return ExpiredCounts(row["conversations"], row["waiting_for_runs"], row["messages"], row["runs"], documents)


class Cleanup:
    """Passes of the cleanup over the pool: expired conversations in batches, then the purges."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, *, target_seconds: float = BATCH_TARGET_SECONDS,
                 max_seconds: float = BATCH_MAX_SECONDS, purges: list[tuple[str, Purge]] | None = None) -> None:
        self.pool = pool
        self.settings = settings
        self.target_seconds = target_seconds
        self.max_seconds = max_seconds
        self.purges = RETENTION_PURGES if purges is None else purges
        self.batch_size = FIRST_BATCH

    async def run(self, *, dry_run: bool = False) -> CleanupReport:
        """One pass; a dry run deletes nothing and reports what the purges would delete."""
        report = CleanupReport()
        if not dry_run:
            await self._expired_conversations(report)
        if not report.busy:
            await self._purges(report, dry_run)
        return report

    async def _expired_conversations(self, report: CleanupReport) -> None:
        cancelled_at_smallest = 0
        while True:
            try:
                deleted = await self.delete_batch(self.batch_size, report)
            except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError) as exc:
                log.warning("cleanup batch rolled back (%s); the rest waits for the next pass", type(exc).__name__)
                self.batch_size = max(MIN_BATCH, self.batch_size // 2)
                report.interrupted = True
                return
            except TimeoutError:
                report.cancelled += 1
                log.info("cleanup batch of %d cancelled after %.0f ms", self.batch_size, self.max_seconds * 1000)
                cancelled_at_smallest = cancelled_at_smallest + 1 if self.batch_size == MIN_BATCH else 0
                if cancelled_at_smallest >= MAX_CANCELLED_IN_A_ROW:
                    log.warning("cleanup batches keep outlasting %.0f ms; the rest waits for the next pass",
                                self.max_seconds * 1000)
                    report.interrupted = True
                    return
                self.batch_size = max(MIN_BATCH, self.batch_size // 2)
                continue
            cancelled_at_smallest = 0
            if deleted is None:
                report.busy = True
                return
            if deleted == 0:
                return

    async def delete_batch(self, limit: int, report: CleanupReport) -> int | None:
        """Delete up to `limit` expired conversations in one statement; the number deleted, or
        None when another process holds the cleanup lock. Past `max_seconds` asyncpg cancels the
        statement on the server (it rolls back) and raises TimeoutError."""
        async with self.pool.acquire() as con:  # timed: the statement alone, not the pool's reset after it
            started = time.perf_counter()
            row = await con.fetchrow(DELETE_EXPIRED_CONVERSATIONS, CLEANUP_LOCK_ID, limit, timeout=self.max_seconds)
            elapsed = time.perf_counter() - started
        assert row is not None
        if not row["held"]:
            return None
        deleted: int = row["conversations"]
        if deleted:
            report.conversations += deleted
            report.documents += row["documents"]
            record_cleanup_deleted("conversations", deleted)
            record_cleanup_deleted("documents", row["documents"])
            report.batch_seconds.append(elapsed)
            self._adapt(elapsed)
        return deleted

    def _adapt(self, elapsed: float) -> None:
        # Keep each batch near the target, however big the conversations are.
        if elapsed > 2 * self.target_seconds:
            self.batch_size = max(MIN_BATCH, self.batch_size // 2)
        elif elapsed < self.target_seconds / 2:
            self.batch_size = min(MAX_BATCH, self.batch_size * 2)

    async def _purges(self, report: CleanupReport, dry_run: bool) -> None:
        for name, purge in self.purges:
            async with self.pool.acquire() as con:
                try:
                    async with con.transaction():
                        if not await con.fetchval(TRY_CLEANUP_LOCK, CLEANUP_LOCK_ID):
                            report.busy = True
                            return
                        rows = await purge(con, self.settings)
                        if dry_run:
                            raise _DryRun(rows)
                except _DryRun as counted:
                    rows = counted.rows
            report.purged[name] = rows
            if not dry_run:
                record_cleanup_deleted(name, rows)


async def run_cleanup(pool: asyncpg.Pool, settings: Settings, *, dry_run: bool = False) -> CleanupReport:
    """One pass (what the schedule and `navigator cleanup` run)."""
    return await Cleanup(pool, settings).run(dry_run=dry_run)
