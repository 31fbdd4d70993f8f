"""The private operations listener (METRICS_PORT on METRICS_HOST): `/metrics` without a token,
`/livez` and `/readyz`, for `navigator serve` and `navigator worker` alike.

It is meant for an interface only the scraper and the orchestrator reach
(127.0.0.1 by default, a pod's own address in a cluster), which is why it
asks for no token; the public port keeps /metrics off unless METRICS_TOKEN is set.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.probes import ProbeTargets, readiness, scrape
from db.metrics import CONTENT_TYPE


def create_ops_app(targets: ProbeTargets) -> Starlette:
    async def metrics(request: Request) -> Response:
        return Response(await scrape(targets.pool()), media_type=CONTENT_TYPE)

    async def livez(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready, checks = await readiness(targets)
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                            status_code=200 if ready else 503)

    return Starlette(routes=[Route("/metrics", metrics), Route("/livez", livez), Route("/readyz", readyz)])


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the command that runs it handles SIGTERM/SIGINT and stops it


class OpsListener:
    """The listener running in the current event loop; `stop()` closes it."""

    def __init__(self, targets: ProbeTargets, host: str, port: int) -> None:
        config = uvicorn.Config(create_ops_app(targets), host=host, port=port, log_config=None, access_log=False,
                                lifespan="off", log_level="warning")
        self.server = _QuietServer(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> str:
        """Listen; returns the address (a port of 0 picks a free one)."""
        self.task = asyncio.create_task(self.server.serve(), name="ops-listener")
        while not self.server.started:
            if self.task.done():
                await self.task
                raise OSError("the metrics listener did not start (METRICS_PORT taken?)")
            await asyncio.sleep(0.02)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        if self.task is not None:
            self.server.should_exit = True
            await asyncio.gather(self.task, return_exceptions=True)
