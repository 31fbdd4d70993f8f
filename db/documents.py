"""The person's uploaded documents: encrypted file, extracted text, facts, chunks, links to conversations.

Owner of `documents`, `document_conversations`, `document_chunks` and (where the server has
pgvector) `document_chunk_embeddings`. Every query filters by `user_id`: a document that is
not the caller's is `NotFound`, like one that does not exist. Reading the file (type, text,
facts) happens above this layer; this module stores what it is given, encrypts the bytes
(db/document_crypto.py) and deletes for real: the row, its bytes, text, chunks and
embeddings go in one statement (ON DELETE CASCADE).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from db import document_crypto
from db.connection import Connection, as_uuid
from db.conversations import get_owned
from db.errors import NotFound
from db.paging import Page, decode_cursor, encode_cursor

log = logging.getLogger(__name__)

DOCUMENT_KINDS = ("summary_of_benefits", "denial_letter", "explanation_of_benefits", "decision_letter", "policy",
                  "bill", "other")
MEDIA_TYPES = ("application/pdf", "text/plain")

SELECT_DOCUMENT_BY_DIGEST = "SELECT d.id FROM documents d WHERE d.user_id = $1 AND d.digest = $2"
# A new document, or the existing one with the same bytes (then only `standalone` may turn on).
UPSERT_DOCUMENT = """
INSERT INTO documents AS d (id, user_id, kind, filename, media_type, size_bytes, digest, content, key_id, pages,
                            text, facts, standalone)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (user_id, digest) DO UPDATE
   SET standalone = d.standalone OR EXCLUDED.standalone, updated_at = now()
RETURNING d.id, (xmax = 0) AS inserted
"""
INSERT_CHUNKS = """
INSERT INTO document_chunks (document_id, user_id, ordinal, page, body)
SELECT $1, $2, c.ordinal, c.page, c.body
  FROM unnest($3::int[], $4::int[], $5::text[]) AS c(ordinal, page, body)
RETURNING id, ordinal
"""
INSERT_EMBEDDINGS = """
INSERT INTO document_chunk_embeddings (chunk_id, user_id, model, embedding)
SELECT e.chunk_id, $2, $3, e.embedding::vector
  FROM unnest($1::bigint[], $4::text[]) AS e(chunk_id, embedding)
"""
LINK_CONVERSATION = """
INSERT INTO document_conversations (document_id, conversation_id, user_id) VALUES ($1, $2, $3)
ON CONFLICT (document_id, conversation_id) DO NOTHING
"""
SELECT_OWNED_DOCUMENT_ID = "SELECT id FROM documents WHERE id = $1 AND user_id = $2"
MARK_STANDALONE = "UPDATE documents SET standalone = true, updated_at = now() WHERE id = $1 AND user_id = $2"
# Metadata only (lists and reads never load the encrypted bytes or the text), with the conversations.
DOCUMENT_COLUMNS = """
SELECT d.id, d.user_id, d.kind, d.filename, d.media_type, d.size_bytes, d.pages, d.facts, d.standalone,
       d.created_at, d.updated_at,
       COALESCE((SELECT array_agg(l.conversation_id ORDER BY l.created_at, l.conversation_id)
                   FROM document_conversations l
                  WHERE l.document_id = d.id AND l.user_id = d.user_id), '{}') AS conversation_ids"""
SELECT_OWNED_DOCUMENT = DOCUMENT_COLUMNS + """
  FROM documents d WHERE d.id = $1 AND d.user_id = $2
"""
SELECT_OWNED_FILE = """
SELECT d.id, d.user_id, d.filename, d.media_type, d.content, d.key_id
  FROM documents d WHERE d.id = $1 AND d.user_id = $2
"""
# $5: only the documents attached to this conversation (NULL: all of them). Constants only: no value is
# ever put into the text.
LIST_OWNED_DOCUMENTS = DOCUMENT_COLUMNS + """
  FROM documents d
 WHERE d.user_id = $1
   AND ($2::timestamptz IS NULL OR (d.created_at, d.id) < ($2, $3::uuid))
   AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM document_conversations l
                                     WHERE l.document_id = d.id AND l.conversation_id = $5 AND l.user_id = $1))
 ORDER BY d.created_at DESC, d.id DESC
 LIMIT $4
"""  # noqa: S608
EXPORT_OWNED_DOCUMENTS = DOCUMENT_COLUMNS + """, d.text
  FROM documents d WHERE d.user_id = $1 ORDER BY d.created_at, d.id
"""
DELETE_OWNED_DOCUMENT = "DELETE FROM documents WHERE id = $1 AND user_id = $2 RETURNING id"
# The documents a conversation takes with it: attached to it, to no other conversation, and not
# uploaded for the whole account. Runs before the conversation's row goes (the links cascade).
DELETE_CONVERSATION_ONLY_DOCUMENTS = """
DELETE FROM documents d
 WHERE d.user_id = $2 AND NOT d.standalone
   AND EXISTS (SELECT 1 FROM document_conversations l
                WHERE l.document_id = d.id AND l.conversation_id = $1 AND l.user_id = $2)
   AND NOT EXISTS (SELECT 1 FROM document_conversations l
                    WHERE l.document_id = d.id AND l.conversation_id <> $1)
RETURNING d.id
"""
# A fragment of the cleanup's statement (db/lifecycle/cleanup.py): the documents a batch of expired
# conversations (`expired (id)`) takes with it: attached to one of them, to no conversation outside
# the batch, and not uploaded for the whole account.
DELETE_DOCUMENTS_OF_EXPIRED = """,
expired_documents AS (
    DELETE FROM documents d
     WHERE NOT d.standalone
       AND d.id IN (SELECT l.document_id FROM document_conversations l
                     WHERE l.conversation_id = ANY (ARRAY(SELECT id FROM expired)))
       AND NOT EXISTS (SELECT 1 FROM document_conversations l
                        WHERE l.document_id = d.id AND l.conversation_id <> ALL (ARRAY(SELECT id FROM expired)))
    RETURNING d.id
)"""
# How many documents the cleanup will delete with the expired conversations (a dry run, /stats).
COUNT_DOCUMENTS_ONLY_OF_EXPIRED = """
SELECT count(*) FROM documents d
 WHERE NOT d.standalone
   AND d.id IN (SELECT l.document_id FROM document_conversations l
                  JOIN conversations c ON c.id = l.conversation_id WHERE c.expires_at <= now())
   AND NOT EXISTS (SELECT 1 FROM document_conversations l JOIN conversations c ON c.id = l.conversation_id
                    WHERE l.document_id = d.id AND c.expires_at > now())
"""
# What the agents may read for one conversation: documents attached to it and those uploaded
# for the whole account; every one of the person's documents when `$3` (they asked about them).
SELECT_CONTEXT_DOCUMENTS = """
SELECT d.id, d.kind, d.filename, d.pages, d.facts, d.standalone, d.created_at,
       EXISTS (SELECT 1 FROM document_conversations l
                WHERE l.document_id = d.id AND l.conversation_id = $2 AND l.user_id = $1) AS attached
  FROM documents d
 WHERE d.user_id = $1
   AND ($3 OR d.standalone OR EXISTS (SELECT 1 FROM document_conversations l
                                       WHERE l.document_id = d.id AND l.conversation_id = $2 AND l.user_id = $1))
 ORDER BY d.created_at DESC, d.id DESC
 LIMIT $4
"""
# Whether the person has any passage to search (SEARCH_CHUNKS finds nothing otherwise); $1 the user.
HAS_CHUNKS = "EXISTS (SELECT 1 FROM document_chunks c WHERE c.user_id = $1)"
# The question's words as an OR of stemmed lexemes (as in db/knowledge.py); chunks of documents
# attached to the conversation rank higher than the person's other documents.
SEARCH_CHUNKS = """
WITH q AS (
    SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS query
    FROM unnest(to_tsvector('english', $2::text))
)
SELECT c.document_id, c.page, c.body, d.kind, d.filename,
       ts_rank(c.search, q.query, 1)
         + CASE WHEN EXISTS (SELECT 1 FROM document_conversations l WHERE l.document_id = c.document_id
                             AND l.conversation_id = $3 AND l.user_id = $1) THEN $5::float8 ELSE 0 END AS rank
  FROM document_chunks c
  JOIN documents d ON d.id = c.document_id AND d.user_id = $1
 CROSS JOIN q
 WHERE c.user_id = $1 AND c.search @@ q.query
 ORDER BY rank DESC, c.document_id, c.ordinal
 LIMIT $4
"""
# Full text and nearest embeddings together: a chunk found by either ranks by the sum of its
# text rank and half its cosine similarity (vectors of another model or size are never compared).
SEARCH_CHUNKS_HYBRID = """
WITH q AS (
    SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS query
    FROM unnest(to_tsvector('english', $2::text))
), text_hits AS (
    SELECT c.id, ts_rank(c.search, q.query, 1) AS score
      FROM document_chunks c, q
     WHERE c.user_id = $1 AND c.search @@ q.query
), near_hits AS (
    SELECT e.chunk_id AS id, 1 - (e.embedding <=> $6::text::vector) AS score
      FROM document_chunk_embeddings e
     WHERE e.user_id = $1 AND e.model = $7 AND vector_dims(e.embedding) = $8
     ORDER BY e.embedding <=> $6::text::vector
     LIMIT $4 * 2
)
SELECT c.document_id, c.page, c.body, d.kind, d.filename,
       COALESCE(t.score, 0) + COALESCE(n.score, 0) / 2
         + CASE WHEN EXISTS (SELECT 1 FROM document_conversations l WHERE l.document_id = c.document_id
                             AND l.conversation_id = $3 AND l.user_id = $1) THEN $5::float8 ELSE 0 END AS rank
  FROM document_chunks c
  JOIN documents d ON d.id = c.document_id AND d.user_id = $1
  LEFT JOIN text_hits t ON t.id = c.id
  LEFT JOIN near_hits n ON n.id = c.id AND n.score >= $9
 WHERE c.user_id = $1 AND (t.id IS NOT NULL OR n.id IS NOT NULL)
 ORDER BY rank DESC, c.document_id, c.ordinal
 LIMIT $4
"""
SELECT_EMBEDDINGS_TABLE = "SELECT to_regclass('document_chunk_embeddings') IS NOT NULL"
COUNT_DOCUMENTS_BY_KEY = "SELECT key_id, count(*) AS n FROM documents GROUP BY key_id"

# --- the account export and import (db/lifecycle/transfer.py) ------------------------------
# A document moves as the file itself (decrypted on export, encrypted again on import with this
# server's key), its text and facts, its links to conversations and its search passages.
EXPORT_DOCUMENTS = """
SELECT id, kind, filename, media_type, size_bytes, pages, text, facts, standalone, created_at, updated_at,
       content, key_id
  FROM documents WHERE user_id = $1 ORDER BY created_at, id
"""
EXPORT_DOCUMENT_LINKS = """
SELECT document_id, conversation_id, created_at
  FROM document_conversations WHERE user_id = $1 ORDER BY document_id, conversation_id
"""
EXPORT_DOCUMENT_CHUNKS = """
SELECT document_id, ordinal, page, body FROM document_chunks WHERE user_id = $1 ORDER BY document_id, ordinal
"""
# $2 rows carrying the encrypted file and its digest (base64) and key id, as `store` makes them.
IMPORT_DOCUMENTS = """
INSERT INTO documents (user_id, id, kind, filename, media_type, size_bytes, digest, content, key_id, pages, text,
                       facts, standalone, created_at, updated_at)
SELECT $1, r.id, r.kind, r.filename, r.media_type, r.size_bytes, decode(r.digest, 'base64'),
       decode(r.content, 'base64'), r.key_id, r.pages, r.text, r.facts, r.standalone, r.created_at, r.updated_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id uuid, kind text, filename text, media_type text, size_bytes integer,
                                     digest text, content text, key_id text, pages integer, text text, facts jsonb,
                                     standalone boolean, created_at timestamptz, updated_at timestamptz)
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""
IMPORT_DOCUMENT_LINKS = """
INSERT INTO document_conversations (user_id, document_id, conversation_id, created_at)
SELECT $1, r.document_id, r.conversation_id, r.created_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(document_id uuid, conversation_id uuid, created_at timestamptz)
 WHERE EXISTS (SELECT 1 FROM documents d WHERE d.id = r.document_id AND d.user_id = $1)
   AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = r.conversation_id AND c.user_id = $1)
 ORDER BY e.ord
ON CONFLICT (document_id, conversation_id) DO NOTHING
"""
IMPORT_DOCUMENT_CHUNKS = """
INSERT INTO document_chunks (user_id, document_id, ordinal, page, body)
SELECT $1, r.document_id, r.ordinal, r.page, r.body
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(document_id uuid, ordinal integer, page integer, body text)
 WHERE EXISTS (SELECT 1 FROM documents d WHERE d.id = r.document_id AND d.user_id = $1)
 ORDER BY e.ord
ON CONFLICT (document_id, ordinal) DO NOTHING
"""

MAX_PAGE_SIZE = 100
# Documents the agents read for one conversation at most (newest first).
CONTEXT_DOCUMENT_LIMIT = 20
MAX_QUERY_CHARS = 2000
ATTACHED_BOOST = 0.3
MIN_SIMILARITY = 0.3

# Texts in, one vector per text out (an OpenAI-compatible /embeddings client, handed in by the application).
Embed = Callable[[list[str]], Awaitable[list[list[float]]]]


@dataclass(frozen=True)
class Document:
    id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    filename: str
    media_type: str
    size_bytes: int
    pages: int
    facts: dict[str, Any]
    standalone: bool
    conversation_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NewDocument:
    """What the reader made of an upload; `chunks` are (page, text) in reading order."""

    kind: str
    filename: str
    media_type: str
    data: bytes
    pages: int
    text: str
    facts: dict[str, Any] = field(default_factory=dict)
    chunks: list[tuple[int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind not in DOCUMENT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(DOCUMENT_KINDS)}")
        if self.media_type not in MEDIA_TYPES:
            raise ValueError(f"media type must be one of {', '.join(MEDIA_TYPES)}")
        if not self.data:
            raise ValueError("the file is empty")


@dataclass(frozen=True)
class StoredFile:
    filename: str
    media_type: str
    data: bytes


def to_document(row: Mapping[str, Any] | asyncpg.Record) -> Document:
    return Document(id=row["id"], user_id=row["user_id"], kind=row["kind"], filename=row["filename"],
                    media_type=row["media_type"], size_bytes=row["size_bytes"], pages=row["pages"],
                    facts=row["facts"], standalone=row["standalone"], conversation_ids=list(row["conversation_ids"]),
                    created_at=row["created_at"], updated_at=row["updated_at"])


def context_document(row: Mapping[str, Any] | asyncpg.Record) -> dict[str, Any]:
    """A row of SELECT_CONTEXT_DOCUMENTS as the agents read it."""
    return {"id": str(row["id"]), "kind": row["kind"], "filename": row["filename"], "pages": row["pages"],
            "facts": row["facts"], "standalone": row["standalone"], "attached": row["attached"]}


def vector_literal(vector: Sequence[float]) -> str:
    """pgvector's text form; the vector type has no codec in asyncpg, and text needs no extra package."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


async def delete_conversation_documents(con: Connection, conversation_id: object, user_id: object) -> list[uuid.UUID]:
    """Delete the documents attached only to this conversation, in the caller's transaction."""
    rows = await con.fetch(DELETE_CONVERSATION_ONLY_DOCUMENTS, as_uuid(conversation_id), as_uuid(user_id, "user"))
    return [row["id"] for row in rows]


async def count_documents_by_key(con: Connection | asyncpg.Pool) -> dict[str, int]:
    """Documents per encryption key id, all users (the setup check: are they all readable with this key?)."""
    return {row["key_id"]: row["n"] for row in await con.fetch(COUNT_DOCUMENTS_BY_KEY)}


async def has_embeddings_table(con: Connection | asyncpg.Pool) -> bool:
    return bool(await con.fetchval(SELECT_EMBEDDINGS_TABLE))


class DocumentSearch:
    """Reading the user's documents for the agents: which ones apply to a conversation, and ranked
    passages for a query (full text; plus embeddings when a model is configured and the server has
    pgvector). Needs no encryption key: it never touches the files."""

    def __init__(self, pool: asyncpg.Pool, *, embed: Embed | None = None, embedding_model: str | None = None) -> None:
        self.pool = pool
        self.embed = embed if embedding_model else None
        self.embedding_model = embedding_model
        self._vectors: bool | None = None

    async def vectors_enabled(self) -> bool:
        """An embedding model is configured and the server has the embeddings table (pgvector)."""
        if self.embed is None:
            return False
        if self._vectors is None:
            self._vectors = await has_embeddings_table(self.pool)
            if not self._vectors:
                log.warning("EMBEDDING_MODEL is set but the database has no pgvector: full-text search only")
        return self._vectors

    async def embed_chunks(self, chunks: list[tuple[int, str]]) -> list[list[float]] | None:
        """One vector per chunk, or None (no model, no pgvector, or the model failed: full text still works)."""
        if not chunks or not await self.vectors_enabled():
            return None
        assert self.embed is not None
        try:
            vectors = await self.embed([body for _, body in chunks])
        except Exception as exc:  # the document is still useful through full-text search
            log.warning("embedding the document failed (%s); it is searched by full text only", type(exc).__name__)
            return None
        if len(vectors) != len(chunks) or not all(vectors) or len({len(v) for v in vectors}) != 1:
            log.warning("the embedding model returned unusable vectors; the document is searched by full text only")
            return None
        return vectors

    async def _embed_query(self, query: str) -> list[float] | None:
        if not query.strip() or not await self.vectors_enabled():
            return None
        assert self.embed is not None
        try:
            vectors = await self.embed([query])
        except Exception as exc:  # search still works by full text
            log.warning("embedding the query failed (%s); full-text search only", type(exc).__name__)
            return None
        return vectors[0] if vectors and vectors[0] else None

    async def search(self, user_id: object, query: str, *, conversation_id: object | None = None,
                     limit: int = 3) -> list[dict[str, Any]]:
        """The user's best-ranked chunks for a query; chunks of documents attached to the conversation first."""
        if not 1 <= limit <= 50:
            raise ValueError("limit must be between 1 and 50")
        uid = as_uuid(user_id, "user")
        cid = as_uuid(conversation_id) if conversation_id is not None else None
        query = query[:MAX_QUERY_CHARS]
        vector = await self._embed_query(query)
        if vector is not None:
            rows = await self.pool.fetch(SEARCH_CHUNKS_HYBRID, uid, query, cid, limit, ATTACHED_BOOST,
                                         vector_literal(vector), self.embedding_model, len(vector), MIN_SIMILARITY)
        else:
            rows = await self.pool.fetch(SEARCH_CHUNKS, uid, query, cid, limit, ATTACHED_BOOST)
        return [{"document_id": str(r["document_id"]), "page": r["page"], "body": r["body"], "kind": r["kind"],
                 "filename": r["filename"], "rank": round(float(r["rank"]), 4)} for r in rows]


class DocumentService:
    """Documents for the API: store, read, list, delete, export; every method takes the acting user's id."""

    def __init__(self, pool: asyncpg.Pool, key: bytes, *, search: DocumentSearch | None = None) -> None:
        if len(key) != document_crypto.KEY_BYTES:
            raise ValueError("the document key must be 32 bytes")
        self.pool = pool
        self._key = key
        self.key_id = document_crypto.key_id(key)
        self.search = search if search is not None else DocumentSearch(pool)

    async def find_same(self, user_id: object, data: bytes) -> uuid.UUID | None:
        """The id of the user's document with exactly these bytes, if any (checked before reading a file twice)."""
        digest = document_crypto.file_digest(self._key, data)
        found: uuid.UUID | None = await self.pool.fetchval(SELECT_DOCUMENT_BY_DIGEST, as_uuid(user_id, "user"),
                                                           digest)
        return found

    async def attach(self, document_id: object, user_id: object, conversation_id: object | None) -> Document:
        """Attach an existing document to a conversation (or keep it for the whole account when None)."""
        did, uid = as_uuid(document_id, "document"), as_uuid(user_id, "user")
        async with self.pool.acquire() as con, con.transaction():
            if conversation_id is not None:
                cid = as_uuid(conversation_id)
                await get_owned(con, cid, uid)
                if await con.fetchval(SELECT_OWNED_DOCUMENT_ID, did, uid) is None:
                    raise NotFound("document", document_id)
                await con.execute(LINK_CONVERSATION, did, cid, uid)
            else:
                await con.execute(MARK_STANDALONE, did, uid)
            row = await con.fetchrow(SELECT_OWNED_DOCUMENT, did, uid)
        if row is None:
            raise NotFound("document", document_id)
        return to_document(row)

    async def store(self, user_id: object, new: NewDocument, *,
                    conversation_id: object | None = None) -> tuple[Document, bool]:
        """(document, created). The same bytes again return the stored document, attached to the
        conversation too; NotFound when the conversation is not the user's (nothing is stored)."""
        uid = as_uuid(user_id, "user")
        cid = as_uuid(conversation_id) if conversation_id is not None else None
        document_id = uuid.uuid4()
        digest = document_crypto.file_digest(self._key, new.data)
        content = document_crypto.encrypt(self._key, new.data, user_id=uid, document_id=document_id)
        # Embeddings come from a remote model: fetch them before taking a connection.
        vectors = await self.search.embed_chunks(new.chunks)
        async with self.pool.acquire() as con, con.transaction():
            if cid is not None:
                await get_owned(con, cid, uid)
            row = await con.fetchrow(UPSERT_DOCUMENT, document_id, uid, new.kind, new.filename, new.media_type,
                                     len(new.data), digest, content, self.key_id, new.pages, new.text, new.facts,
                                     cid is None)
            assert row is not None
            stored_id, created = row["id"], row["inserted"]
            if created and new.chunks:
                chunk_rows = await con.fetch(INSERT_CHUNKS, stored_id, uid, list(range(len(new.chunks))),
                                             [page for page, _ in new.chunks], [body for _, body in new.chunks])
                if vectors is not None:
                    ids = [r["id"] for r in sorted(chunk_rows, key=lambda r: r["ordinal"])]
                    await con.execute(INSERT_EMBEDDINGS, ids, uid, self.search.embedding_model,
                                      [vector_literal(v) for v in vectors])
            if cid is not None:
                await con.execute(LINK_CONVERSATION, stored_id, cid, uid)
            document = await con.fetchrow(SELECT_OWNED_DOCUMENT, stored_id, uid)
        assert document is not None
        return to_document(document), bool(created)

    async def get(self, document_id: object, user_id: object) -> Document:
        row = await self.pool.fetchrow(SELECT_OWNED_DOCUMENT, as_uuid(document_id, "document"),
                                       as_uuid(user_id, "user"))
        if row is None:
            raise NotFound("document", document_id)
        return to_document(row)

    async def read_file(self, document_id: object, user_id: object) -> StoredFile:
        """The decrypted file; `Undecryptable` when the server's key is not the one it was stored with."""
        did, uid = as_uuid(document_id, "document"), as_uuid(user_id, "user")
        row = await self.pool.fetchrow(SELECT_OWNED_FILE, did, uid)
        if row is None:
            raise NotFound("document", document_id)
        data = document_crypto.decrypt(self._key, row["content"], user_id=uid, document_id=row["id"],
                                       stored_key_id=row["key_id"])
        return StoredFile(row["filename"], row["media_type"], data)

    async def list_page(self, user_id: object, *, limit: int = 20, cursor: str | None = None,
                        conversation_id: object | None = None) -> Page:
        """Newest first (only those attached to `conversation_id` when given); raises ValueError on a bad
        cursor or limit outside 1..100."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        after_created, after_id = decode_cursor(cursor) if cursor else (None, None)
        cid = as_uuid(conversation_id) if conversation_id is not None else None
        rows = await self.pool.fetch(LIST_OWNED_DOCUMENTS, as_uuid(user_id, "user"), after_created, after_id,
                                     limit + 1, cid)
        items = [to_document(row) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items, encode_cursor(items[-1].created_at, items[-1].id) if more else None)

    async def delete(self, document_id: object, user_id: object) -> None:
        """Delete the document: its encrypted bytes, text, facts, chunks, embeddings and links."""
        deleted = await self.pool.fetchval(DELETE_OWNED_DOCUMENT, as_uuid(document_id, "document"),
                                           as_uuid(user_id, "user"))
        if deleted is None:
            raise NotFound("document", document_id)

    async def export(self, user_id: object) -> list[dict[str, Any]]:
        """Every document of the user with its facts and extracted text, oldest first, for the account
        export (the files themselves are read with `read_file`)."""
        rows = await self.pool.fetch(EXPORT_OWNED_DOCUMENTS, as_uuid(user_id, "user"))
        return [{**to_document(row).__dict__, "text": row["text"]} for row in rows]
