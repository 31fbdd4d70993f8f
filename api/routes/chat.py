"""POST /chat: one call that creates the conversation when needed, queues the
run, waits for it to settle and answers with the reply or the question.

The conversation, the run and the person's message are stored in one
transaction before any waiting starts. From then on the answer always names
the run: if the wait ends before the run does, or the database goes away
during the wait, the answer is 202 with `run_id` and `status` (never a bare
503 that would make a client send the message again). A client that did get a
503 (nothing was stored, or it cannot know) retries with the same
`Idempotency-Key` and gets the one run its message started.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from agents.outcome import RunOutcome
from api.deps import Conversations, CurrentUser, IdempotencyKey, Runs
from api.errors import AUTH_RESPONSES, OWNED_RESPONSES, UNAVAILABLE_ERRORS
from api.schemas import ChatRequest, ChatResponse
from db.runs.model import Run

log = logging.getLogger(__name__)

router = APIRouter(tags=["chat"], responses={**AUTH_RESPONSES, **OWNED_RESPONSES})

DEFAULT_CHAT_WAIT_SECONDS = 120.0
TITLE_CHARS = 80
# The database went away while waiting for a run that is already stored: answer with the run.
CHAT_RESPONSES: dict[int | str, dict[str, object]] = {
    202: {"model": ChatResponse,
          "description": "The message is stored and its run queued, but it has not finished yet (the wait ended, "
                         "or the database became unreachable while waiting): follow GET /runs/{run_id} or "
                         "GET /runs/{run_id}/events, or repeat the request with the same Idempotency-Key"},
    409: {"description": "Idempotency-Key already used for another message or conversation"},
}


def title_from(message: str) -> str:
    line = " ".join(message.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def chat_answer(run: Run) -> ChatResponse:
    outcome = RunOutcome.from_output(run.status, run.output, run.error)
    return ChatResponse(conversation_id=run.conversation_id, run_id=run.id, status=run.status, reply=outcome.reply,
                        question=outcome.interrupt, error=outcome.error)


@router.post("/chat", response_model=ChatResponse, responses=CHAT_RESPONSES)
async def chat(body: ChatRequest, user: CurrentUser, conversations: Conversations, runs: Runs,
               request: Request, response: Response,
               idempotency_key: IdempotencyKey = None,  # type: ignore[assignment]
               ) -> ChatResponse:
    """Answers 200 with `reply` on success, or `question` when the workflow needs a fact from you
    (answer it with POST /runs/{run_id}/resume). 202 when the run has not finished within the
    server's wait: follow GET /runs/{run_id}/events. The same `Idempotency-Key` returns the same
    run (and creates no second conversation)."""
    run = await runs.start_chat(user.id, body.conversation_id, body.message, title=title_from(body.message),
                                ttl_hours=conversations.ttl_hours, idempotency_key=idempotency_key)
    wait = getattr(request.app.state, "chat_wait_seconds", DEFAULT_CHAT_WAIT_SECONDS)
    try:
        run = await runs.wait(run.id, user.id, wait)
    except UNAVAILABLE_ERRORS as exc:
        log.warning("run %s is stored but waiting for it failed (%s); answering 202", run.id, type(exc).__name__)
    if not run.settled:
        response.status_code = 202
    return chat_answer(run)
