"""The case graph's projection: what `workflow_states` shows of a case after each step.

Written by the checkpointer in the step's own statement, so it never disagrees with the
checkpoint. Its `timers` and `notify` are the step's effects: a database trigger (migration
`cases`) turns them into timer and notification rows in that same transaction. `channels`
(besides in-app and the person's webhooks) is chosen by the application: `email` when the
server has SMTP configured. Pure and synchronous: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import Checkpoint, CheckpointMetadata

from agents.case.progress import levels
from agents.case.state import CASE_MANAGER, SCHEDULER, STRATEGY, WORKFLOW_TYPE

STATE_KEYS = ("kind", "title", "stage", "level", "facts", "documents", "source_conversation_id", "opened_at",
              "filings", "decisions", "closed", "deadlines", "next_action", "timeline", "timers")


def _agent_row(step: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
    data: dict[str, Any]
    if step == CASE_MANAGER:
        data = {"signal": {k: v for k, v in (values.get("signal") or {}).items() if k != "facts"}}
    elif step == STRATEGY:
        letter = values.get("letter") or {}
        data = {k: letter.get(k) for k in ("level", "level_name", "title", "drafted_at", "deadline")}
    elif step == SCHEDULER:
        data = {"stage": values.get("stage"), "next_action": values.get("next_action")}
    else:
        return None
    return {"agent_name": step, "state_data": data, "workflow_step": step}


def project_case_step(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                      channels: Sequence[str] = ()) -> dict[str, Any] | None:
    values = checkpoint.get("channel_values") or {}
    step = values.get("current_step")
    if step is None:
        return None  # the input checkpoint of a new case: nothing has run yet
    user_id = (config.get("configurable") or {}).get("user_id")
    state = {key: values.get(key) for key in STATE_KEYS}
    state["timers"] = list(values.get("timers") or [])
    ladder = levels(dict(values))
    index = min(int(values.get("level") or 0), len(ladder) - 1)
    state["level_label"] = ladder[index].label
    state["levels"] = [level.label for level in ladder]
    state["letter"] = values.get("letter")
    state["notify"] = [dict(note, channels=list(channels)) for note in values.get("notify") or []]
    row = _agent_row(str(step), values)
    return {"workflow": {"workflow_type": WORKFLOW_TYPE, "current_step": step,
                         "user_id": str(user_id) if user_id else None, "state_data": state},
            "agents": [row] if row is not None else []}
