"""The agents' `PersonalContext` port on the database: one person's profile, documents and passages.

Composes db/profiles.py and db/documents.py (which own the SQL). Every read is for the
user id the run belongs to, so another person's document can never reach an answer.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from db.connection import as_uuid
from db.documents import CONTEXT_DOCUMENT_LIMIT, HAS_CHUNKS, SELECT_CONTEXT_DOCUMENTS, DocumentSearch, context_document
from db.errors import NotFound
from db.profiles import SELECT_PROFILE, to_profile

# What the navigator reads before every answer, in one round trip: the profile (no row when none
# was saved), the documents that apply to the conversation (none, or one per row) and whether the
# person has passages to search. $1 user, $2 conversation, $3 every document, $4 limit.
SELECT_KNOWN = (
    "WITH profile AS (" + SELECT_PROFILE + "), context_documents AS (" + SELECT_CONTEXT_DOCUMENTS + ")\n"  # noqa: S608
    "SELECT p.*, d.*, " + HAS_CHUNKS + " AS searchable\n"
    "  FROM (SELECT) AS one LEFT JOIN profile p ON true LEFT JOIN context_documents d ON true\n"
    " ORDER BY d.created_at DESC, d.id DESC"
)


class PersonalContextStore:
    def __init__(self, pool: asyncpg.Pool, search: DocumentSearch | None = None) -> None:
        self.pool = pool
        self.search = search if search is not None else DocumentSearch(pool)

    async def known(self, *, user_id: str, conversation_id: str | None,
                    every_document: bool = False) -> dict[str, Any]:
        """`{"profile": {field: value}, "documents": [{id, kind, filename, pages, facts, standalone, attached}],
        "searchable": bool}` (searchable: the person has passages `passages` could find)."""
        try:
            uid = as_uuid(user_id, "user")
            cid = as_uuid(conversation_id) if conversation_id else None
        except NotFound:  # a thread that is not a conversation (the command line) has no documents
            return {"profile": {}, "documents": [], "searchable": False}
        rows = await self.pool.fetch(SELECT_KNOWN, uid, cid, every_document, CONTEXT_DOCUMENT_LIMIT)
        documents = [context_document(row) for row in rows if row["id"] is not None]
        # Always one row; without a saved profile its columns are null, which is the empty profile.
        return {"profile": to_profile(rows[0]).known(), "documents": documents, "searchable": rows[0]["searchable"]}

    async def passages(self, *, user_id: str, query: str, conversation_id: str | None,
                       limit: int = 3) -> list[dict[str, Any]]:
        """The person's best-ranked chunks for the query: {document_id, kind, filename, page, body, rank}."""
        try:
            uid = as_uuid(user_id, "user")
            cid = as_uuid(conversation_id) if conversation_id else None
        except NotFound:
            return []
        return await self.search.search(uid, query, conversation_id=cid, limit=limit)
