"""Reading an uploaded file: its type from the bytes, its text page by page, within fixed limits.

The client's file name and Content-Type are never trusted: a PDF starts with `%PDF-`, plain
text is UTF-8 without control bytes, anything else is refused by name ("a PNG image").
PDFs are read with pypdf under tighter limits than its defaults (decompressed bytes per
stream, decoding work, pages, characters kept), so a small file that inflates to gigabytes
is refused instead of filling memory. SSNs and card numbers are masked before the text
leaves this module. Pure functions; call them in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from typing import Any

from agents.guard import mask_sensitive

# pypdf logs every oddity of a malformed file as a warning: noise for uploads, which get a clear answer instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)

PDF = "application/pdf"
TEXT = "text/plain"

MAX_PAGES = 300
MAX_TEXT_CHARS = 400_000
# No letter or plan summary has a content stream near this; a decompression bomb hits it at once.
MAX_STREAM_BYTES = 16 * 1024 * 1024
MAX_DECODING_WORK = 64 * 1024 * 1024
MIN_TEXT_CHARS = 20
CHUNK_CHARS = 900
MAX_CHUNKS = 600

# Signatures of what people upload instead of a PDF, so the refusal can name it.
SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (4, b"ftypheic", "a HEIC photo"),
    (4, b"ftypmif1", "a HEIC photo"),
    (8, b"WEBP", "a WebP image"),
    (0, b"PK\x03\x04", "a ZIP archive or Word/Excel document"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word/Excel document"),
    (0, b"{\\rtf", "an RTF document"),
    (0, b"%!PS", "a PostScript file"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class UnreadableDocument(ValueError):
    """The upload cannot be used; `problem` names why and the message says what to do.

    problem: empty | unsupported_type | encrypted | no_text | corrupt | too_complex
    """

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class ReadDocument:
    media_type: str
    pages: list[str]  # masked text of each page read, in order
    page_count: int  # pages in the file (may exceed the pages read)
    truncated: bool  # the page or character cap was reached

    @property
    def text(self) -> str:
        return "\f".join(self.pages)


def sniff(data: bytes) -> str:
    """`application/pdf` or `text/plain` from the bytes; UnreadableDocument for anything else."""
    if not data:
        raise UnreadableDocument("empty", "The file is empty: choose the file again and upload it.")
    if b"%PDF-" in data[:1024]:
        return PDF
    for offset, signature, name in SIGNATURES:
        if data[offset:offset + len(signature)] == signature:
            raise UnreadableDocument("unsupported_type", f"The file is {name}, not a PDF or a text file: upload the "
                                     "letter as a PDF (most insurer websites offer one), or type the key facts "
                                     "into the conversation.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or _CONTROL.search(text[:65536]):
        raise UnreadableDocument("unsupported_type", "The file is neither a PDF nor plain text: upload the letter "
                                 "as a PDF or a UTF-8 text file.")
    return TEXT


def read_document(data: bytes) -> ReadDocument:
    """The file's type and masked text by page, or UnreadableDocument saying what to do instead."""
    media_type = sniff(data)
    if media_type == TEXT:
        return _read_text(data.decode("utf-8-sig"))
    return _read_pdf(data)


def _capped(pages: list[str]) -> tuple[list[str], bool]:
    kept, total = [], 0
    for page in pages:
        if total + len(page) > MAX_TEXT_CHARS:
            kept.append(page[: MAX_TEXT_CHARS - total])
            return kept, True
        kept.append(page)
        total += len(page)
    return kept, False


def _read_text(text: str) -> ReadDocument:
    pages = text.replace("\r\n", "\n").split("\f")  # a form feed is a page break in plain text
    count = len(pages)
    pages, truncated = _capped(pages[:MAX_PAGES])
    pages = [mask_sensitive(page) for page in pages]
    if sum(len(page.strip()) for page in pages) < MIN_TEXT_CHARS:
        raise UnreadableDocument("no_text", "The text file has almost no text: upload the full letter.")
    return ReadDocument(TEXT, pages, count, truncated or count > MAX_PAGES)


ENCRYPTED = ("The PDF is protected by a password, so it cannot be read: open it, save or print it as a new "
             "PDF without a password, and upload that copy.")
CORRUPT = ("The PDF is damaged or incomplete and cannot be read: download it again (or export a new copy from "
           "the insurer's website) and upload that.")
TOO_COMPLEX = ("The PDF inflates to far more data than a letter or plan document holds, so it was not read: "
               "export or print it again as a normal PDF and upload that.")
NO_TEXT = ("The PDF has no text layer (it looks like a scan or a photo), so it cannot be read: download the "
           "text version from your insurer's website, or type the key facts (dates, service, reason) into the "
           "conversation.")


def _read_pdf(data: bytes) -> ReadDocument:
    # Imported here: only uploads need pypdf.
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import FileNotDecryptedError, LimitReachedError

    limits: dict[str, Any] = {
        "zlib_maximum_output_length": MAX_STREAM_BYTES, "lzw_maximum_output_length": MAX_STREAM_BYTES,
        "run_length_maximum_output_length": MAX_STREAM_BYTES, "maximum_declared_stream_length": MAX_STREAM_BYTES,
        "array_based_stream_maximum_output_length": MAX_STREAM_BYTES, "image_maximum_buffer_size": MAX_STREAM_BYTES,
        "stream_decoding_work_maximum_length": MAX_DECODING_WORK}
    try:
        with apply_configuration(None, **limits):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not _opens_without_password(reader):
                raise UnreadableDocument("encrypted", ENCRYPTED)
            count = len(reader.pages)
            raw = []
            total = 0
            for index in range(min(count, MAX_PAGES)):
                text = reader.pages[index].extract_text() or ""
                raw.append(text)
                total += len(text)
                if total > MAX_TEXT_CHARS:
                    break
    except UnreadableDocument:
        raise
    except FileNotDecryptedError:
        raise UnreadableDocument("encrypted", ENCRYPTED) from None
    except LimitReachedError:
        raise UnreadableDocument("too_complex", TOO_COMPLEX) from None
    except MemoryError:
        raise UnreadableDocument("too_complex", TOO_COMPLEX) from None
    except RecursionError:
        raise UnreadableDocument("corrupt", CORRUPT) from None
    except Exception:  # malformed input makes pypdf raise almost anything
        raise UnreadableDocument("corrupt", CORRUPT) from None
    pages, truncated = _capped(raw)
    pages = [mask_sensitive(_tidy(page)) for page in pages]
    if sum(len(page.strip()) for page in pages) < MIN_TEXT_CHARS:
        raise UnreadableDocument("no_text", NO_TEXT)
    return ReadDocument(PDF, pages, count, truncated or count > len(pages))


def _opens_without_password(reader: object) -> bool:
    """Many insurer PDFs are encrypted with an empty user password (only printing or copying is
    restricted): those open like any other; a real password cannot be guessed here."""
    try:
        return bool(reader.decrypt(""))  # type: ignore[attr-defined]
    except Exception:  # an unsupported or broken security handler reads as locked
        return False


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(lines).strip()


def chunk_pages(pages: list[str], size: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """(page number, text) chunks of about `size` characters, split at paragraph, line or sentence
    ends and never across pages, so every passage cites the page it is on."""
    chunks: list[tuple[int, str]] = []
    for number, page in enumerate(pages, start=1):
        pieces = [p.strip() for p in re.split(r"\n\s*\n|\n", page) if p.strip()]
        current = ""
        for piece in _split_long(pieces, size):
            if current and len(current) + 1 + len(piece) > size:
                chunks.append((number, current))
                current = piece
            else:
                current = f"{current}\n{piece}" if current else piece
        if current:
            chunks.append((number, current))
        if len(chunks) >= MAX_CHUNKS:
            return chunks[:MAX_CHUNKS]
    return chunks


def _split_long(pieces: list[str], size: int) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        while len(piece) > size:
            cut = max(piece.rfind(". ", 0, size), piece.rfind(" ", 0, size))
            cut = cut + 1 if cut > size // 3 else size
            out.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        if piece:
            out.append(piece)
    return out
