"""The cleanup on a schedule: every CLEANUP_INTERVAL_SECONDS in each worker process (the API's
in-process workers, `navigator worker`). The cleanup's own lock makes one process do a pass while
the others find it taken, so starting more workers adds no work to the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

import asyncpg

from db.errors import Unavailable
from db.lifecycle.cleanup import Cleanup, CleanupReport
from db.pool import CONNECTION_ERRORS
from db.settings import Settings

log = logging.getLogger(__name__)

# Processes started together spread their passes over a tenth of the interval.
JITTER = 0.1


class CleanupSchedule:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        self.interval = float(settings.cleanup_interval_seconds)
        self.cleanup = Cleanup(pool, settings)
        self.last: CleanupReport | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start passes every interval (none when CLEANUP_INTERVAL_SECONDS is 0)."""
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="cleanup schedule")

    @property
    def scheduled(self) -> bool:
        """Whether this process runs passes (which include the retention purges)."""
        return self._task is not None

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval * (1 + random.uniform(-JITTER, JITTER)))
            await self.pass_once()

    async def pass_once(self) -> CleanupReport | None:
        """One pass; a database that is away, or any other failure, waits for the next one."""
        try:
            report = await self.cleanup.run()
        except CONNECTION_ERRORS + (Unavailable, asyncpg.PostgresError) as exc:
            log.warning("cleanup pass skipped: %s", type(exc).__name__)
            return None
        except Exception:
            log.exception("cleanup pass failed")
            return None
        self.last = report
        if report.conversations or any(report.purged.values()):
            log.info("cleanup: %d expired conversations deleted (%d documents) in %d batches; purged %s",
                     report.conversations, report.documents, len(report.batch_seconds), report.purged)
        return report
