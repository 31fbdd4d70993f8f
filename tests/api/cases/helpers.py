"""Waiting for what the timer and outbox loops do, and moving the clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from db.clock import Clock
from tests.api.conftest import Account

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOTIFY_MAX_ATTEMPTS = 3
T = TypeVar("T")


def advance(app: FastAPI, clock: Clock, to: datetime) -> None:
    """Move the clock to `to` and let the loops look at once."""
    clock.advance_to(to)
    app.state.case_loops.wake()


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 20.0, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


async def notifications(http: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await http.get("/me/notifications", params={"limit": 100}, headers=account.headers)
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))  # oldest first


async def settled_case(http: httpx.AsyncClient, account: Account, case_id: str) -> dict[str, Any]:
    """The case once nothing of it is queued or running."""
    async def check() -> dict[str, Any] | None:
        body = (await http.get(f"/cases/{case_id}", headers=account.headers)).json()
        return None if body["processing"] else body

    return await eventually(check, what=f"case {case_id} to settle")
