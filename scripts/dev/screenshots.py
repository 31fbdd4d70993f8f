"""Screenshots of the web client for the README: the sign-in page, a finished
conversation, the mobile view (375 px) and a conversation answered from an attached
denial letter, written to docs/screenshots/.

It starts `navigator serve` on a free port with a throwaway embedded PostgreSQL
(nothing of yours is touched), signs up a demo account in Debian's chromium,
asks an appeal question, answers the workflow's question, attaches a generated
denial letter to a new conversation, asks how to appeal, and photographs.

    .venv/bin/python scripts/dev/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a file: tests.web.browser is the shared launcher

from playwright.async_api import Page, async_playwright, expect  # noqa: E402

from agents.dates import fmt  # noqa: E402
from scripts.dev.serving import navigator_serve  # noqa: E402
from tests.utils.pdfs import Letter, denial_letter_pdf  # noqa: E402
from tests.web.browser import launch  # noqa: E402

PASSWORD = "a demo passphrase 1"
APPEAL = "My MRI claim was denied, what now?"
ANSWER = "The letter came on March 3; it is an employer plan."


async def converse(page: Page) -> None:
    await page.get_by_label("Message", exact=True).fill(APPEAL)
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_role("log").locator("article.question")).to_be_visible()
    await page.get_by_label("Message", exact=True).fill(ANSWER)
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    await expect(page.get_by_role("log").locator("article.assistant:not(.question)")).to_be_visible()


async def show_last_answer(page: Page) -> None:
    """The answer from its start: the steps and the deadlines."""
    await page.get_by_role("log").locator("article.assistant").last.evaluate(
        "node => node.closest('[role=log]').scrollTop = node.offsetTop - 8")


async def ask_about_a_letter(page: Page) -> None:
    await page.get_by_role("button", name="New conversation", exact=True).click()
    await page.get_by_role("button", name="Attach a document", exact=True).click()
    await page.get_by_label("File (PDF or text)", exact=True).set_input_files(
        {"name": "denial-letter.pdf", "mimeType": "application/pdf",
         "buffer": denial_letter_pdf(Letter(letter_date=fmt(date.today() - timedelta(days=12))))})
    await page.get_by_label("What it is", exact=True).select_option("denial_letter")
    await page.get_by_role("button", name="Upload", exact=True).click()
    await expect(page.get_by_role("list", name="Documents in this conversation")).to_be_visible()
    await page.get_by_label("Message", exact=True).fill("How do I appeal?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    await expect(page.get_by_role("log").locator("article.assistant")).to_be_visible()


async def photograph(base: str, out: Path) -> None:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        desktop = await browser.new_context(viewport={"width": 1280, "height": 860})
        page = await desktop.new_page()
        await page.goto(base + "/")
        await page.get_by_label("Email", exact=True).fill(f"demo-{uuid.uuid4().hex[:6]}@example.com")
        await page.get_by_label("Password", exact=True).fill(PASSWORD)
        await page.screenshot(path=out / "sign-in.png")
        await page.get_by_role("button", name="Create account", exact=True).click()
        await converse(page)
        await show_last_answer(page)
        await page.screenshot(path=out / "conversation.png")

        mobile = await browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                           storage_state=await desktop.storage_state())
        phone = await mobile.new_page()
        await phone.goto(page.url)
        await expect(phone.get_by_role("log").locator("article.assistant:not(.question)")).to_be_visible()
        await show_last_answer(phone)
        await phone.screenshot(path=out / "mobile.png")

        await ask_about_a_letter(page)
        await show_last_answer(page)
        await page.screenshot(path=out / "documents.png")
        await browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # Nothing of yours: never DATABASE_URL or your model settings, always a throwaway embedded database.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "JWT_", "LLM_", "OPENAI_"))}
    env["OFFLINE_MODEL_LATENCY_MS"] = "0"
    with navigator_serve(env, prefix="navigator-screenshots-") as base:
        asyncio.run(photograph(base, args.out))
    for name in ("sign-in.png", "conversation.png", "mobile.png", "documents.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
