"""Threads, runs and thread states in the shapes the LangGraph SDKs read."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from langgraph.types import StateSnapshot

from api.protocol.serialize import interrupts_json, to_jsonable
from db.protocol import RunOptions
from db.runs.model import Run

# Our run statuses under the protocol's names: a run that stopped at a question, or was
# cancelled, is "interrupted" (the thread's status tells the two apart).
RUN_STATUS = {"pending": "pending", "running": "running", "success": "success", "error": "error",
              "interrupted": "interrupted", "cancelled": "interrupted"}


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def checkpoint_ref(thread_id: str, config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    configurable = config.get("configurable", {})
    return {"thread_id": thread_id, "checkpoint_ns": configurable.get("checkpoint_ns", ""),
            "checkpoint_id": configurable.get("checkpoint_id"), "checkpoint_map": configurable.get("checkpoint_map")}


def state_interrupts(snapshot: StateSnapshot) -> list[dict[str, Any]]:
    return interrupts_json(interrupt for task in snapshot.tasks for interrupt in task.interrupts)


def state_out(thread_id: str, snapshot: StateSnapshot) -> dict[str, Any]:
    """A thread state (get_state, get_history): values, next, tasks with their interrupts, checkpoint..."""
    tasks = [{"id": task.id, "name": task.name, "error": task.error, "interrupts": interrupts_json(task.interrupts),
              "checkpoint": None, "state": None, "result": to_jsonable(task.result)} for task in snapshot.tasks]
    checkpoint = checkpoint_ref(thread_id, snapshot.config) or {
        "thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": None, "checkpoint_map": None}
    return {"values": to_jsonable(snapshot.values or {}), "next": list(snapshot.next), "tasks": tasks,
            "checkpoint": checkpoint, "metadata": to_jsonable(snapshot.metadata or {}),
            "created_at": snapshot.created_at, "parent_checkpoint": checkpoint_ref(thread_id, snapshot.parent_config),
            "interrupts": state_interrupts(snapshot)}


def thread_out(thread_id: uuid.UUID, *, created_at: datetime, updated_at: datetime, metadata: Mapping[str, Any],
               status: str, snapshot: StateSnapshot | None, expires_at: datetime | None = None) -> dict[str, Any]:
    """A thread: the conversation, its status, and (when read) its latest values and open interrupts."""
    interrupts: dict[str, list[dict[str, Any]]] = {}
    if snapshot is not None:
        interrupts = {task.id: interrupts_json(task.interrupts) for task in snapshot.tasks if task.interrupts}
    return {"thread_id": str(thread_id), "created_at": iso(created_at), "updated_at": iso(updated_at),
            "metadata": to_jsonable(metadata), "status": status,
            "values": to_jsonable(snapshot.values or {}) if snapshot is not None else None,
            "interrupts": interrupts, "expires_at": iso(expires_at)}


def select_fields(item: dict[str, Any], select: Sequence[str] | None) -> dict[str, Any]:
    return item if not select else {key: value for key, value in item.items() if key in select}


def run_out(run: Run, options: RunOptions | None, default_assistant_id: uuid.UUID) -> dict[str, Any]:
    """A run; `kwargs` says what it was asked (its input, or the answer it resumes with)."""
    kwargs: dict[str, Any] = {"stream_mode": options.stream_mode if options else ["values"]}
    if run.kind == "resume":
        kwargs["command"] = {"resume": run.input.get("resume")}
    else:
        kwargs["input"] = {"messages": [{"role": "user", "content": run.input.get("message")}]}
    out: dict[str, Any] = {
        "run_id": str(run.id), "thread_id": str(run.conversation_id),
        "assistant_id": str(options.assistant_id if options else default_assistant_id),
        "created_at": iso(run.created_at), "updated_at": iso(run.updated_at), "status": RUN_STATUS[run.status],
        "metadata": dict(options.metadata) if options else {},
        "multitask_strategy": options.multitask_strategy if options else "enqueue", "kwargs": kwargs,
    }
    if run.status == "cancelled":
        out["cancel_reason"] = "cancelled"
    return out
