"""The checkpointer's projection: where the workflow is and what each agent concluded.

Called by `AsyncpgSaver.aput` for root checkpoints and written in the same
transaction, so `workflow_states` / `agent_states` never disagree with the
checkpoint. Pure and synchronous: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import Checkpoint, CheckpointMetadata

from agents.case.track import TRACK
from agents.state import AGENT_KEYS, CLARIFY, COMMUNICATOR, GUARD, NAVIGATOR, WORKFLOW_TYPE

# Knowledge text is in the knowledge table already; the projection keeps references.
_DOCUMENT_FIELDS = ("slug", "title", "source", "url", "rank")


def _slim(agent: str, data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    if agent == NAVIGATOR and "documents" in out:
        out["documents"] = [{k: d.get(k) for k in _DOCUMENT_FIELDS} for d in out["documents"] or []]
    return out


def _status(values: Mapping[str, Any]) -> str:
    guard_status = (values.get(GUARD) or {}).get("status")
    step = values.get("current_step")
    if step in (GUARD, CLARIFY) and guard_status in ("urgent", "rejected"):
        return str(guard_status)
    if step in (COMMUNICATOR, TRACK):
        return "answered"
    if step == NAVIGATOR and (values.get(NAVIGATOR) or {}).get("missing"):
        return "waiting_for_input"
    return "in_progress"


def project_step(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata) -> dict | None:
    values = checkpoint.get("channel_values") or {}
    step = values.get("current_step")
    if step is None:
        return None  # the input checkpoint of a new thread: nothing has run yet
    updated = checkpoint.get("updated_channels")
    found = values.get(NAVIGATOR) or {}
    user_id = (config.get("configurable") or {}).get("user_id")
    workflow = {
        "workflow_type": WORKFLOW_TYPE,
        "current_step": step,
        "user_id": str(user_id) if user_id else None,
        "state_data": {
            "status": _status(values),
            "intent": values.get("intent"),
            "facts": found.get("facts") or {},
            "missing": found.get("missing") or [],
            "summary": values.get("summary", ""),
        },
    }
    agents = [
        {"agent_name": key, "state_data": _slim(key, values[key]), "workflow_step": str(step)}
        for key in AGENT_KEYS
        if values.get(key) is not None and (updated is None or key in updated)
    ]
    return {"workflow": workflow, "agents": agents}
