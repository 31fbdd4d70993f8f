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


class PersonalContext(Protocol):
    """One person's own plan and documents; every call is for one user and returns only theirs.

    `known` gives `{"profile": {plan_type, insurer, plan_name, state, plan_through, renewal_month,
    preferred_language}, "documents": [{id, kind, filename, pages, facts, standalone, attached}]}`:
    documents attached to the conversation, those uploaded for the whole account, or every one of
    theirs with `every_document`; it may add `"searchable": False` when the person has no passage
    to search (the navigator then skips `passages`). `passages` gives ranked chunks of their
    documents: `{document_id, kind, filename, page, body, rank}`.
    """

    async def known(self, *, user_id: str, conversation_id: str | None,
                    every_document: bool = False) -> dict[str, Any]:
        ...

    async def passages(self, *, user_id: str, query: str, conversation_id: str | None,
                       limit: int = 3) -> list[dict[str, Any]]:
        ...


class CaseTracker(Protocol):
    """Opens the case that tracks a conversation ("track this for me"), or finds the one it has.

    Returns `{"case_id", "kind", "title", "created": bool, "opened_at": ISO time}`, or None when
    the intent is nothing a case tracks (or the thread is not a conversation). Idempotent per
    `request_id` (the message asking), so a step that runs again opens nothing twice.
    """

    async def track(self, *, user_id: str, conversation_id: str, intent: str | None, facts: dict[str, Any],
                    request_id: str) -> dict[str, Any] | None:
        ...
