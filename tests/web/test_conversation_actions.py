"""What a person does with a conversation: rename and pin it (PATCH), keep it longer,
download its export, delete it; and what they are told when it has expired."""

from __future__ import annotations

import json
import re
import uuid

import asyncpg
from playwright.async_api import Page, expect

from tests.web.conftest import Visit, WebServer
from tests.web.people import conversations, send, settled, sign_up, transcript

QUESTION = "What is a deductible?"


async def conversation_id(page: Page) -> str:
    match = re.search(r"#/c/([0-9a-f-]{36})$", page.url)
    assert match, page.url
    return match.group(1)


async def set_expiry(server: WebServer, cid: str, seconds: int) -> None:
    con = await asyncpg.connect(server.dsn)
    try:
        await con.execute("UPDATE conversations SET expires_at = now() + make_interval(secs => $2) WHERE id = $1",
                          uuid.UUID(cid), seconds)
    finally:
        await con.close()


async def ask_something(page: Page) -> str:
    await send(page, QUESTION)
    await settled(page)
    return await conversation_id(page)


async def test_rename_pin_keep_longer_export_and_delete(visit: Visit, server: WebServer) -> None:
    page = await visit.page()
    await sign_up(page)
    cid = await ask_something(page)
    nav = conversations(page)

    await page.get_by_role("button", name="Rename", exact=True).click()
    await expect(page.get_by_label("New title")).to_be_focused()
    await page.get_by_label("New title").fill("Deductible <basics>")
    await page.get_by_label("New title").press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Deductible <basics>")
    await expect(nav.get_by_role("link", name=re.compile("Deductible <basics>"))).to_be_visible()

    pin = page.get_by_role("button", name=re.compile("^Pin"))
    await pin.click()
    await expect(pin).to_have_attribute("aria-pressed", "true")
    await expect(nav.get_by_role("heading", name="Pinned")).to_be_visible()
    await expect(nav.locator("#pinned-list")).to_contain_text("Deductible <basics>")

    # An hour left; Keep longer gives it the full time to live (24 hours) again.
    await set_expiry(server, cid, 3600)
    await page.reload()
    await expect(nav.get_by_role("link", name=re.compile("Deductible"))).to_contain_text("Expires in 1 hour")
    await page.get_by_role("button", name="Keep longer", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="Kept until")).to_be_visible()
    await expect(nav.get_by_role("link", name=re.compile("Deductible"))).to_contain_text("Expires in 24 hours")

    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Export", exact=True).click()
    download = await downloading.value
    exported = json.loads(open(await download.path(), encoding="utf-8").read())
    assert exported["conversation"]["title"] == "Deductible <basics>" and exported["conversation"]["pinned"] is True
    assert [m["content"] for m in exported["messages"] if m["role"] == "user"] == [QUESTION]

    # The rename and the pin were stored: a reload shows them.
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Deductible <basics>")
    await expect(nav.locator("#pinned-list")).to_contain_text("Deductible <basics>")

    # Delete asks first; Cancel keeps it, Delete conversation removes it for good.
    await page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete this conversation?")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("button", name="Delete", exact=True)).to_be_focused()
    await page.get_by_role("button", name="Delete", exact=True).click()
    await dialog.get_by_role("button", name="Delete conversation").click()
    await expect(page.get_by_role("status").filter(has_text="Conversation deleted.")).to_be_visible()
    await expect(nav).not_to_contain_text("Deductible")
    await expect(page.get_by_role("heading", level=1)).to_have_text("New conversation")
    await page.reload()
    await expect(page.get_by_text("No conversations yet.")).to_be_visible()


async def test_an_expired_conversation_is_explained_and_the_message_kept(visit: Visit, server: WebServer) -> None:
    page = await visit.page()
    await sign_up(page)
    cid = await ask_something(page)
    await set_expiry(server, cid, -1)

    await send(page, "And what is coinsurance?")
    await expect(page.get_by_role("status").filter(has_text="expired")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("still in the box")
    await expect(page.get_by_label("Message", exact=True)).to_have_value("And what is coinsurance?")
    await expect(conversations(page)).not_to_contain_text(QUESTION)
    await expect(transcript(page)).not_to_contain_text(QUESTION)

    # Send again: a new conversation starts with it.
    await page.get_by_role("button", name="Send", exact=True).click()
    await settled(page)
    assert await conversation_id(page) != cid
    await expect(transcript(page).locator("article.user")).to_have_text(re.compile("And what is coinsurance"))

