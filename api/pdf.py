"""A small PDF writer for drafted letters: US Letter pages, the standard Helvetica font in
WinAnsi encoding (no font to embed), word-wrapped lines, page breaks and page numbers.

Hand-written rather than a dependency: the house reads PDFs with pypdf and keeps PDF writers
to development; a letter of text needs only this much of the format. Text outside WinAnsi
(Windows-1252) becomes '?', as a PDF standard font cannot show it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

PAGE_WIDTH = 612  # US Letter, in points
PAGE_HEIGHT = 792
MARGIN = 72
FONT_SIZE = 11.0
LEADING = 15.0
FOOTER_SIZE = 8.0
LINES_PER_PAGE = int((PAGE_HEIGHT - 2 * MARGIN) // LEADING)

# Advance widths of Helvetica (Adobe's AFM, 1/1000 em) for printable ASCII in WinAnsi order;
# any other WinAnsi character is counted at DEFAULT_WIDTH (at least as wide as most of them).
_ASCII_WIDTHS = (
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 "  # space ! " # $ % & ' ( ) * + , - . /
    "556 556 556 556 556 556 556 556 556 556 278 278 584 584 584 556 "  # 0-9 : ; < = > ?
    "1015 667 667 722 722 667 611 778 722 278 500 667 556 833 722 778 "  # @ A-O
    "667 778 722 667 611 722 667 944 667 667 611 278 278 278 469 556 "  # P-Z [ \\ ] ^ _
    "333 556 556 500 556 556 278 556 556 222 222 500 222 833 556 556 "  # ` a-o
    "556 556 333 500 278 556 500 722 500 500 500 334 260 334 584"  # p-z { | } ~
)
HELVETICA_WIDTHS = {chr(32 + i): int(width) for i, width in enumerate(_ASCII_WIDTHS.split())}
DEFAULT_WIDTH = 667


def winansi(text: str) -> str:
    """The text as the standard font can show it (WinAnsi); anything else becomes '?'."""
    text = text.replace("\t", "    ")
    return text.encode("cp1252", errors="replace").decode("cp1252")


def text_width(text: str, size: float = FONT_SIZE) -> float:
    return sum(HELVETICA_WIDTHS.get(ch, DEFAULT_WIDTH) for ch in text) * size / 1000


def wrap(line: str, width: float, size: float = FONT_SIZE) -> list[str]:
    """Words onto lines no wider than `width` points; a word longer than a line is cut."""
    words = line.split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while text_width(word, size) > width:
            cut = len(word)
            while cut > 1 and text_width(word[:cut], size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    lines.append(current)
    return lines


def layout(text: str) -> list[list[str]]:
    """The text's lines (each source line wrapped; blank lines kept), cut into pages."""
    lines: list[str] = []
    for source in winansi(text).splitlines():
        lines += wrap(source.rstrip(), PAGE_WIDTH - 2 * MARGIN) if source.strip() else [""]
    while lines and not lines[-1]:
        lines.pop()
    pages: list[list[str]] = []
    for start in range(0, max(len(lines), 1), LINES_PER_PAGE):
        page = lines[start:start + LINES_PER_PAGE]
        while page and not page[0] and pages:  # a page does not start with blank lines
            page.pop(0)
        pages.append(page)
    return pages


def _literal(text: str) -> bytes:
    """A PDF literal string of WinAnsi text."""
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"") + b")"


def _utf16(text: str) -> bytes:
    """A PDF text string for metadata (any Unicode)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _page_stream(lines: list[str], number: int, total: int) -> bytes:
    parts = [b"BT", f"/F1 {FONT_SIZE:g} Tf {LEADING:g} TL {MARGIN} {PAGE_HEIGHT - MARGIN - FONT_SIZE:g} Td".encode()]
    for i, line in enumerate(lines):
        if i:
            parts.append(b"T*")
        if line:
            parts.append(_literal(line) + b" Tj")
    parts.append(b"ET")
    footer = f"Page {number} of {total}"
    x = PAGE_WIDTH - MARGIN - text_width(footer, FOOTER_SIZE)
    parts.append(f"BT /F1 {FOOTER_SIZE:g} Tf {x:.2f} {MARGIN / 2:g} Td ".encode() + _literal(footer) + b" Tj ET")
    return b"\n".join(parts)


@dataclass
class _Objects:
    bodies: list[bytes]

    def add(self, body: bytes) -> int:
        self.bodies.append(body)
        return len(self.bodies)


def render_pdf(text: str, *, title: str = "Letter") -> bytes:
    """A PDF of the text: one object per page and content stream, Helvetica 11 pt, page numbers."""
    pages = layout(text)
    objects = _Objects([])
    catalog = objects.add(b"")  # filled in once the page tree's number is known
    tree = objects.add(b"")
    font = objects.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    info = objects.add(b"<< /Title " + _utf16(title) + b" /Producer (Insurance Navigator) >>")
    kids = []
    for number, lines in enumerate(pages, start=1):
        stream = zlib.compress(_page_stream(lines, number, len(pages)))
        contents = objects.add(f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream
                               + b"\nendstream")
        kids.append(objects.add(
            f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {contents} 0 R >>".encode()))
    objects.bodies[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode()
    objects.bodies[tree - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                                f"/Count {len(kids)} >>").encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects.bodies, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (f"trailer\n<< /Size {len(offsets) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)
