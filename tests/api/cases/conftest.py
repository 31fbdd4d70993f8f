"""A case-ready app for the case tests: in-process workers with the timer and outbox loops, one
clock that starts on a fixed day and that tests advance, fast polling and retries, a real SMTP
server (helpers.py waits for what the loops do)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app, start_in_process_workers
from db.clock import Clock
from db.settings import Settings
from scripts.dev.receivers import SmtpReceiver
from tests.api.cases.helpers import NOTIFY_MAX_ATTEMPTS, START
from tests.conftest import make_settings


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
                         smtp_security="none", registration_confirmation="off")  # accounts made at once


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
