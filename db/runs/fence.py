"""RunFence: the one object the checkpointer receives from the run executor.

For a queued run (its config names `run_id` and `attempt`), the checkpointer
puts the fence's arguments into the very statement that writes a step or a
task's writes (db/runs/sql.py: FENCE_STEP_CTES, FENCE_WRITES_CTE). The
statement writes nothing unless the attempt still owns the run, so a worker
that froze past its lease cannot commit anything; a step's statement also
counts the step and logs `node_finished` for the nodes that completed in it and
`node_started` for the tasks the graph starts next (when the lease's `next_tasks`
can tell them: the graph starts them as soon as the statement commits), so a
node's start costs no statement of its own. The fenced statements of concurrent runs share one batch, one
round trip and one commit. Graphs run without a run id (`navigator ask`) are
not fenced.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from db.runs.lease import RunLease
from db.runs.model import LeaseLost


def run_of(config: Mapping[str, Any]) -> tuple[uuid.UUID, int] | None:
    """(run id, attempt) named by a graph config, or None for a graph run outside the queue."""
    configurable = config.get("configurable", {})
    run_id = configurable.get("run_id")
    if run_id is None:
        return None
    return uuid.UUID(str(run_id)), int(configurable["attempt"])


@dataclass(frozen=True, slots=True)
class FencedStep:
    """One step's fence: the statement arguments, and what to remember once it committed."""

    run_id: uuid.UUID
    attempt: int
    args: list[Any]  # run id, attempt, event names, event JSON texts
    lease: RunLease | None
    versions_seen: dict[str, Any] | None  # the root graph's, to diff the next step against
    announced: tuple[str, ...] = ()  # the task ids whose node_started the statement logs

    @property
    def key(self) -> str:
        """Batch order: by run, as every statement that locks `runs` rows orders them."""
        return str(self.run_id)


class RunFence:
    """Fences checkpoints and task writes by the run's attempt; knows the runs this process holds."""

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
            if self._leases.get(lease.run.id) is lease:
                del self._leases[lease.run.id]

    @property
    def held(self) -> list[uuid.UUID]:
        return list(self._leases)

    def loaded(self, config: Mapping[str, Any], checkpoint: Mapping[str, Any] | None) -> None:
        """The graph read the checkpoint it starts from: the nodes seen there already finished."""
        owner = run_of(config)
        if owner is None or config.get("configurable", {}).get("checkpoint_ns"):
            return
        lease = self._leases.get(owner[0])
        if lease is not None and lease.run.attempt == owner[1]:
            seen = checkpoint.get("versions_seen", {}) if checkpoint is not None else {}
            lease.versions_seen = {node: dict(versions) for node, versions in seen.items()}

    def step(self, config: Mapping[str, Any], checkpoint: Mapping[str, Any],
             metadata: Mapping[str, Any]) -> FencedStep | None:
        """The fence of one checkpoint (None outside the queue): its nodes that finished become events."""
        owner = run_of(config)
        if owner is None:
            return None
        run_id, attempt = owner
        lease = self._leases.get(run_id)
        if lease is not None and lease.run.attempt != attempt:
            lease = None
        root = not config.get("configurable", {}).get("checkpoint_ns")
        names: list[str] = []
        data: list[str] = []
        seen: dict[str, Any] | None = None
        announced: tuple[str, ...] = ()
        if lease is not None and root:
            seen = checkpoint.get("versions_seen", {})
            step = metadata.get("step") if isinstance(metadata, Mapping) else None
            for node, versions in seen.items():
                if not node.startswith("__") and lease.versions_seen.get(node) != versions:
                    names.append("node_finished")
                    data.append(json.dumps({"node": node, "step": step}))
            # Last in the statement (db/runs/sql.py drops them when a cancel is pending). Not
            # once the run must stop: the graph would start none of them.
            starts = lease.next_tasks(checkpoint, metadata) if lease.next_tasks and lease.halt is None else None
            if starts:
                for node, task_id in starts:
                    names.append("node_started")
                    data.append(json.dumps({"node": node, "task_id": task_id}))
                announced = tuple(task_id for _, task_id in starts)
        return FencedStep(run_id, attempt, [run_id, attempt, names, data], lease, seen, announced)

    def step_committed(self, fenced: FencedStep, row: asyncpg.Record | None) -> None:
        """After the step's statement: LeaseLost when the attempt did not own the run (nothing
        was written); else remember what the step saw and pass a cancel on to the run."""
        lease = fenced.lease
        if row is None or not row["owned"]:
            if lease is not None:
                lease.stop("lease_lost")
            raise LeaseLost(fenced.run_id, fenced.attempt)
        if lease is not None:
            lease.steps += 1
            lease.progress_at = time.monotonic()
            if fenced.versions_seen is not None:
                lease.versions_seen = {node: dict(versions) for node, versions in fenced.versions_seen.items()}
            if row["cancel_requested"]:  # the statement logged no node_started
                lease.announced.clear()
                lease.stop("cancel")
            else:
                lease.announced = set(fenced.announced)

    def writes(self, config: Mapping[str, Any]) -> list[Any] | None:
        """The fence of a task's writes (run id, attempt), or None outside the queue."""
        owner = run_of(config)
        return list(owner) if owner is not None else None

    def writes_committed(self, config: Mapping[str, Any], row: asyncpg.Record | None) -> None:
        """After a task's writes: LeaseLost when the attempt did not own the run (nothing was written)."""
        owner = run_of(config)
        if owner is None:
            return
        lease = self._leases.get(owner[0])
        if row is None or not row["owned"]:
            if lease is not None and lease.run.attempt == owner[1]:
                lease.stop("lease_lost")
            raise LeaseLost(*owner)
        if lease is not None and row["cancel_requested"]:
            lease.stop("cancel")
