"""What a person does in the web client, step by step, by accessible names only."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Locator, Page, expect

PASSWORD = "a long passphrase 42"
APPEAL = "My MRI claim was denied, what now?"
APPEAL_ANSWER = "The letter came on March 3; it is an employer plan."


def new_email() -> str:
    return f"web-{uuid.uuid4().hex[:10]}@example.com"


def transcript(page: Page) -> Locator:
    return page.get_by_role("log")


def conversations(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Conversations")


async def fill_credentials(page: Page, email: str, password: str) -> None:
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(password)


async def sign_up(page: Page, email: str | None = None, password: str = PASSWORD) -> str:
    email = email or new_email()
    await fill_credentials(page, email, password)
    await page.get_by_role("button", name="Create account", exact=True).click()
    await expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    return email


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await fill_credentials(page, email, password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()


async def send(page: Page, text: str) -> None:
    await page.get_by_label("Message", exact=True).fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()


async def settled(page: Page) -> None:
    """The run in flight has finished (Send is enabled again and no message is pending)."""
    await expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    await expect(transcript(page).locator(".pending")).to_have_count(0)


async def api_account(base: str, email: str | None = None) -> tuple[str, dict[str, str]]:
    """An account made through the HTTP API (faster than the page when a test needs a second person)."""
    email = email or new_email()
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        assert (await http.post("/auth/register", json={"email": email, "password": PASSWORD})).status_code == 202
        tokens = (await http.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
    return email, {"Authorization": f"Bearer {tokens['access_token']}"}
