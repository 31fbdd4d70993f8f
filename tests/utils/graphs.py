"""The real agents graph on the real checkpointer, for in-process executor tests."""

from __future__ import annotations

from typing import Any

import asyncpg

from agents.graph import build_graph
from agents.models import build_model
from agents.projection import project_step
from api.graph_runner import GraphFactory
from db.checkpoint import AsyncpgSaver
from db.runs.fence import RunFence

ANSWERED = "I need a prior authorization"  # guard -> navigator -> strategy -> communicator
ASKS_A_QUESTION = "my MRI claim was denied, what now?"  # navigator interrupts for two facts
ANSWER = "The letter came on March 3 and it is an employer plan"
NODES = ["guard", "navigator", "strategy", "communicator"]


def offline_graph_factory(pool: asyncpg.Pool, latency_ms: int = 0) -> GraphFactory:
    async def factory(fence: RunFence) -> Any:
        saver = AsyncpgSaver(pool, projection=project_step, fence=fence)
        return build_graph(checkpointer=saver, model=build_model("offline", latency_ms=latency_ms))

    return factory
