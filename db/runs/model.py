"""What a run and its events are, as the rest of the service sees them (pure: no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast, get_args

import asyncpg

from db.errors import Conflict

RunStatus = Literal["pending", "running", "interrupted", "success", "error", "cancelled"]
# timer: a durable timer fired (db/runs/timers.py); event: the person told a case something (db/cases.py).
RunKind = Literal["message", "resume", "timer", "event"]
# How a worker may end a run it holds (a cancel that arrived meanwhile turns any of them into `cancelled`).
FinalStatus = Literal["success", "interrupted", "error"]

RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
# Statuses after which a run writes nothing more (interrupted waits for a new, separate run).
SETTLED_STATUSES: frozenset[RunStatus] = frozenset({"interrupted", "success", "error", "cancelled"})

# One event of a run as a worker writes it: (name, JSON-able payload).
Event = tuple[str, Mapping[str, Any]]


class LeaseLost(Conflict):
    """This worker's attempt no longer owns the run (its lease expired and another claimed it)."""

    def __init__(self, run_id: object, attempt: int) -> None:
        super().__init__(f"run {run_id} attempt {attempt} no longer holds the lease", run_id)
        self.attempt = attempt


@dataclass(frozen=True)
class Run:
    id: uuid.UUID
    seq: int
    conversation_id: uuid.UUID
    user_id: uuid.UUID
    kind: RunKind
    resumes_run_id: uuid.UUID | None
    status: RunStatus
    input: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None
    idempotency_key: str | None
    attempt: int
    lost_attempts: int
    steps: int
    worker_id: str | None
    lease_expires_at: datetime | None
    cancel_requested: bool
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def settled(self) -> bool:
        """True once the run writes nothing more (finished, or waiting for the person)."""
        return self.status in SETTLED_STATUSES


@dataclass(frozen=True)
class RunEvent:
    id: int
    run_id: uuid.UUID
    event: str
    data: dict[str, Any]
    attempt: int
    created_at: datetime


def to_run(row: asyncpg.Record | Mapping[str, Any] | None) -> Run:
    assert row is not None
    return Run(**{name: row[name] for name in Run.__dataclass_fields__})


def to_event(row: asyncpg.Record | Mapping[str, Any]) -> RunEvent:
    return RunEvent(id=row["id"], run_id=row["run_id"], event=row["event"], data=row["data"],
                    attempt=row["attempt"], created_at=row["created_at"])


def as_status(value: str) -> RunStatus:
    """A status read from the database (its CHECK constraint allows only these)."""
    if value not in RUN_STATUSES:
        raise ValueError(f"unknown run status {value!r}")
    return cast(RunStatus, value)
