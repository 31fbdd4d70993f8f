"""StartGate: runs claimed together take their first steps in turns, not all at once."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from agents.usage import on_call_start

# Runs at once between their start and their first model call: two batches' worth (db/batch.py
# MAX_BATCH). Measured at 256 runs of three 1 s calls: 32 and 64 alike, both ahead of no gate.
STARTING_RUNS = 64


class StartGate:
    """At most `size` runs at once between their start and their first model call.

    Runs claimed together would otherwise take their first steps in lockstep (each step of every
    run, then the next step of every run) and all reach their model together at the end, so the
    whole burst's CPU work comes before the first model wait and again after each one. In turns,
    the first runs already wait on their model while the next ones take their first steps: a
    burst's CPU work overlaps its model waits. Turns open in groups (once at most half the runs
    holding one are left), so the runs of a group take their steps together and their statements
    still share batches (db/batch.py); one by one, they would drift apart into smaller batches."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size if size is not None else STARTING_RUNS
        self._active = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    def _admit(self) -> None:
        if self._active > self.size // 2:
            return
        while self._waiting and self._active < self.size:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._active += 1

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a turn; it ends at the first model call inside the block, or at its end."""
        if self._active < self.size and not self._waiting:
            self._active += 1
        else:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._active -= 1  # admitted and cancelled at once: hand the turn on
                    self._admit()
                raise
        held = True

        def end() -> None:
            nonlocal held
            if held:
                held = False
                self._active -= 1
                self._admit()

        try:
            with on_call_start(end):
                yield
        finally:
            end()
