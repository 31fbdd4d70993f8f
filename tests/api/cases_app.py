"""A case-ready app for the case tests: in-process workers with the timer and outbox loops, one
clock that starts on a fixed day and that tests advance, fast polling and retries, a real SMTP
server. Helpers to wait for what the loops do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app, start_in_process_workers
from db.clock import Clock
from db.settings import Settings
from tests.api.conftest import Account
from tests.conftest import make_settings
from scripts.dev.receivers import SmtpReceiver

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOTIFY_MAX_ATTEMPTS = 3
T = TypeVar("T")


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def case_settings(migrated_dsn: str, smtp: SmtpReceiver) -> Settings:
    return make_settings(migrated_dsn, timer_poll_seconds=0.05, notify_poll_seconds=0.05, notify_backoff_seconds=0.05,
                         notify_max_attempts=NOTIFY_MAX_ATTEMPTS, notify_timeout_seconds=5,
                         webhook_allow_private_networks=True, smtp_host="127.0.0.1", smtp_port=smtp.port,
                         smtp_security="none")


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(START)


@pytest.fixture(scope="module")
async def case_app(case_settings: Settings, migrated_dsn: str, clock: Clock) -> AsyncIterator[FastAPI]:
    app = create_app(case_settings, dsn=migrated_dsn, workers=start_in_process_workers, clock=clock,
                     chat_wait_seconds=30)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def http(case_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=case_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
        yield client


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
