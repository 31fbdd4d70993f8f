"""The person's own context for the graph: their profile and documents, searched with embeddings
when EMBEDDING_MODEL is set (and the server has pgvector), by full text otherwise."""

from __future__ import annotations

import asyncpg

from agents.models import Embed, build_embedder
from db.documents import DocumentSearch
from db.personal import PersonalContextStore
from db.settings import Settings


def embedder_from_settings(settings: Settings) -> Embed | None:
    """The embedding client when EMBEDDING_MODEL is set (URL and key default to the chat model's)."""
    if not settings.embedding_model:
        return None
    key = settings.embedding_api_key or settings.openai_api_key
    return build_embedder(model_name=settings.embedding_model,
                          base_url=settings.embedding_base_url or settings.openai_base_url,
                          api_key=key.get_secret_value() if key else None, timeout=settings.llm_timeout_seconds)


def document_search(pool: asyncpg.Pool, settings: Settings) -> DocumentSearch:
    return DocumentSearch(pool, embed=embedder_from_settings(settings), embedding_model=settings.embedding_model)


def personal_context(pool: asyncpg.Pool, settings: Settings) -> PersonalContextStore:
    """The agents' `PersonalContext` port (agents/ports.py) on the database."""
    return PersonalContextStore(pool, document_search(pool, settings))
