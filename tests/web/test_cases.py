"""Cases and notifications in the web client: "Track this" opens a case from the conversation,
whose page shows the next step, the deadline with its date, the reminders and the timeline; the
letter downloads as a PDF; "I filed it" moves the case on. A notification shows as an unread
count, opens its case and can be marked read."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from playwright.async_api import expect
from pypdf import PdfReader

from agents.dates import fmt
from tests.web.conftest import Visit, WebServer
from tests.web.people import APPEAL, send, settled, sign_up, transcript
from tests.web.test_accessibility import axe_violations, blocking

ANSWER = "The letter came yesterday; it is an employer plan."
NOTIFY = """
INSERT INTO notifications (user_id, case_id, idempotency_key, kind, title, body, created_at)
SELECT u.id, $2, $3, 'reminder', 'Your internal appeal for MRI is due in 3 days', 'File it by then.', now()
  FROM users u WHERE u.email = $1
"""


async def test_track_a_conversation_then_follow_the_case(visit: Visit, server: WebServer) -> None:
    page = await visit.page()
    email = await sign_up(page)
    await send(page, APPEAL)
    await expect(transcript(page).locator("article.question")).to_be_visible()
    await send(page, ANSWER)
    await settled(page)

    await page.get_by_role("button", name="Track this", exact=True).click()
    case_view = page.get_by_role("main", name="MRI")
    deadline = fmt(datetime.now(UTC).date() - timedelta(days=1) + timedelta(days=180))
    await expect(case_view.get_by_role("heading", name="Next step")).to_be_visible()
    await expect(page.locator("#case-meta")).to_contain_text("Letter ready")
    await expect(page.locator("#case-deadlines")).to_contain_text(f"File your internal appeal: {deadline}")
    await expect(page.locator("#case-timers li")).to_have_count(3)
    await expect(page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Letter ready"))\
        .to_be_visible()

    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download the letter (PDF)", exact=True).click()
    letter = await (await waiting.value).path()
    text = " ".join(PdfReader(io.BytesIO(letter.read_bytes())).pages[0].extract_text().split())
    assert "Request for internal appeal" in text and deadline in text

    found = await axe_violations(page)
    assert not blocking(found), found

    await page.get_by_role("button", name="I filed it", exact=True).click()
    await expect(page.locator("#case-meta")).to_contain_text("Waiting for the decision")
    await expect(page.locator("#case-timeline")).to_contain_text("You filed the internal appeal")

    case_id = page.url.rsplit("/", 1)[-1]
    con = await asyncpg.connect(server.dsn)
    try:
        await con.execute(NOTIFY, email, uuid.UUID(case_id), f"web-test:{uuid.uuid4()}")
    finally:
        await con.close()
    await page.reload()
    bell = page.get_by_role("button", name="Notifications, 1 unread", exact=True)
    await expect(bell).to_be_visible()
    await bell.click()
    panel = page.get_by_role("region", name="Notifications")
    await expect(panel).to_contain_text("due in 3 days")
    found = await axe_violations(page)
    assert not blocking(found), found
    await panel.get_by_role("button", name="Mark read", exact=True).click()
    await expect(page.get_by_role("button", name="Notifications", exact=True)).to_be_visible()
