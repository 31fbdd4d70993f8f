"""Browser tests: one chromium per test session, one server for the package (the
real app with its in-process run workers, served by uvicorn on a free port of
127.0.0.1, on a database of its own; a module that needs other settings starts
its own), and a fresh browser context per test.

After every test the page must have asked nothing of any other host and logged
no console error (a failed response the client expects, such as the 401 of a
first visit, is not an error)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from api.app import create_app
from api.confirmation import ConfirmationSender
from db.scratch import drop_database
from tests.conftest import make_settings
from tests.utils.db import create_migrated_database
from tests.web.browser import MissingTool, PageRecord, launch

# Generous: the machine is shared (load 4-8 on 2 cores); a wait ends as soon as its condition holds.
expect.set_options(timeout=30_000)
START_TIMEOUT_SECONDS = 60


@dataclass
class WebServer:
    base: str
    dsn: str


class QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # pytest owns the process's signals


@contextlib.asynccontextmanager
async def web_server(admin_dsn: str, confirmation_sender: ConfirmationSender | None = None,
                     **settings: object) -> AsyncIterator[WebServer]:
    """The app on its own migrated database, listening on a free port until the block ends."""
    dsn = await create_migrated_database(admin_dsn)
    app = create_app(make_settings(dsn, **settings), dsn=dsn, confirmation_sender=confirmation_sender)
    server = QuietServer(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False,
                                        proxy_headers=False, timeout_graceful_shutdown=5))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(START_TIMEOUT_SECONDS):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the web server stopped during startup")
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield WebServer(f"http://127.0.0.1:{port}", dsn)
    finally:
        server.should_exit = True
        await task
        await drop_database(admin_dsn, dsn)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        try:
            chromium = await launch(playwright)
        except MissingTool as exc:
            pytest.fail(str(exc))
        yield chromium
        await chromium.close()


@pytest.fixture(scope="package")
async def server(admin_dsn: str) -> AsyncIterator[WebServer]:
    async with web_server(admin_dsn) as running:
        yield running


class Visit:
    """Opens pages in one fresh browser context (its own cookies and storage), recording each."""

    def __init__(self, context: BrowserContext, base: str) -> None:
        self.context = context
        self.base = base
        self.records: list[PageRecord] = []
        self.allowed_statuses: set[int] = set()

    async def page(self, path: str = "/", *, width: int | None = None, height: int = 812) -> Page:
        page = await self.context.new_page()
        if width is not None:
            await page.set_viewport_size({"width": width, "height": height})
        record = PageRecord(self.base, allowed_statuses=self.allowed_statuses)
        record.attach(page)
        self.records.append(record)
        await page.goto(self.base + path)
        return page

    def allow_status(self, status: int) -> None:
        """A failed response this test provokes on purpose (a 503, say) is not a console error."""
        self.allowed_statuses.add(status)

    def check(self) -> None:
        foreign = [url for record in self.records for url in record.foreign_requests()]
        errors = [text for record in self.records for text in record.console_errors]
        assert not foreign, f"requests left the host: {foreign}"
        assert not errors, f"console errors: {errors}"


@contextlib.asynccontextmanager
async def visiting(browser: Browser, base: str, **context_options: object) -> AsyncIterator[Visit]:
    context = await browser.new_context(**context_options)  # type: ignore[arg-type]
    visit = Visit(context, base)
    try:
        yield visit
    finally:
        await context.close()
    visit.check()


@pytest.fixture
async def visit(browser: Browser, server: WebServer) -> AsyncIterator[Visit]:
    async with visiting(browser, server.base) as opened:
        yield opened
