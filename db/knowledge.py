"""Knowledge documents: load them and search them with ranked PostgreSQL full-text search.

Owner of `knowledge_documents`. Documents arrive as plain dicts (slug, title,
source, url, intents, keywords, deadline, body); `db` does not know where they
come from (the shipped Markdown lives in `agents`, operators' files anywhere).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

DOCUMENT_FIELDS = ("slug", "title", "source", "url", "intents", "keywords", "deadline", "body")

# One statement for any number of documents. Unchanged documents are left alone
# (same checksum); shipped documents never overwrite an operator's document with the same slug.
UPSERT_DOCUMENTS = """
INSERT INTO knowledge_documents AS kd (slug, title, source, url, intents, keywords, deadline, body, origin, checksum)
SELECT d.slug, d.title, d.source, d.url, string_to_array(d.intents, ','), d.keywords, d.deadline, d.body,
       $9::text, d.checksum
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $10::text[]) AS d(slug, title, source, url, intents, keywords, deadline, body, checksum)
ON CONFLICT (slug) DO UPDATE SET
    title = EXCLUDED.title, source = EXCLUDED.source, url = EXCLUDED.url, intents = EXCLUDED.intents,
    keywords = EXCLUDED.keywords, deadline = EXCLUDED.deadline, body = EXCLUDED.body,
    origin = EXCLUDED.origin, checksum = EXCLUDED.checksum, updated_at = now()
WHERE kd.checksum <> EXCLUDED.checksum AND (EXCLUDED.origin = 'operator' OR kd.origin = 'shipped')
RETURNING (xmax = 0) AS inserted
"""

# The question's words become an OR of stemmed lexemes (a question rarely contains every
# word of a document, so websearch_to_tsquery's AND would find nothing); ts_rank orders
# by weighted matches (title A, keywords B, body C) and documents for the intent get a boost.
SEARCH_DOCUMENTS = """
WITH q AS (
    SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS query
    FROM unnest(to_tsvector('english', $1::text))
)
SELECT slug, title, source, url, body, deadline, intents,
       ts_rank(search, q.query, 1) + CASE WHEN $2::text = ANY(intents) THEN 0.2 ELSE 0 END AS rank
FROM knowledge_documents, q
WHERE search @@ q.query
ORDER BY rank DESC, slug
LIMIT $3
"""
COUNT_DOCUMENTS = "SELECT origin, count(*) AS n FROM knowledge_documents GROUP BY origin ORDER BY origin"
DELETE_DOCUMENT = "DELETE FROM knowledge_documents WHERE slug = $1 RETURNING slug"

MAX_QUERY_CHARS = 2000


@dataclass(frozen=True)
class LoadResult:
    inserted: int
    updated: int
    unchanged: int


def document_checksum(doc: Mapping[str, Any]) -> str:
    canonical = json.dumps({k: doc.get(k) for k in DOCUMENT_FIELDS}, sort_keys=True, default=list)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _columns(docs: Sequence[Mapping[str, Any]]) -> list[list[str | None]]:
    columns: list[list[str | None]] = [[] for _ in range(9)]
    for doc in docs:
        intents = doc.get("intents") or []
        if any("," in intent for intent in intents):
            raise ValueError(f"{doc.get('slug')}: an intent name cannot contain a comma")
        values = [doc["slug"], doc["title"], doc["source"], doc.get("url"), ",".join(intents),
                  doc.get("keywords") or "", doc.get("deadline"), doc["body"], document_checksum(doc)]
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns


async def upsert_documents(con: asyncpg.Connection | asyncpg.Pool, docs: Sequence[Mapping[str, Any]],
                           origin: str = "operator") -> LoadResult:
    """Insert new documents and update changed ones, in one statement (so one transaction)."""
    if origin not in ("shipped", "operator"):
        raise ValueError("origin must be 'shipped' or 'operator'")
    if not docs:
        return LoadResult(0, 0, 0)
    slugs = [doc["slug"] for doc in docs]
    if len(set(slugs)) != len(slugs):
        raise ValueError("two documents have the same slug")
    c = _columns(docs)
    rows = await con.fetch(UPSERT_DOCUMENTS, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], origin, c[8])
    inserted = sum(1 for row in rows if row["inserted"])
    return LoadResult(inserted, len(rows) - inserted, len(docs) - len(rows))


async def count_documents(con: asyncpg.Connection | asyncpg.Pool) -> dict[str, int]:
    return {row["origin"]: row["n"] for row in await con.fetch(COUNT_DOCUMENTS)}


async def delete_document(con: asyncpg.Connection | asyncpg.Pool, slug: str) -> bool:
    return await con.fetchval(DELETE_DOCUMENT, slug) is not None


async def search_documents(con: asyncpg.Connection | asyncpg.Pool, query: str, *, intent: str | None = None,
                           limit: int = 4) -> list[dict[str, Any]]:
    """Best-ranked documents for a free-text query; [] when no word matches."""
    if not 1 <= limit <= 50:
        raise ValueError("limit must be between 1 and 50")
    rows = await con.fetch(SEARCH_DOCUMENTS, query[:MAX_QUERY_CHARS], intent, limit)
    return [{**dict(row), "intents": list(row["intents"]), "rank": round(float(row["rank"]), 4)} for row in rows]


class KnowledgeSearch:
    """The agents' retriever port (`agents.ports.Retriever`) on the pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def __call__(self, query: str, *, intent: str | None = None, limit: int = 4) -> list[dict[str, Any]]:
        return await search_documents(self.pool, query, intent=intent, limit=limit)
