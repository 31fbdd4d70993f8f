"""A worker process for crash tests that SIGKILLs itself around the commit of the first case step
that decides a notification: `--kill before` (the step never commits), `--kill after` (it has
committed; nothing was delivered yet). Otherwise it is `navigator worker`: the same executors,
router, case graph and timer and outbox loops, on the database named by DATABASE_URL.

    python -m tests.utils.case_worker --kill after
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import sys
from typing import Any

from agents.case.graph import build_case_graph
from agents.case.projection import project_case_step
from api.case_loops import start_case_loops
from api.case_runner import CaseRunner, ThreadRouter
from api.graph_runner import GraphRunner, default_graph
from db.checkpoint import AsyncpgSaver
from db.clock import Clock
from db.pool import create_pool, resolve_dsn
from db.runs.executor import RunExecutor
from db.runs.fence import RunFence
from db.settings import load_settings

READY = "case worker ready"


class KillingSaver(AsyncpgSaver):
    """Dies by SIGKILL just before, or just after, committing a step whose projection notifies."""

    def __init__(self, *args: Any, kill: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kill = kill

    def _notifies(self, config: Any, checkpoint: Any, metadata: Any) -> bool:
        assert self.projection is not None
        projected = self.projection(config, checkpoint, metadata) or {}
        return bool(((projected.get("workflow") or {}).get("state_data") or {}).get("notify"))

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        notifies = self._notifies(config, checkpoint, metadata)
        if notifies and self.kill == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        saved = await super().aput(config, checkpoint, metadata, new_versions)
        if notifies and self.kill == "after":
            os.kill(os.getpid(), signal.SIGKILL)  # no await since the commit: nothing else ran
        return saved


async def main(kill: str) -> None:
    settings = load_settings()
    dsn = resolve_dsn(settings)
    pool = await create_pool(settings, dsn, min_size=1, max_size=8)
    fence = RunFence(settings.run_lease_seconds)
    saver = KillingSaver(pool, projection=functools.partial(project_case_step, channels=[]), fence=fence, kill=kill)
    runner = ThreadRouter(pool, {"navigator": GraphRunner(await default_graph(pool, settings, fence)),
                                 "case": CaseRunner(build_case_graph(saver))})
    executor = RunExecutor(pool, settings, runner, fence, concurrency=2)
    await executor.start()
    loops = start_case_loops(pool, settings, Clock())
    print(READY, file=sys.stderr, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await loops.stop()
        await executor.stop(drain_seconds=5)
        await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill", choices=("before", "after"), required=True)
    asyncio.run(main(parser.parse_args().kill))
