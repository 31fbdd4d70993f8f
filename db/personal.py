"""The agents' `PersonalContext` port on the database: one person's profile, documents and passages.

Composes db/profiles.py and db/documents.py (which own the SQL). Every read is for the
user id the run belongs to, so another person's document can never reach an answer.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from db.conversations import as_uuid
from db.documents import DocumentSearch
from db.errors import NotFound
from db.profiles import read_profile


class PersonalContextStore:
    def __init__(self, pool: asyncpg.Pool, search: DocumentSearch | None = None) -> None:
        self.pool = pool
        self.search = search if search is not None else DocumentSearch(pool)

    async def known(self, *, user_id: str, conversation_id: str | None,
                    every_document: bool = False) -> dict[str, Any]:
        """`{"profile": {field: value}, "documents": [{id, kind, filename, pages, facts, standalone, attached}]}`."""
        try:
            uid = as_uuid(user_id, "user")
            cid = as_uuid(conversation_id) if conversation_id else None
        except NotFound:  # a thread that is not a conversation (the command line) has no documents
            return {"profile": {}, "documents": []}
        profile = await read_profile(self.pool, uid)
        documents = await self.search.context_documents(uid, cid, every_document=every_document)
        return {"profile": profile.known(), "documents": documents}

    async def passages(self, *, user_id: str, query: str, conversation_id: str | None,
                       limit: int = 3) -> list[dict[str, Any]]:
        """The person's best-ranked chunks for the query: {document_id, kind, filename, page, body, rank}."""
        try:
            uid = as_uuid(user_id, "user")
            cid = as_uuid(conversation_id) if conversation_id else None
        except NotFound:
            return []
        return await self.search.search(uid, query, conversation_id=cid, limit=limit)
