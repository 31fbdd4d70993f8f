"""Liveness with the database's state: 200 when a query answers, 503 otherwise."""

from __future__ import annotations

import asyncio

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
    try:
        async with asyncio.timeout(HEALTH_QUERY_TIMEOUT_SECONDS):
            await request.app.state.pool.fetchval("SELECT 1")
    except CONNECTION_ERRORS + (Unavailable,):
        return JSONResponse(HealthOut(status="unavailable", database="unavailable").model_dump(),
                            status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    return JSONResponse(HealthOut(status="ok", database="connected").model_dump())
