"""From an upload to a stored document: type from the bytes, text, facts, chunks, then storage.

Reading a PDF is CPU work in a thread, at most `READ_SLOTS` at once per process, so a burst
of uploads cannot hold more than a few files' worth of decoding in memory. The same file
again (for the same user) is not read twice: the stored document is returned, attached to
the conversation. Nothing is stored for a file that cannot be read.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
import uuid

from langchain_core.language_models import BaseChatModel

from agents.document_reader import chunk_pages, read_document, sniff
from agents.documents import read_document_facts
from agents.guard import mask_sensitive
from db.documents import Document, DocumentService, NewDocument

READ_SLOTS = 2
MAX_FILENAME_CHARS = 255
DEFAULT_NAMES = {"application/pdf": "document.pdf", "text/plain": "document.txt"}


def clean_filename(name: str | None, media_type: str) -> str:
    """The client's file name as a label only: no path, no control characters, masked, bounded."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    base = mask_sensitive(base)[:MAX_FILENAME_CHARS].strip()
    return base or DEFAULT_NAMES[media_type]


class DocumentIntake:
    """Reads and stores uploads; `model` (when the OpenAI-compatible provider is configured) reads the facts."""

    def __init__(self, documents: DocumentService, model: BaseChatModel | None = None,
                 read_slots: int = READ_SLOTS) -> None:
        self.documents = documents
        self.model = model
        self._slots = asyncio.Semaphore(read_slots)

    async def receive(self, user_id: uuid.UUID, data: bytes, filename: str | None, kind: str | None,
                      conversation_id: uuid.UUID | None) -> tuple[Document, bool]:
        """(document, created). UnreadableDocument (a 4xx) before anything is stored when the file cannot be used."""
        media_type = sniff(data)
        same = await self.documents.find_same(user_id, data)
        if same is not None:
            return await self.documents.attach(same, user_id, conversation_id), False
        async with self._slots:
            read = await asyncio.to_thread(read_document, data)
        facts = await read_document_facts(self.model, read.text, kind)
        new = NewDocument(kind=kind or facts["kind"], filename=clean_filename(filename, media_type),
                          media_type=read.media_type, data=data, pages=read.page_count, text=read.text, facts=facts,
                          chunks=chunk_pages(read.pages))
        return await self.documents.store(user_id, new, conversation_id=conversation_id)
