"""Probes and metrics: `/health` (the database's state), `/livez` (the process answers, even with
the database down, so a liveness probe never restarts a pod for an outage), `/readyz` (database,
migrations and workers: 503 until all are ready) and `/metrics` (Prometheus; 404 unless
METRICS_TOKEN is set, then only with `Authorization: Bearer <METRICS_TOKEN>`)."""

from __future__ import annotations

import asyncio
import hmac
from typing import Literal

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api.errors import RETRY_AFTER_SECONDS
from api.probes import ProbeTargets, readiness, scrape
from api.schemas import HealthOut
from db.errors import Unavailable
from db.metrics import CONTENT_TYPE
from db.pool import CONNECTION_ERRORS

router = APIRouter(tags=["operations"])

HEALTH_QUERY_TIMEOUT_SECONDS = 3.0


class LiveOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str]


@router.get("/health", response_model=HealthOut,
            responses={503: {"model": HealthOut, "description": "Database unavailable"}})
async def health(request: Request) -> JSONResponse:
    # Both connections must answer: the owner's (workers, sign-in) and the requests' (the service role's).
    pools = [request.app.state.pool, getattr(request.app.state, "service_pool", None)]
    try:
        async with asyncio.timeout(HEALTH_QUERY_TIMEOUT_SECONDS):
            for pool in pools:
                if pool is not None:
                    await pool.fetchval("SELECT 1")
    except CONNECTION_ERRORS + (Unavailable, asyncpg.InvalidAuthorizationSpecificationError):
        return JSONResponse(HealthOut(status="unavailable", database="unavailable").model_dump(),
                            status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    return JSONResponse(HealthOut(status="ok", database="connected").model_dump())


@router.get("/livez", response_model=LiveOut)
async def livez() -> LiveOut:
    """The process is serving requests; says nothing about the database."""
    return LiveOut(status="ok")


@router.get("/readyz", response_model=ReadyOut,
            responses={503: {"model": ReadyOut, "description": "Not ready: a check says why"}})
async def readyz(request: Request) -> JSONResponse:
    targets: ProbeTargets = request.app.state.probe_targets
    ready, checks = await readiness(targets)
    body = ReadyOut(status="ready" if ready else "not ready", checks=checks).model_dump()
    if ready:
        return JSONResponse(body)
    return JSONResponse(body, status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token is None:  # off on the public port unless protected
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    given = request.headers.get("authorization", "")
    expected = "Bearer " + token.get_secret_value()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return JSONResponse({"detail": "metrics need Authorization: Bearer <METRICS_TOKEN>"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    return Response(await scrape(getattr(request.app.state, "pool", None)), media_type=CONTENT_TYPE)
