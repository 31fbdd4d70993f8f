"""Which tasks a compiled graph starts after a checkpoint, told from the checkpoint alone.

With `durability="sync"` LangGraph commits a step's checkpoint, then prepares the next step's
tasks from it and starts them. The run executor logs each task's `node_started` in that
checkpoint's own statement (db/runs/fence.py) instead of a statement of its own, so it needs
the tasks (node and task id) before they are prepared. This is LangGraph's rule for the tasks
that follow an edge (`prepare_next_tasks`, `prepare_single_task`, PULL), for graphs where the
checkpoint says it exactly: every trigger a channel whose value is in the checkpoint exactly
when it is available, no pending `Send`, no `interrupt_before`. Anything else answers None
and the runner logs the starts as the tasks arrive. Hidden tasks (`__start__`) are left out,
as the "tasks" stream leaves them out. tests/api/test_next_tasks.py holds it to what the
graph really starts.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.channels.ephemeral_value import EphemeralValue
from langgraph.channels.last_value import LastValue
from langgraph.constants import TAG_HIDDEN
from xxhash import xxh3_128_hexdigest

PULL = "__pregel_pull"  # LangGraph's marker of a task that follows an edge (in its task ids)
PUSH_TASKS = "__pregel_tasks"  # the channel of pending `Send`s
# Channels whose value is in a checkpoint exactly when they are available.
PLAIN_CHANNELS = (EphemeralValue, LastValue)


def task_id(checkpoint_id: bytes, node: bytes, step: int, tail: bytes) -> str:
    """LangGraph's id of a root-graph PULL task (checkpoint format v2 and later): a hash of the
    checkpoint id, the node, the step, and the node, PULL and its sorted triggers (`tail`)."""
    digest = xxh3_128_hexdigest(b"".join((checkpoint_id, node, str(step).encode(), tail)))
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


class NextTasks:
    """`RunLease.next_tasks` for one compiled graph: (node, task id) of the tasks it starts after
    a root checkpoint, in the order it starts them, or None when that cannot be told."""

    def __init__(self, graph: Any) -> None:
        nodes = graph.nodes
        self.triggers = {name: tuple(sorted(node.triggers)) for name, node in nodes.items()}
        # The parts of each node's task id that do not change: its name, and what follows the step.
        self.id_parts = {name: (name.encode(), "".join((name, PULL, *triggers)).encode())
                         for name, triggers in self.triggers.items()}
        self.hidden = frozenset(name for name, node in nodes.items() if TAG_HIDDEN in (node.tags or ()))
        self.trigger_to_nodes: Mapping[str, Sequence[str]] = graph.trigger_to_nodes or {}
        channels = graph.channels
        self.exact = not graph.interrupt_before_nodes and all(
            isinstance(channels.get(trigger), PLAIN_CHANNELS) for triggers in self.triggers.values()
            for trigger in triggers)

    def __call__(self, checkpoint: Mapping[str, Any], metadata: Mapping[str, Any]) -> list[tuple[str, str]] | None:
        step = metadata.get("step")
        values = checkpoint["channel_values"]
        if not self.exact or not isinstance(step, int) or checkpoint.get("v", 0) < 2 or values.get(PUSH_TASKS):
            return None
        versions = checkpoint["channel_versions"]
        if not versions:
            return []
        null_version = type(next(iter(versions.values())))()
        updated = checkpoint.get("updated_channels")
        if updated and self.trigger_to_nodes:  # as LangGraph narrows its candidates
            candidates: Sequence[str] = sorted({node for channel in updated
                                                for node in self.trigger_to_nodes.get(channel, ())})
        else:
            candidates = list(self.triggers)
        seen_by = checkpoint["versions_seen"]
        starts = []
        checkpoint_id: bytes | None = None
        for node in candidates:
            triggers = self.triggers.get(node)
            if triggers is None or node in self.hidden:
                continue
            seen = seen_by.get(node)
            if any(trigger in values and (seen is None or versions.get(trigger, null_version)
                                          > seen.get(trigger, null_version)) for trigger in triggers):
                if checkpoint_id is None:
                    checkpoint_id = binascii.unhexlify(checkpoint["id"].replace("-", ""))
                name, tail = self.id_parts[node]
                starts.append((node, task_id(checkpoint_id, name, step + 1, tail)))
        return starts
