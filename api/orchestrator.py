"""Wires the agent graph to PostgreSQL: checkpointer + projection, model, knowledge search, risk log.

`navigator ask`, the setup check and the run executor all build the graph here,
so they run the same thing. Run it with `durability="sync"`.
"""

from __future__ import annotations

import asyncpg
from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph

from agents.graph import build_graph
from agents.kb import shipped_documents
from agents.models import DEFAULT_MAX_RETRIES, build_model
from agents.projection import project_step
from api.case_tracking import ConversationCases
from api.personal_context import personal_context
from api.protocol.assistants import CASE_THREAD_METADATA
from db.cases import CaseService
from db.checkpoint import AsyncpgSaver
from db.clock import SYSTEM_CLOCK, Clock
from db.knowledge import KnowledgeSearch, LoadResult, upsert_documents
from db.risk import RiskLog
from db.runs.fence import RunFence
from db.settings import Settings


def model_from_settings(settings: Settings, *, max_retries: int = DEFAULT_MAX_RETRIES) -> BaseChatModel:
    """The configured model; a remote one has at most MODEL_MAX_CONCURRENCY calls in flight.
    `max_retries=0` for the run executor, which retries itself and logs each retry in the run."""
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return build_model(settings.llm_provider, latency_ms=settings.offline_model_latency_ms,
                       base_url=settings.openai_base_url, api_key=api_key, model_name=settings.llm_model,
                       timeout=settings.llm_timeout_seconds, max_retries=max_retries,
                       max_concurrency=settings.model_max_concurrency)


async def ensure_shipped_knowledge(pool: asyncpg.Pool) -> LoadResult:
    """Load or refresh the shipped documents; a no-op statement when they are current."""
    docs = [doc.as_dict() for doc in shipped_documents()]
    return await upsert_documents(pool, docs, origin="shipped")


async def build_orchestrator(
    pool: asyncpg.Pool,
    settings: Settings,
    *,
    fence: RunFence | None = None,
    model: BaseChatModel | None = None,
    clock: Clock | None = None,
) -> CompiledStateGraph:
    """The compiled graph, checkpointed by `AsyncpgSaver` with the workflow/agent projection
    (and, for the run executor, the `RunFence` of the runs it holds)."""
    await ensure_shipped_knowledge(pool)
    saver = AsyncpgSaver(pool, projection=project_step, fence=fence)
    return build_graph(
        checkpointer=saver,
        model=model if model is not None else model_from_settings(settings),
        retriever=KnowledgeSearch(pool),
        risk_recorder=RiskLog(pool),
        personal=personal_context(pool, settings),
        cases=ConversationCases(CaseService(pool, clock or SYSTEM_CLOCK, thread_metadata=CASE_THREAD_METADATA)),
    )
