"""Liveness with the database's state: 200 when a query answers, 503 otherwise."""

from __future__ import annotations

import asyncio

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.errors import RETRY_AFTER_SECONDS
from api.schemas import HealthOut
from db.errors import Unavailable
from db.pool import CONNECTION_ERRORS

router = APIRouter(tags=["operations"])

HEALTH_QUERY_TIMEOUT_SECONDS = 3.0


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
