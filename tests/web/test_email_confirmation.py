"""Creating an account when the service confirms by email: the page says a link was sent, the
link (opened in the browser) creates the account, and a spent link says so."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from tests.utils.mail import RecordingSender
from tests.web.conftest import WebServer, visiting, web_server
from tests.web.people import PASSWORD, fill_credentials, new_email, sign_in


@pytest.fixture(scope="module")
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture(scope="module")
async def mail_server(admin_dsn: str, sender: RecordingSender) -> AsyncIterator[WebServer]:
    async with web_server(admin_dsn, confirmation_sender=sender, public_url="https://navigator.example.org") as running:
        yield running


async def test_the_emailed_link_creates_the_account(browser: Browser, mail_server: WebServer,
                                                    sender: RecordingSender) -> None:
    email = new_email()
    async with visiting(browser, mail_server.base) as visit:
        page = await visit.page()
        await fill_credentials(page, email, PASSWORD)
        await page.get_by_role("button", name="Create account", exact=True).click()
        await expect(page.get_by_role("status").filter(has_text="We sent a link")).to_have_text(
            f"We sent a link to {email}. Open it to finish creating your account, then sign in here.")
        await expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_hidden()
        token = sender.token_for(email)
        assert sender.to(email)[0].body.count("https://navigator.example.org/#/confirm/") == 1

        link = await visit.page(f"/#/confirm/{token}")
        await expect(link.get_by_role("status").filter(has_text="confirmed")).to_have_text(
            "Your email is confirmed and your account is ready. Sign in with your password.")
        await expect(link.get_by_label("Email", exact=True)).to_have_value(email)
        assert token not in link.url
        await sign_in(link, email)

    async with visiting(browser, mail_server.base) as visit:
        again = await visit.page(f"/#/confirm/{token}")
        await expect(again.get_by_role("alert")).to_have_text(
            "This confirmation link is invalid, used or expired; register again, or sign in if you already "
            "confirmed.")
