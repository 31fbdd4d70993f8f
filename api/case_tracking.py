"""The conversation graph's `CaseTracker` port on the database: "track this for me" opens the
case a conversation is about (db/cases.py), or finds the one it already has and passes on what
the conversation learned since."""

from __future__ import annotations

from typing import Any

from db.cases import CaseService
from db.errors import NotFound


class ConversationCases:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases

    async def track(self, *, user_id: str, conversation_id: str, intent: str | None, facts: dict[str, Any],
                    request_id: str) -> dict[str, Any] | None:
        try:
            opened = await self.cases.open_from_conversation(user_id, conversation_id, intent, facts,
                                                             idempotency_key=f"track:{request_id}"[:255])
        except NotFound:  # a thread that is not a live conversation of this person (the command line)
            return None
        if opened is None:
            return None
        case = opened.case
        known = case.state.get("facts") or {}
        news = {key: value for key, value in facts.items() if known.get(key) != value}
        if not opened.created and news and case.stage != "closed":
            await self.cases.tell(case.id, user_id, "facts", {"facts": news},
                                  idempotency_key=f"track:{request_id}"[:255])
        return {"case_id": str(case.id), "kind": case.kind, "title": case.title, "created": opened.created,
                "opened_at": (case.state.get("opened_at") or case.created_at.isoformat())}
