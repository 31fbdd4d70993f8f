"""A person in a real browser: signs up, asks an appeal question, answers the workflow's
question, sees the answer with its deadline, reloads, signs out and back in; another
person does not see it; messages are text, never HTML; an urgent message shows 911/988
prominently. Every test also checks that no request left the host and that the page
logged no console error (tests/web/conftest.py)."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from tests.web.conftest import Visit, WebServer
from tests.web.people import (
    APPEAL,
    APPEAL_ANSWER,
    api_account,
    conversations,
    send,
    settled,
    sign_in,
    sign_up,
    transcript,
)

# A fact of US law for employer plans (29 CFR 2560.503-1), not a wording of the agents.
INTERNAL_APPEAL_DEADLINE = re.compile(r"180 days")


async def test_sign_up_ask_answer_the_question_reload_and_come_back(visit: Visit) -> None:
    page = await visit.page()
    await expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    email = await sign_up(page)

    await send(page, APPEAL)
    question = transcript(page).locator("article.question")
    await expect(question).to_have_count(1)
    progress = page.get_by_role("status").filter(has_text="Checking safety")
    await expect(progress).to_contain_text("Understanding your question")
    await expect(page.get_by_label("Message", exact=True)).to_be_focused()

    # The same box answers the question.
    await page.get_by_label("Message", exact=True).fill(APPEAL_ANSWER)
    await page.get_by_label("Message", exact=True).press("Enter")
    await settled(page)
    log = transcript(page)
    await expect(log).to_contain_text(INTERNAL_APPEAL_DEADLINE)
    await expect(page.get_by_role("status").filter(has_text="Writing the answer")).to_contain_text(
        "Planning your next steps")
    answer = log.locator("article.assistant").last
    await expect(answer.locator("ol > li").first).to_be_visible()  # the steps, as a list
    sources = answer.get_by_role("link").filter(has_text=re.compile(r"^https://"))
    assert await sources.count() >= 1
    assert await sources.first.get_attribute("rel") == "noopener noreferrer"

    # Reload: still signed in, the same conversation with the question and the answer once each.
    await page.reload()
    await expect(transcript(page)).to_contain_text(INTERNAL_APPEAL_DEADLINE)
    await expect(transcript(page).locator("article.question")).to_have_count(1)
    await expect(transcript(page).locator("article.assistant:not(.question)")).to_have_count(1)
    await expect(conversations(page).get_by_role("link", name=re.compile("MRI claim"))).to_be_visible()
    await expect(conversations(page)).to_contain_text("Expires in")

    # Sign out: the refresh cookie is gone, so a reload stays signed out.
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert not [c for c in await visit.context.cookies() if "refresh" in c["name"]]
    await page.reload()
    await expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    await expect(page.get_by_role("log")).to_be_hidden()

    # Back in: the conversation is listed and opens with its answer.
    await sign_in(page, email)
    await conversations(page).get_by_role("link", name=re.compile("MRI claim")).click()
    await expect(transcript(page)).to_contain_text(INTERNAL_APPEAL_DEADLINE)


async def test_the_refresh_token_is_an_httponly_cookie_for_the_refresh_path_only(visit: Visit) -> None:
    page = await visit.page()
    await sign_up(page)
    cookies = await visit.context.cookies()
    assert len(cookies) == 1
    cookie = cookies[0]
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (
        True, True, "Strict", "/auth/refresh")
    assert await page.evaluate("document.cookie") == ""
    # Nothing of the session is kept where scripts can read it.
    stored = await page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert cookie["value"] not in stored and "access" not in stored.lower()


async def test_another_person_sees_nothing_of_the_conversation(visit: Visit, server: WebServer) -> None:
    _, alice = await api_account(server.base)
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        chat = (await http.post("/chat", json={"message": "My knee surgery claim was denied"}, headers=alice)).json()
    page = await visit.page()
    await sign_up(page)
    await expect(page.get_by_text("No conversations yet.")).to_be_visible()
    await page.goto(f"{server.base}/#/c/{chat['conversation_id']}")
    await expect(page.get_by_role("status").filter(has_text="no longer available")).to_be_visible()
    await expect(transcript(page)).not_to_contain_text("knee")
    await expect(conversations(page)).not_to_contain_text("knee")


async def test_messages_are_text_never_html(visit: Visit) -> None:
    page = await visit.page()
    await sign_up(page)
    payload = '<img src=x onerror="window.__injected = 1"> <script>window.__injected = 2</script> <b>bold</b>'
    await send(page, payload)
    await settled(page)
    log = transcript(page)
    await expect(log.locator("article.user")).to_contain_text(payload)
    assert await log.locator("img, script, b").count() == 0
    # The title (the message's first 80 characters) is text too, in the heading and the list.
    await expect(page.get_by_role("heading", level=1)).to_contain_text('<img src=x onerror="window.__injected')
    await expect(conversations(page)).to_contain_text("<script>")
    assert await page.evaluate("window.__injected") is None


async def test_an_urgent_message_shows_911_and_988_prominently(visit: Visit) -> None:
    page = await visit.page()
    await sign_up(page)
    await send(page, "I want to kill myself")
    urgent = transcript(page).locator("article.urgent")
    await expect(urgent.get_by_text("Urgent: get help now")).to_be_visible()
    call = urgent.get_by_role("link", name="Call or text 988")
    await expect(call).to_be_visible()
    assert await call.get_attribute("href") == "tel:988"
