"""The one clock that cases, timers and the outbox read time from.

Production reads the wall clock. Tests start it at a fixed instant and `advance` it by days:
time keeps flowing in real seconds from there (so backoff delays still elapse), and jumps
when told. Every statement that compares with "now" for timers and deliveries takes this
clock's time as a parameter instead of the database's `now()`, so one advance moves all of it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time, optionally started at `start` and moved forward by `advance`."""

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the clock's start must be timezone-aware")
        self._anchor = start
        self._anchored_at = time.monotonic()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        if self._anchor is None:  # the wall clock (follows the system's own adjustments)
            return datetime.now(UTC) + self._offset
        return self._anchor + timedelta(seconds=time.monotonic() - self._anchored_at) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (never back: timers already fired stay fired); returns the new time."""
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
        return self.now()

    def advance_to(self, when: datetime) -> datetime:
        """Move forward to `when` (no-op when it is already past)."""
        return self.advance(max(when - self.now(), timedelta(0)))


SYSTEM_CLOCK = Clock()
