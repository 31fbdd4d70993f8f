"""Cases of the caller: open one (from a conversation or on its own), list, read (stage,
deadlines with dates, next action, timers, timeline), tell it what happened, download the
drafted letter (PDF or text), delete. Anything not the caller's is 404."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status

from api.case_schemas import (
    CaseCreate,
    CaseEventIn,
    CaseEventOut,
    CaseOpenedOut,
    CaseOut,
    CasePage,
    CaseSummaryOut,
    DeadlineOut,
    LetterOut,
    NextActionOut,
    TimelineEntryOut,
    TimerOut,
)
from api.deps import Cases, Conversations, CurrentUser, Runs
from api.errors import AUTH_RESPONSES, OWNED_RESPONSES
from api.pdf import render_pdf
from api.routes.chat import DEFAULT_CHAT_WAIT_SECONDS
from api.routes.documents import content_disposition
from db.cases import KIND_OF_INTENT, Case
from db.errors import Conflict
from db.paging import CURSOR_PATTERN, MAX_PAGE_SIZE

router = APIRouter(prefix="/cases", tags=["cases"], responses=AUTH_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Wait = Annotated[float, Query(ge=0, le=30, description="seconds to wait for the case to process it (0: answer "
                                                       "at once; `processing` says it is still under way); "
                                                       "at most the server's wait for a run (as POST /chat)")]
IdempotencyKey = Annotated[str, Header(min_length=1, max_length=255, pattern=r"^[!-~]+$")]
LETTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The drafted letter: a PDF, or plain text with `format=text`",
          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}},
                      "text/plain": {"schema": {"type": "string"}}}},
    409: {"description": "No letter yet: the case needs facts first (see its next action)"},
}
# Scalar facts a conversation concluded that a case reads (lists of mentioned dates and amounts stay there).
CONVERSATION_FACTS = ("service", "denial_date", "plan_type", "plan_detail", "insurer", "plan_name", "claim_number",
                      "state", "denial_reason", "appeal_deadline", "appeal_address", "drug", "urgent")


def run_wait(request: Request, asked: float) -> float:
    """The wait asked for, capped by the server's own wait for a run (POST /chat's)."""
    return min(asked, getattr(request.app.state, "chat_wait_seconds", DEFAULT_CHAT_WAIT_SECONDS))


def _timeline(entries: list[dict[str, Any]]) -> list[TimelineEntryOut]:
    return [TimelineEntryOut(type=e["type"], at=e["at"], text=e.get("text", ""),
                             data={k: v for k, v in e.items() if k not in ("type", "at", "text")}) for e in entries]


def _summary_fields(case: Case) -> dict[str, Any]:
    state = case.state
    deadlines = [DeadlineOut.model_validate(d) for d in state.get("deadlines") or []]
    upcoming = sorted((d for d in deadlines if d.status == "open"), key=lambda d: d.due)
    action = state.get("next_action")
    return {"id": case.id, "kind": case.kind, "title": case.title, "stage": case.stage,
            "level_label": state.get("level_label"),
            "next_action": NextActionOut.model_validate(action) if action else None,
            "next_deadline": upcoming[0] if upcoming else None, "processing": case.processing,
            "source_conversation_id": case.source_conversation_id, "created_at": case.created_at,
            "updated_at": case.updated_at}


def case_summary_out(case: Case) -> CaseSummaryOut:
    return CaseSummaryOut(**_summary_fields(case))


def case_out(case: Case) -> CaseOut:
    state = case.state
    letter = state.get("letter")
    return CaseOut(**_summary_fields(case), facts=state.get("facts") or {}, levels=state.get("levels") or [],
                   deadlines=[DeadlineOut.model_validate(d) for d in state.get("deadlines") or []],
                   timers=[TimerOut.model_validate(t, from_attributes=True) for t in case.timers],
                   timeline=_timeline(state.get("timeline") or []),
                   letter=LetterOut(title=letter["title"], level=letter["level"], drafted_at=letter["drafted_at"])
                   if letter else None, closed=state.get("closed"))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CaseOpenedOut,
             responses={**OWNED_RESPONSES, 200: {"model": CaseOpenedOut, "description": "Opened before with this "
                                                                                          "Idempotency-Key"}})
async def open_case(body: CaseCreate, user: CurrentUser, cases: Cases, conversations: Conversations, runs: Runs,
                    request: Request, response: Response, wait: Wait = 0,
                    idempotency_key: IdempotencyKey = None,  # type: ignore[assignment]  # optional, no null
                    ) -> CaseOpenedOut:
    """Open a case for an appeal, a prior authorization or a billing dispute. From a conversation
    (`conversation_id`) it takes the conversation's topic and facts and reads its documents; the facts
    given here win. The case drafts the letter once it knows what was denied and when, and works out
    the deadlines; reminders follow on their dates."""
    facts: dict[str, Any] = {}
    kind = body.kind
    if body.conversation_id is not None:
        workflow = (await conversations.workflow(body.conversation_id, user.id)).get("workflow") or {}
        concluded = workflow.get("state_data") or {}
        found = concluded.get("facts") or {}
        facts = {k: v for k, v in found.items() if k in CONVERSATION_FACTS and v not in (None, "", [])}
        kind = kind or KIND_OF_INTENT.get(str(concluded.get("intent")))  # type: ignore[assignment]
    facts |= body.facts.given()
    opened = await cases.open(user.id, kind or "appeal", facts=facts, title=body.title,
                              source_conversation_id=body.conversation_id, document_ids=body.document_ids,
                              idempotency_key=idempotency_key)
    case = opened.case
    if wait and opened.run is not None:
        await runs.wait(opened.run.id, user.id, run_wait(request, wait))
        case = await cases.get(case.id, user.id)
    if not opened.created:
        response.status_code = status.HTTP_200_OK
    return CaseOpenedOut(**case_out(case).model_dump(), run_id=opened.run.id if opened.run else None)


@router.get("", response_model=CasePage)
async def list_cases(user: CurrentUser, cases: Cases, limit: Limit = 20,
                     cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None) -> CasePage:
    """Newest first, each with its stage, next action and next deadline."""
    page = await cases.list_page(user.id, limit=limit, cursor=cursor)
    return CasePage(items=[case_summary_out(c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/{case_id}", response_model=CaseOut, responses=OWNED_RESPONSES)
async def get_case(case_id: uuid.UUID, user: CurrentUser, cases: Cases) -> CaseOut:
    """Stage, deadlines with their dates and rules, the next action, the timers (reminders,
    escalation) and their state, and a timeline of everything that happened."""
    return case_out(await cases.get(case_id, user.id))


@router.post("/{case_id}/events", status_code=status.HTTP_202_ACCEPTED, response_model=CaseEventOut,
             responses={**OWNED_RESPONSES, 409: {"description": "The case is closed, or the Idempotency-Key was "
                                                                "used for another event"}})
async def tell_case(case_id: uuid.UUID, body: CaseEventIn, user: CurrentUser, cases: Cases, runs: Runs,
                    request: Request, wait: Wait = 0,
                    idempotency_key: IdempotencyKey = None,  # type: ignore[assignment]  # optional, no null
                    ) -> CaseEventOut:
    """Tell the case what happened: you `filed` (when, how), a `decision` arrived (approved or denied,
    with the decision letter you uploaded), it is `closed`, new `facts`, a `document`, a `note`."""
    data = body.model_dump(mode="json", exclude={"type"}, exclude_none=True)
    event, run = await cases.tell(case_id, user.id, body.type, data, idempotency_key=idempotency_key)
    out = CaseEventOut(id=event.id, case_id=event.case_id, type=event.type, data=event.data,
                       occurred_at=event.occurred_at, run_id=event.run_id)
    if wait and event.run_id is not None:
        await runs.wait(event.run_id, user.id, run_wait(request, wait))
        out.case = case_out(await cases.get(case_id, user.id))
    return out


@router.get("/{case_id}/letter", response_class=Response, responses={**OWNED_RESPONSES, **LETTER_RESPONSES})
async def case_letter(case_id: uuid.UUID, user: CurrentUser, cases: Cases,
                      format: Literal["pdf", "text"] = "pdf") -> Response:
    """The drafted letter for the filing at hand. Fill in what is in [brackets], sign it, send it,
    then tell the case you filed it."""
    case = await cases.get(case_id, user.id)
    letter = case.state.get("letter")
    if not letter:
        action = (case.state.get("next_action") or {}).get("text") or "the case is still being processed"
        raise Conflict(f"no letter yet: {action}")
    name = re.sub(r"[^a-z0-9]+", "-", str(letter["title"]).lower()).strip("-") or "letter"
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if format == "text":
        return Response(letter["text"], media_type="text/plain; charset=utf-8",
                        headers={**headers, "Content-Disposition": content_disposition(f"{name}.txt")})
    return Response(render_pdf(letter["text"], title=letter["title"]), media_type="application/pdf",
                    headers={**headers, "Content-Disposition": content_disposition(f"{name}.pdf")})


@router.delete("/{case_id}", status_code=status.HTTP_204_NO_CONTENT, responses=OWNED_RESPONSES)
async def delete_case(case_id: uuid.UUID, user: CurrentUser, cases: Cases) -> Response:
    """Delete the case for good: its events, timers, letter, notifications and their deliveries."""
    await cases.delete(case_id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
