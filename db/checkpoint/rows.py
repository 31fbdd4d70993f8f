"""Pure conversions between LangGraph checkpoints and the rows of `checkpoints`,
`checkpoint_blobs`, `checkpoint_writes` and the step projection.

No I/O here (checkpoint-postgres splits `base.py` from `aio.py` the same way), so
the saver's I/O module stays short and these stay testable on their own.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    PendingWrite,
    get_serializable_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

# Values of these exact types stay inline in the checkpoint row (no blob row),
# as checkpoint-postgres does: scalars are cheap to rewrite and most steps change some.
INLINE_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    """The parameters of one `aput`, ready for the INSERT statement."""

    type: str
    checkpoint: bytes
    metadata: str
    blob_channels: list[str]
    blob_versions: list[str]
    inline_channels: list[str]
    new_blob_channels: list[str]
    new_blob_versions: list[str]
    new_blob_types: list[str]
    new_blobs: list[bytes]


@dataclass(frozen=True, slots=True)
class ProjectionRows:
    """`workflow_states` / `agent_states` parameters for one step (None: no workflow upsert)."""

    user_id: uuid.UUID | None
    workflow_type: str | None
    current_step: str | None
    state_data: str | None
    agent_names: list[str]
    agent_states: list[str]
    agent_steps: list[str]


EMPTY_PROJECTION = ProjectionRows(None, None, None, None, [], [], [])


def next_version(current: str | int | float | None) -> str:
    """A zero-padded counter (text order is numeric order below 10**10 steps) plus a random suffix,
    so two forks of one parent never share a (channel, version) blob key."""
    if current is None:
        counter = 0
    elif isinstance(current, int | float):
        counter = int(current)
    else:
        counter = int(current.split(".", 1)[0])
    return f"{counter + 1:010d}.{random.getrandbits(32):08x}"


def dump_checkpoint(
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
) -> CheckpointRow:
    """Split a checkpoint into its row (inline scalars) and the blobs of the channels that changed."""
    values = checkpoint["channel_values"]
    versions = checkpoint["channel_versions"]
    inline: dict[str, Any] = {}
    blob_channels: list[str] = []
    blob_versions: list[str] = []
    new_channels: list[str] = []
    new_versions_list: list[str] = []
    new_types: list[str] = []
    new_blobs: list[bytes] = []
    for channel, value in values.items():
        if type(value) in INLINE_TYPES:
            inline[channel] = value
            continue
        version = versions.get(channel)
        if version is None:
            continue
        blob_channels.append(channel)
        blob_versions.append(str(version))
        if channel in new_versions:
            type_, blob = serde.dumps_typed(value)
            new_channels.append(channel)
            new_versions_list.append(str(new_versions[channel]))
            new_types.append(type_)
            new_blobs.append(blob)
    stored = {**checkpoint, "channel_values": inline}
    type_, blob = serde.dumps_typed(stored)
    return CheckpointRow(
        type=type_,
        checkpoint=blob,
        metadata=json.dumps(get_serializable_checkpoint_metadata(config, metadata)),
        blob_channels=blob_channels,
        blob_versions=blob_versions,
        inline_channels=list(inline),
        new_blob_channels=new_channels,
        new_blob_versions=new_versions_list,
        new_blob_types=new_types,
        new_blobs=new_blobs,
    )


def dump_writes(
    serde: SerializerProtocol, writes: Sequence[tuple[str, Any]]
) -> tuple[list[int], list[str], list[str], list[bytes]]:
    """Arrays for one `aput_writes` statement; special channels get their fixed
    negative index, so a retried write lands on the same key (last one wins)."""
    by_idx: dict[int, tuple[str, str, bytes]] = {}
    for position, (channel, value) in enumerate(writes):
        type_, blob = serde.dumps_typed(value)
        by_idx[WRITES_IDX_MAP.get(channel, position)] = (channel, type_, blob)
    return (
        list(by_idx),
        [w[0] for w in by_idx.values()],
        [w[1] for w in by_idx.values()],
        [w[2] for w in by_idx.values()],
    )


def load_writes(serde: SerializerProtocol, row: asyncpg.Record) -> list[PendingWrite]:
    """Pending writes of one checkpoint row, in `writes_sort_key` order."""
    task_ids = row["write_task_ids"]
    if not task_ids:
        return []
    rows = sorted(
        zip(task_ids, row["write_channels"], row["write_types"], row["write_blobs"],
            row["write_task_paths"], row["write_idxs"], strict=True),
        key=lambda w: writes_sort_key(w[4], w[0], w[5]),
    )
    return [(task_id, channel, serde.loads_typed((type_, blob)))
            for task_id, channel, type_, blob, _, _ in rows]


def load_tuple(serde: SerializerProtocol, row: asyncpg.Record) -> CheckpointTuple:
    """A CheckpointTuple from one row of the SELECT_* tuple queries."""
    thread_id = row["thread_id"]
    checkpoint_ns = row["checkpoint_ns"]
    checkpoint: Checkpoint = serde.loads_typed((row["type"], row["checkpoint"]))
    values = checkpoint["channel_values"]
    if row["blob_channels"]:
        for channel, type_, blob in zip(row["blob_channels"], row["blob_types"], row["blobs"], strict=True):
            if type_ != "empty":
                values[channel] = serde.loads_typed((type_, blob))
    parent_id = row["parent_checkpoint_id"]
    return CheckpointTuple(
        config={"configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns,
                                 "checkpoint_id": row["checkpoint_id"]}},
        checkpoint=checkpoint,
        metadata=json.loads(row["metadata"]),
        parent_config=(
            {"configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns,
                              "checkpoint_id": parent_id}}
            if parent_id else None
        ),
        pending_writes=load_writes(serde, row),
    )


def assemble_delta_history(
    serde: SerializerProtocol, channels: Sequence[str], rows: Sequence[asyncpg.Record]
) -> dict[str, DeltaChannelHistory]:
    """Per-channel writes (oldest first, `writes_sort_key` within a checkpoint) and
    seeds from the rows of `SELECT_DELTA_HISTORY`. Deeper rows are older ancestors."""
    writes_by_channel: dict[str, list[tuple[Any, ...]]] = {c: [] for c in channels}
    seeds: dict[str, Any] = {}
    for row in rows:
        kind = row["kind"]
        if kind == "w":
            writes_by_channel[row["channel"]].append(
                (-row["depth"], *writes_sort_key(row["task_path"], row["task_id"], row["idx"]), row))
        elif kind == "b":
            if row["type"] != "empty":
                seeds[row["channel"]] = serde.loads_typed((row["type"], row["blob"]))
        else:  # "c": a checkpoint whose inline values seed some channels
            inline = serde.loads_typed((row["type"], row["blob"]))["channel_values"]
            for channel in row["seed_channels"]:
                if channel in inline:
                    seeds[channel] = inline[channel]
    result: dict[str, DeltaChannelHistory] = {}
    for channel in channels:
        ordered = sorted(writes_by_channel[channel], key=lambda w: w[:4])
        entry: DeltaChannelHistory = {"writes": [
            (w[4]["task_id"], channel, serde.loads_typed((w[4]["type"], w[4]["blob"]))) for w in ordered
        ]}
        if channel in seeds:
            entry["seed"] = seeds[channel]
        result[channel] = entry
    return result


def dump_projection(projection: Mapping[str, Any] | None) -> ProjectionRows:
    """Validate what the agents' projection returned and turn it into statement parameters."""
    if not projection:
        return EMPTY_PROJECTION
    if not isinstance(projection, Mapping):
        raise TypeError(f"projection must return a dict or None, not {type(projection).__name__}")
    workflow = projection.get("workflow")
    user_id: uuid.UUID | None = None
    workflow_type = current_step = state_data = None
    if workflow is not None:
        workflow_type = workflow.get("workflow_type")
        if not isinstance(workflow_type, str) or not workflow_type:
            raise ValueError("projection workflow needs a non-empty 'workflow_type'")
        raw_user = workflow.get("user_id")
        user_id = uuid.UUID(str(raw_user)) if raw_user is not None else None
        current_step = workflow.get("current_step")
        state_data = json.dumps(workflow.get("state_data") or {})
    latest: dict[str, tuple[str, str]] = {}
    for agent in projection.get("agents") or ():
        name, step = agent.get("agent_name"), agent.get("workflow_step")
        if not isinstance(name, str) or not name or not isinstance(step, str):
            raise ValueError("projection agents need 'agent_name' and 'workflow_step' strings")
        latest[name] = (json.dumps(agent.get("state_data") or {}), step)
    return ProjectionRows(
        user_id=user_id,
        workflow_type=workflow_type,
        current_step=current_step,
        state_data=state_data,
        agent_names=list(latest),
        agent_states=[v[0] for v in latest.values()],
        agent_steps=[v[1] for v in latest.values()],
    )
