"""A small loop beside the run executors: do a round of work, sleep until the next is due (or a
wake-up), back off while the database is away, never end on an error. The timer loop and the
outbox deliverer are two of them."""

from __future__ import annotations

import asyncio
import logging

from db.runs.executor import Backoff

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 60.0


class PollingLoop:
    """Subclasses implement `round()`: one round of work, returning seconds until the next (0: at once)."""

    name = "loop"

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def round(self) -> float:
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    def wake(self) -> None:
        """Look now (tests call it after advancing the clock)."""
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        backoff = Backoff()
        while True:
            self._wake.clear()
            try:
                sleep = await self.round()
            except Exception as exc:
                # The database away, a statement timeout: try again later, never end the loop.
                delay = backoff.next()
                log.warning("%s: round failed (%s); retrying in %.1fs", self.name, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if sleep <= 0:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), min(sleep, MAX_SLEEP_SECONDS))
            except TimeoutError:
                pass
