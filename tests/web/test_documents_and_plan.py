"""Documents and "Your plan" in the web client: a denial letter uploaded into a new conversation
is listed with its key facts and answers "how do I appeal?" with the letter's deadline and no
question back; files that cannot be used say what to do (too large with the limit, before
anything is sent; not a PDF; a PDF behind a password); the profile's plan type is used in the
next answer; all of it by keyboard and at 375 px, with axe finding nothing serious."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from tests.utils import pdfs
from tests.web.conftest import Visit
from tests.web.people import APPEAL, send, settled, sign_up, transcript
from tests.web.test_accessibility import axe_violations, blocking, no_sideways_scroll

LETTER = "denial-letter.pdf"
MIB = 1024 * 1024


def documents(page: Page) -> Locator:
    return page.get_by_role("list", name="Documents in this conversation")


async def attach(page: Page, name: str, data: bytes, kind: str | None = None,
                 mime: str = "application/pdf") -> None:
    """Choose a file (and what it is) in the message box's document panel and press Upload."""
    chooser = page.get_by_label("File (PDF or text)", exact=True)
    if not await chooser.is_visible():
        await page.get_by_role("button", name=re.compile(r"^Attach (a|another) document$")).click()
    await chooser.set_input_files({"name": name, "mimeType": mime, "buffer": data})
    if kind:
        await page.get_by_label("What it is", exact=True).select_option(kind)
    await page.get_by_role("button", name="Upload", exact=True).click()


async def test_a_denial_letter_in_a_new_conversation_answers_how_to_appeal(visit: Visit) -> None:
    page = await visit.page()
    await sign_up(page)
    await attach(page, LETTER, pdfs.denial_letter_pdf(), kind="denial_letter")
    listed = documents(page).get_by_role("listitem")
    await expect(listed).to_have_count(1)
    await expect(listed).to_contain_text(f"Denial letter: {LETTER}")
    await expect(listed).to_contain_text("MRI of the lumbar spine · dated March 3, 2026 · appeal by August 30, 2026")
    await expect(page.get_by_label("Message", exact=True)).to_be_focused()  # ready for the question
    await expect(page).to_have_url(re.compile(r"#/c/[0-9a-f-]{36}$"))  # the conversation made for it

    await send(page, "how do I appeal?")
    await settled(page)
    log = transcript(page)
    await expect(log.locator("article.question")).to_have_count(0)  # the letter said what a question would ask
    answer = log.locator("article.assistant").last
    await expect(answer).to_contain_text("Your internal appeal deadline is August 30, 2026: 180 days from "
                                         "March 3, 2026, when the denial arrived, as your denial letter states on "
                                         "page 2")
    await expect(answer).to_contain_text("Your denial letter (page 1): MRI of the lumbar spine denied")
    found = await axe_violations(page)
    assert not blocking(found), found

    # Listed from the server after a reload; deleted for good after a confirmation.
    await page.reload()
    await expect(listed).to_have_count(1)
    await documents(page).get_by_role("button", name=f"Delete {LETTER}", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete this document?")
    await expect(dialog).to_contain_text("in every conversation it is attached to")
    await dialog.get_by_role("button", name="Delete document", exact=True).click()
    await expect(documents(page)).to_be_hidden()
    await expect(page.get_by_role("status").filter(has_text=f"Deleted {LETTER}.")).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("button", name="Attach a document", exact=True)).to_be_visible()
    await expect(documents(page)).to_be_hidden()


async def test_files_that_cannot_be_used_say_what_to_do(visit: Visit) -> None:
    visit.allow_status(415)  # the refusals this test provokes are not console errors
    visit.allow_status(422)
    page = await visit.page()
    await sign_up(page)
    error = page.get_by_role("alert").filter(has_text="cannot be used")

    # Over DOCUMENT_MAX_BYTES (10 MB): said with the limit, and never sent.
    await attach(page, "whole-file.pdf", pdfs.padded_pdf(11 * MIB))
    await expect(page.get_by_role("alert").filter(has_text="whole-file.pdf is 11 MB, larger than the 10 MB limit"))\
        .to_be_visible()

    # A photo saved with a .pdf name (415) and a PDF behind a password (422): the server's reason, as text.
    await attach(page, "scan.pdf", pdfs.png_bytes())
    await expect(error).to_contain_text("scan.pdf cannot be used. The file is a PNG image, not a PDF or a text file: "
                                        "upload the letter as a PDF")
    await attach(page, "locked.pdf", pdfs.encrypted_pdf())
    await expect(error).to_contain_text("locked.pdf cannot be used. The PDF is protected by a password")
    await expect(page.get_by_label("File (PDF or text)", exact=True)).to_be_focused()  # choose another file
    await expect(documents(page)).to_be_hidden()
    uploads = [r for record in visit.records for r in record.requests
               if r.method == "POST" and r.url.endswith("/documents")]
    assert len(uploads) == 2, [r.url for r in uploads]  # the file over the limit never left the page


async def test_your_plan_is_used_in_the_next_answer(visit: Visit) -> None:
    page = await visit.page()
    await sign_up(page)
    toggle = page.get_by_role("button", name="Your plan", exact=True)
    await toggle.click()
    panel = page.get_by_role("region", name="Your plan")
    await expect(page.get_by_label("Plan type", exact=True)).to_be_focused()
    await page.get_by_label("Plan type", exact=True).select_option("employer")
    await page.get_by_label("State", exact=True).select_option("OH")
    await page.get_by_label("Insurer", exact=True).fill("Acme Health")
    await page.get_by_role("button", name="Save plan", exact=True).click()
    await expect(panel.get_by_role("status")).to_contain_text("Saved.")
    found = await axe_violations(page)
    assert not blocking(found), found
    await page.get_by_role("button", name="Close", exact=True).click()
    await expect(panel).to_be_hidden()
    await expect(toggle).to_be_focused()

    # Without a plan this question is answered with a question; with one, the answer says which plan it used.
    await send(page, APPEAL)
    await settled(page)
    log = transcript(page)
    await expect(log.locator("article.question")).to_have_count(0)
    await expect(log.locator("article.assistant").last).to_contain_text(
        "On your employer plan with Acme Health in Ohio (from your profile).")

    await page.reload()
    await page.get_by_role("button", name="Your plan", exact=True).click()
    await expect(page.get_by_label("Plan type", exact=True)).to_have_value("employer")
    await expect(page.get_by_label("State", exact=True)).to_have_value("OH")


async def test_documents_and_your_plan_by_keyboard_at_375_px(visit: Visit) -> None:
    page = await visit.page(width=375)
    await sign_up(page)
    await expect(page.get_by_label("Message", exact=True)).to_be_focused()  # the page has settled after sign-in
    keys = page.keyboard

    plan = page.get_by_role("button", name="Your plan", exact=True)
    await plan.focus()
    await keys.press("Enter")
    await expect(page.get_by_label("Plan type", exact=True)).to_be_focused()
    await no_sideways_scroll(page)
    await page.get_by_label("Plan type", exact=True).select_option("marketplace")
    await page.get_by_role("button", name="Save plan", exact=True).focus()
    await keys.press("Enter")
    await expect(page.get_by_role("region", name="Your plan").get_by_role("status")).to_contain_text("Saved.")
    await keys.press("Escape")
    await expect(plan).to_be_focused()
    await expect(plan).to_have_attribute("aria-expanded", "false")

    attach_button = page.get_by_role("button", name="Attach a document", exact=True)
    await attach_button.focus()
    await keys.press("Enter")
    await expect(page.get_by_label("File (PDF or text)", exact=True)).to_be_focused()
    await expect(page.get_by_text("A PDF or text file up to 10 MB")).to_be_visible()
    await no_sideways_scroll(page)
    await keys.press("Escape")
    await expect(attach_button).to_be_focused()

    await attach(page, LETTER, pdfs.denial_letter_pdf())  # what it is, read from the letter
    await expect(documents(page).get_by_role("listitem")).to_contain_text(f"Denial letter: {LETTER}")
    await no_sideways_scroll(page)
