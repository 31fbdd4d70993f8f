"""Reload in the middle of a run: the page reconnects to the run's event stream after the
last event it handled (Last-Event-ID), shows the steps still to come live, and the run
finishing once: each message shown once (it was stored with its run, so the history
brings it back), the question asked once, the answer shown once, no run started twice.
A module of its own: its server's model takes realistic time per call, so a reload
lands while a step is still running."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from playwright.async_api import Page, Request, expect

from tests.web.conftest import Visit, WebServer, web_server
from tests.web.people import APPEAL, APPEAL_ANSWER, send, settled, sign_up, transcript

# Each model call takes this long: a reload (a second or two on a loaded machine) lands inside one.
MODEL_LATENCY_MS = 3000


@pytest.fixture(scope="module")
async def server(admin_dsn: str) -> AsyncIterator[WebServer]:
    async with web_server(admin_dsn, offline_model_latency_ms=MODEL_LATENCY_MS) as running:
        yield running


def progress(page: Page, step: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("status").filter(has_text=step)


async def reload_and_watch_the_stream(page: Page) -> list[Request]:
    streams: list[Request] = []
    page.on("request", lambda request: streams.append(request) if request.url.endswith("/events") else None)
    await page.reload()
    return streams


async def last_event_ids(streams: list[Request]) -> list[int]:
    return [int((await request.all_headers()).get("last-event-id", "0")) for request in streams]


async def test_reload_mid_run_reconnects_and_shows_each_run_finish_once(visit: Visit, server: WebServer) -> None:
    page = await visit.page()
    await sign_up(page)

    await send(page, APPEAL)
    await expect(progress(page, "Understanding your question")).to_be_visible()
    streams = await reload_and_watch_the_stream(page)
    # The message was stored with its run: after the reload it is in the history, once, not pending.
    await expect(transcript(page).locator("article.user")).to_have_count(1)
    await expect(transcript(page).locator("article.user")).to_contain_text(APPEAL)
    await expect(transcript(page).locator("article.pending")).to_have_count(0)
    await expect(transcript(page).locator("article.question")).to_have_count(1)
    await settled(page)
    assert streams and all(after > 0 for after in await last_event_ids(streams)), "reconnected from the start"

    await send(page, APPEAL_ANSWER)
    await expect(progress(page, "Planning your next steps")).to_be_visible()
    streams = await reload_and_watch_the_stream(page)
    await expect(transcript(page).locator("article.user").last).to_contain_text(APPEAL_ANSWER)
    await expect(transcript(page).locator("article.pending")).to_have_count(0)
    await expect(progress(page, "Writing the answer")).to_be_visible()  # a step seen live after the reload
    await settled(page)
    assert streams and all(after > 0 for after in await last_event_ids(streams)), "reconnected from the start"

    log = transcript(page)
    await expect(log).to_contain_text(re.compile(r"180 days"))
    await expect(log.locator("article.question")).to_have_count(1)
    await expect(log.locator("article.assistant:not(.question)")).to_have_count(1)
    await expect(log.locator("article.user")).to_have_count(2)

    cid = re.search(r"#/c/([0-9a-f-]{36})$", page.url)
    assert cid
    con = await asyncpg.connect(server.dsn)
    try:
        runs = await con.fetch("SELECT kind, status FROM runs WHERE conversation_id = $1 ORDER BY created_at",
                               uuid.UUID(cid.group(1)))
    finally:
        await con.close()
    assert [(r["kind"], r["status"]) for r in runs] == [("message", "interrupted"), ("resume", "success")]
