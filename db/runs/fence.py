"""RunFence: the one object the checkpointer receives from the run executor.

The saver calls it inside the transaction of every step and of every task's
pending writes. For a queued run (its config names `run_id` and `attempt`) it
proves that this attempt still owns the run, so a worker that froze past its
lease cannot commit anything; for a step it also counts the step, extends the
lease and logs `node_finished` for the nodes that completed in it. Graphs run
without a run id (`navigator ask`) pass through untouched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import asyncpg

from db.runs.lease import RunLease
from db.runs.model import Event
from db.runs.queue import check_fence, fence_step


def _run_of(config: Mapping[str, Any]) -> tuple[uuid.UUID, int] | None:
    configurable = config.get("configurable", {})
    run_id = configurable.get("run_id")
    if run_id is None:  # not a queued run (e.g. `navigator ask`)
        return None
    return uuid.UUID(str(run_id)), int(configurable["attempt"])


class RunFence:
    """Fences checkpoints and pending writes by the run's attempt; knows the runs this process holds."""

    def __init__(self, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self._leases: dict[uuid.UUID, RunLease] = {}

    @contextmanager
    def holding(self, lease: RunLease) -> Iterator[RunLease]:
        """While inside, the run's steps log node events and report a cancel to `lease`."""
        self._leases[lease.run.id] = lease
        try:
            yield lease
        finally:
            self._leases.pop(lease.run.id, None)

    @property
    def held(self) -> list[uuid.UUID]:
        return list(self._leases)

    async def step(self, con: asyncpg.Connection, config: Mapping[str, Any], checkpoint: Mapping[str, Any],
                   metadata: Mapping[str, Any]) -> None:
        """Inside a checkpoint's transaction: fence it by the attempt and log the nodes that finished in it."""
        owner = _run_of(config)
        if owner is None:
            return
        run_id, attempt = owner
        lease = self._leases.get(run_id)
        root = not config.get("configurable", {}).get("checkpoint_ns")
        seen: dict[str, Any] = checkpoint.get("versions_seen", {})
        events: list[Event] = []
        if lease is not None and root:
            step = metadata.get("step") if isinstance(metadata, Mapping) else None
            events = [("node_finished", {"node": node, "step": step})
                      for node, versions in seen.items()
                      if not node.startswith("__") and lease.versions_seen.get(node) != versions]
        cancel_requested = await fence_step(con, run_id, attempt, self.lease_seconds, events)
        if lease is not None:
            if root:
                lease.versions_seen = {node: dict(versions) for node, versions in seen.items()}
            if cancel_requested:
                lease.stop("cancel")

    async def writes(self, con: asyncpg.Connection, config: Mapping[str, Any]) -> None:
        """Inside the transaction of a task's pending writes: LeaseLost unless the attempt owns the run."""
        owner = _run_of(config)
        if owner is not None:
            await check_fence(con, *owner)
