"""The letter's PDF writer, read back with pypdf in strict mode: text, wrapping inside the margins,
page breaks with numbers, characters PDF syntax reserves, and what the standard font cannot show."""

from __future__ import annotations

import io

from pypdf import PdfReader

from api.pdf import LINES_PER_PAGE, MARGIN, PAGE_WIDTH, layout, render_pdf, text_width


def read(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data), strict=True)


def test_text_comes_back_with_reserved_characters_and_winansi() -> None:
    text = "Re: appeal (claim #12) \\ 50% — “necessary” café € naïve\n\nSecond paragraph."
    reader = read(render_pdf(text, title="Appeal — café"))
    assert reader.metadata is not None and reader.metadata.title == "Appeal — café"
    page = reader.pages[0].extract_text()
    assert "Re: appeal (claim #12) \\ 50% — “necessary” café € naïve" in page
    assert "Second paragraph." in page and "Page 1 of 1" in page


def test_outside_winansi_becomes_a_question_mark() -> None:
    assert "Name: ??" in read(render_pdf("Name: 漢字")).pages[0].extract_text()


def test_long_text_wraps_inside_the_margins_and_breaks_pages() -> None:
    words = " ".join(f"word{i}" for i in range(2500)) + " " + "x" * 300
    pages = layout(words)
    usable = PAGE_WIDTH - 2 * MARGIN
    assert all(text_width(line) <= usable for page in pages for line in page)
    assert all(len(page) <= LINES_PER_PAGE for page in pages) and len(pages) >= 3
    reader = read(render_pdf(words))
    assert len(reader.pages) == len(pages)
    assert f"Page {len(pages)} of {len(pages)}" in reader.pages[-1].extract_text()
    read_back = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for i in (0, 1234, 2499):
        assert f"word{i}" in read_back


def test_empty_text_is_one_blank_page() -> None:
    assert len(read(render_pdf("")).pages) == 1
