"""POST /chat: one call that creates the conversation when needed, queues the
run, waits for it to settle and answers with the reply or the question."""

from __future__ import annotations

from fastapi import APIRouter, Request

from agents.outcome import RunOutcome
from api.deps import Conversations, CurrentUser, Runs
from api.errors import AUTH_RESPONSES, OWNED_RESPONSES
from api.schemas import ChatRequest, ChatResponse

router = APIRouter(tags=["chat"], responses={**AUTH_RESPONSES, **OWNED_RESPONSES})

DEFAULT_CHAT_WAIT_SECONDS = 120.0
TITLE_CHARS = 80


def title_from(message: str) -> str:
    line = " ".join(message.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


@router.post("/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, user: CurrentUser, conversations: Conversations, runs: Runs,
               request: Request) -> ChatResponse:
    """Answers `reply` on success, `question` when the workflow needs a fact from you (answer it
    with POST /runs/{run_id}/resume). If the run takes longer than the server's wait, `status` is
    still `pending`/`running`: follow GET /runs/{run_id}/events."""
    if body.conversation_id is None:
        conversation_id = (await conversations.create(user.id, title_from(body.message))).id
    else:
        conversation_id = (await conversations.get(body.conversation_id, user.id)).id
    run = await runs.create(user.id, conversation_id, body.message)
    wait = getattr(request.app.state, "chat_wait_seconds", DEFAULT_CHAT_WAIT_SECONDS)
    run = await runs.wait(run.id, user.id, wait)
    outcome = RunOutcome.from_output(run.status, run.output, run.error)
    return ChatResponse(conversation_id=conversation_id, run_id=run.id, status=run.status, reply=outcome.reply,
                        question=outcome.interrupt, error=outcome.error)
