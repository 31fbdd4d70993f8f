"""Errors a person can act on: a wrong password, too many attempts (with the wait), the
service unavailable (the client retries and says so), a session ended elsewhere; and
the API docs, which render with no request to any other host."""

from __future__ import annotations

import re

from playwright.async_api import Route, expect

from tests.web.conftest import Visit
from tests.web.people import PASSWORD, api_account, conversations, fill_credentials, new_email, sign_in, sign_up


async def test_wrong_password_then_too_many_attempts_with_the_wait(visit: Visit) -> None:
    page = await visit.page()
    email = await sign_up(page)
    await page.get_by_role("button", name="Sign out", exact=True).click()
    for _ in range(5):  # five attempts per account and address, then one a minute
        await fill_credentials(page, email, "not the password")
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")
        await expect(page.get_by_label("Password", exact=True)).to_be_focused()
        await page.get_by_role("alert").evaluate("node => node.textContent = ''")
    await fill_credentials(page, email, PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^Too many sign-in attempts\. Try again in (1 minute|[1-5]?[0-9] seconds)\.$"))


async def test_creating_an_account_that_exists_or_with_a_short_password(visit: Visit) -> None:
    email, _ = await api_account(visit.base)
    page = await visit.page()
    await fill_credentials(page, new_email(), "short")
    await page.get_by_role("button", name="Create account", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text("Use a password of at least 8 characters.")
    # Registering never says an address is taken (that would tell anyone who has an account):
    # the sign-in that follows fails, and the page says what to do.
    await fill_credentials(page, email, "another long password")
    await page.get_by_role("button", name="Create account", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text(
        "No account was created with this email and password. If the address already has an account, "
        "press Sign in with its password.")
    # Its owner pressing the wrong button with the right password is simply signed in.
    await fill_credentials(page, email, PASSWORD)
    await page.get_by_role("button", name="Create account", exact=True).click()
    await expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()


async def test_the_service_unavailable_is_retried_and_said(visit: Visit) -> None:
    visit.allow_status(503)
    page = await visit.page()
    await sign_up(page)
    answered = 0

    async def unavailable_twice(route: Route) -> None:
        nonlocal answered
        if answered < 2:
            answered += 1
            await route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                                body='{"detail": "database unavailable, retry later"}')
        else:
            await route.continue_()

    # The browser side of a proxy: the API answers 503 twice, then is back.
    await page.route(re.compile(r"/conversations\?pinned=true"), unavailable_twice)
    await page.reload()
    status = page.get_by_text("The service is unavailable right now. Retrying in 1 second…")
    await expect(status).to_be_visible()
    await expect(status).to_be_hidden()
    await expect(conversations(page)).to_be_visible()
    assert answered == 2


async def test_a_session_ended_in_another_tab_asks_to_sign_in_again(visit: Visit) -> None:
    first = await visit.page()
    email = await sign_up(first)
    second = await visit.page()
    await expect(conversations(second)).to_be_visible()  # the same session, from the cookie
    await first.get_by_role("button", name="Sign out", exact=True).click()
    await expect(first.get_by_role("button", name="Sign in", exact=True)).to_be_visible()

    await second.get_by_role("button", name="New conversation").click()
    await second.get_by_label("Message", exact=True).fill("What is a copay?")
    await second.get_by_role("button", name="Send", exact=True).click()
    await expect(second.get_by_role("alert")).to_have_text("Your session has ended. Sign in again.")
    await sign_in(second, email)


async def test_api_docs_render_offline(visit: Visit) -> None:
    swagger = await visit.page("/docs")
    await expect(swagger.get_by_role("heading", name=re.compile("Insurance Navigator"))).to_be_visible()
    await expect(swagger.get_by_text("/conversations/{conversation_id}").first).to_be_visible()
    await expect(swagger.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    redoc = await visit.page("/redoc")
    await expect(redoc.get_by_role("heading", name=re.compile(r"Insurance Navigator \(0\.\d"))).to_be_visible()
    await expect(redoc.get_by_role("heading", name="Update Conversation")).to_be_attached()
