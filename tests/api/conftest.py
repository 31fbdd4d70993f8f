"""An app per test module on the module's migrated database, clients, and users made with few hashes."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app, start_in_process_workers
from db.scratch import create_database, drop_database
from db.settings import Settings

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    email: str
    password: str
    id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@contextlib.asynccontextmanager
async def started_app(settings: Settings, dsn: str, **options: Any) -> AsyncIterator[FastAPI]:
    """An app of its own (other settings than the module's), without workers, for one block."""
    application = create_app(settings, dsn=dsn, workers=None, **options)
    async with application.router.lifespan_context(application):
        yield application


def client_at(application: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client whose connection comes from `address` (what the throttles and the audit trail see)."""
    transport = httpx.ASGITransport(app=application, client=(address, 50_000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture(scope="module")
async def serve_dsn(admin_dsn: str) -> AsyncIterator[str]:
    """An empty database for the module's `navigator serve` process, which migrates it as it starts."""
    dsn = await create_database(admin_dsn)
    yield dsn
    await drop_database(admin_dsn, dsn)


@pytest.fixture(scope="module")
async def app(settings: Settings, migrated_dsn: str) -> AsyncIterator[FastAPI]:
    """The API without in-process workers (runs stay pending unless a test runs workers)."""
    application = create_app(settings, dsn=migrated_dsn, workers=None, chat_wait_seconds=0.2)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def worker_app(settings: Settings, migrated_dsn: str) -> AsyncIterator[FastAPI]:
    """The API with its in-process run workers (runs execute; /chat waits up to 30 s)."""
    application = create_app(settings, dsn=migrated_dsn, workers=start_in_process_workers, chat_wait_seconds=30)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def wclient(worker_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=worker_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def register_and_login(client: httpx.AsyncClient, email: str | None = None,
                             password: str = PASSWORD) -> Account:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    created = await client.post("/auth/register", json={"email": email, "password": password})
    assert created.status_code == 202, created.text
    tokens = await client.post("/auth/login", json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    return Account(email, password, me.json()["id"], body["access_token"], body["refresh_token"])


@pytest.fixture(scope="module")
async def alice(client: httpx.AsyncClient) -> Account:
    return await register_and_login(client)


@pytest.fixture(scope="module")
async def bob(client: httpx.AsyncClient) -> Account:
    return await register_and_login(client)
