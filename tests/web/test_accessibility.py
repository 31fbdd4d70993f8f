"""Accessibility: axe-core finds no serious or critical violation on the sign-in page and
the chat page; a person can do everything with the keyboard alone; at 375 px wide
nothing scrolls sideways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from tests.web.browser import MissingTool, axe_script_path
from tests.web.conftest import Visit
from tests.web.people import APPEAL, APPEAL_ANSWER, conversations, new_email, send, settled, sign_up, transcript

BLOCKING = ("serious", "critical")


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.x A/AA and best practices on the page as it is now."""
    try:
        source = axe_script_path().read_text(encoding="utf-8")
    except MissingTool as exc:
        raise AssertionError(str(exc)) from None
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(source)
    result = await page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}, resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]]


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in BLOCKING]


async def test_axe_finds_nothing_serious_on_the_sign_in_and_chat_pages(visit: Visit) -> None:
    page = await visit.page()
    await expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    signin = await axe_violations(page)
    assert not blocking(signin), signin

    await sign_up(page)
    await send(page, APPEAL)
    await expect(transcript(page).locator("article.question")).to_be_visible()
    await send(page, APPEAL_ANSWER)
    await settled(page)
    await send(page, "I want to kill myself")
    await expect(transcript(page).locator("article.urgent")).to_be_visible()
    await settled(page)
    chat = await axe_violations(page)
    assert not blocking(chat), chat
    print(f"axe: sign-in page {len(signin)} violations {signin}; chat page {len(chat)} violations {chat}")


async def test_keyboard_only(visit: Visit) -> None:
    page = await visit.page()
    keys = page.keyboard
    await expect(page.get_by_label("Email", exact=True)).to_be_focused()
    await keys.type(new_email())
    await keys.press("Tab")
    await keys.type("a long passphrase 42")
    await keys.press("Tab")  # Sign in
    await keys.press("Tab")  # Create account
    await expect(page.get_by_role("button", name="Create account", exact=True)).to_be_focused()
    await keys.press("Enter")
    await expect(page.get_by_label("Message", exact=True)).to_be_focused()

    await keys.type("What is a deductible?")
    await keys.press("Shift+Enter")
    await keys.type("And a copay?")
    await expect(page.get_by_label("Message", exact=True)).to_have_value("What is a deductible?\nAnd a copay?")
    await keys.press("Enter")
    await settled(page)
    await expect(transcript(page).locator("article.user")).to_contain_text("And a copay?")

    # Start a new conversation and come back to the first from the list, by keyboard.
    await page.get_by_role("button", name="New conversation").focus()
    await keys.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("New conversation")
    await page.get_by_role("button", name="New conversation").focus()
    await keys.press("Tab")
    await expect(conversations(page).get_by_role("link").first).to_be_focused()
    await keys.press("Enter")
    await expect(transcript(page).locator("article.user")).to_contain_text("What is a deductible?")

    # The delete dialog opens on Cancel, and Escape closes it.
    await page.get_by_role("button", name="Delete", exact=True).focus()
    await keys.press("Enter")
    await expect(page.get_by_role("dialog").get_by_role("button", name="Cancel")).to_be_focused()
    await keys.press("Escape")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await expect(page.get_by_role("button", name="Delete", exact=True)).to_be_focused()


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px window"


async def test_usable_at_375_px(visit: Visit, tmp_path: Path) -> None:
    page = await visit.page(width=375)
    await no_sideways_scroll(page)
    await sign_up(page)
    await send(page, APPEAL)
    await expect(transcript(page).locator("article.question")).to_be_visible()
    await send(page, APPEAL_ANSWER)
    await settled(page)
    await no_sideways_scroll(page)
    shot = await page.screenshot(path=tmp_path / "mobile.png", full_page=True)
    assert shot[16:24] and int.from_bytes(shot[16:20], "big") == 375  # the PNG is as wide as the viewport

    # The conversation list opens from the top bar and closes when one is chosen.
    toggle = page.get_by_role("button", name="Your conversations")
    await expect(conversations(page)).to_be_hidden()
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(conversations(page)).to_be_visible()
    await no_sideways_scroll(page)
    await conversations(page).get_by_role("link").first.click()
    await expect(conversations(page)).to_be_hidden()
