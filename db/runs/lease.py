"""A claimed run as the code that executes it sees it: the run, why it must stop, and
the two writes it makes outside checkpoints (events, and the end of the run)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from db.runs.model import Event, FinalStatus, Run, RunStatus
from db.runs.queue import QueueWrites

# Why a run must stop at its next step boundary.
HaltReason = Literal["cancel", "shutdown", "lease_lost"]
# The tasks the graph starts after a checkpoint, as (node, task id), from the checkpoint and its
# metadata (its step); None when they cannot be told in advance (the run then logs each task's
# node_started as it starts).
NextTasks = Callable[[Mapping[str, Any], Mapping[str, Any]], Sequence[tuple[str, str]] | None]


@dataclass(eq=False)
class RunLease:
    """One attempt at one run, held by this process until it finishes, is released or is lost."""

    writes: QueueWrites
    run: Run
    steps: int
    # The graph of the run's thread, as the claim read it (None: not read).
    thread_graph: str | None = None
    # The nodes' versions_seen at the last checkpoint, to tell which nodes finished in the next one.
    versions_seen: dict[str, Any] = field(default_factory=dict)
    halt: HaltReason | None = None
    finished: bool = False
    # How this attempt ended, once it did (the stored status, or "lease_lost"): for metrics.
    outcome: str | None = None
    # When the run last showed progress (a step committed, a node started, a retry began).
    progress_at: float = field(default_factory=time.monotonic)
    # Set by the code driving the graph: a step's statement then also logs the next tasks'
    # node_started (db/runs/fence.py); the ids of those it logged wait in `announced` until
    # the tasks start.
    next_tasks: NextTasks | None = None
    announced: set[str] = field(default_factory=set)
    _halt_listeners: list[Callable[[HaltReason], object]] = field(default_factory=list)

    def stop(self, reason: HaltReason) -> None:
        """Ask the run to stop at its next step boundary (the first reason is the one kept)."""
        if self.halt is None:
            self.halt = reason
        for listener in self._halt_listeners:
            listener(reason)

    def on_halt(self, listener: Callable[[HaltReason], object]) -> None:
        """Call `listener` when the run must stop (at once when it already must)."""
        self._halt_listeners.append(listener)
        if self.halt is not None:
            listener(self.halt)

    async def append_events(self, events: Sequence[Event]) -> None:
        """Log events that belong to no checkpoint (a node starting); LeaseLost when not the owner."""
        self.progress_at = time.monotonic()
        if await self.writes.append_events(self.run, events):
            self.stop("cancel")

    async def finish(self, status: FinalStatus, *, output: Mapping[str, Any] | None = None,
                     error: str | None = None, events: Sequence[Event] = (),
                     messages: Sequence[Mapping[str, Any]] = ()) -> RunStatus:
        """End the run with its final events and conversation messages (see `queue.finish_run`)."""
        stored = await self.writes.finish(self.run, status, output=output, error=error, events=events,
                                          messages=messages)
        self.finished = True
        self.outcome = stored
        return stored
