"""What the agents need from the outside world, as Protocols.

`agents` never imports `db`; `db/knowledge.py` and `db/risk.py` satisfy these
by duck typing, and tests can pass in-memory implementations.
"""

from __future__ import annotations

from typing import Any, Protocol


class Retriever(Protocol):
    """Ranked knowledge documents for a query.

    Each hit is a dict with at least: slug, title, source, url, body,
    deadline (str or None), rank (float, higher is better).
    """

    async def __call__(self, query: str, *, intent: str | None = None, limit: int = 4) -> list[dict[str, Any]]:
        ...


class RiskRecorder(Protocol):
    """Records an urgent-risk detection; must be idempotent per (conversation, message, category)."""

    async def __call__(self, *, conversation_id: str, user_id: str | None, message_id: str,
                       category: str, severity: str, excerpt: str) -> None:
        ...
