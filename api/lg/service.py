"""The Agent Protocol over the service's own model: a thread IS a conversation (same table,
owner, time to live; its metadata is the conversation's), a run IS a run (same queue,
workers, fencing, events). What a client sets that has no column of its own (the assistant,
run metadata, stream modes, multitask strategy) is kept in `run_protocol_options`.

Starting a run takes the conversation's row lock, so the multitask check ("is a run pending or
running?") and the insert are one decision: two clients racing on one thread cannot both pass
`reject`. An answer (`command={"resume": ...}`) goes through the same insert as
POST /runs/{id}/resume: one continuation per question, enforced by the database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import TypeAdapter, ValidationError

from api.lg.reader import NAVIGATOR_GRAPH, RunStates, readers, thread_config
from api.lg.stream import RunStream
from api.protocol.assistants import ASSISTANTS, CASE, NAVIGATOR, Assistant
from api.protocol.events import Position, error_payload
from api.protocol.inputs import resume_value, stream_modes, user_message
from api.protocol.serialize import to_jsonable
from api.protocol.shapes import RUN_STATUS, run_out, select_fields, state_interrupts, state_out, thread_out
from api.schemas import MessageText, ResumeAnswer
from db.connection import as_uuid
from db.conversations import Conversation, ConversationService, lock_owned, merge_metadata, thread_graph
from db.errors import Conflict, NotFound
from db.protocol import ProtocolStore, RunOptions, ThreadRow, insert_run_options, thread_status
from db.runs.model import Run
from db.runs.service import RunService, insert_message_run, insert_resume_run, message_input, resume_input

IN_FLIGHT = ("pending", "running")
MESSAGE = TypeAdapter(MessageText)
ANSWER = TypeAdapter(ResumeAnswer)


class Unsupported(ValueError):
    """A feature of the protocol this server does not offer (answered 422 with the reason)."""


@dataclass(frozen=True)
class RunRequest:
    """A run as a client asked for it, checked (see api.protocol.inputs)."""

    assistant: Assistant
    text: str | None = None
    answer: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    stream_mode: list[str] = field(default_factory=lambda: ["values"])
    multitask_strategy: str = "reject"

    @classmethod
    def parse(cls, assistant: Assistant, *, input: Any, command: Mapping[str, Any] | None,
              metadata: Mapping[str, Any] | None, stream_mode: Any, multitask_strategy: str | None) -> RunRequest:
        if assistant.graph_id == CASE.graph_id:
            raise Conflict("the case assistant's runs come from a case's events and timers: open a case with "
                           "POST /cases and tell it what happened with POST /cases/{id}/events")
        modes = stream_modes(stream_mode)
        if command:
            if input:
                raise ValueError("send either input (a new message) or command.resume (an answer), not both")
            return cls(assistant, answer=_validated(ANSWER, resume_value(command), "command.resume"),
                       metadata=dict(metadata or {}), stream_mode=modes,
                       multitask_strategy=multitask_strategy or "reject")
        if input is None:
            raise ValueError('input is required: {"messages": [{"role": "user", "content": "..."}]} '
                             '(or command.resume to answer a question)')
        return cls(assistant, text=_validated(MESSAGE, user_message(input), "input.messages[0].content"),
                   metadata=dict(metadata or {}), stream_mode=modes,
                   multitask_strategy=multitask_strategy or "reject")


def _validated(adapter: TypeAdapter[Any], value: Any, where: str) -> Any:
    """Through the same checks (and SSN/card masking) as the service's own API."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise ValueError(f"{where}: {exc.errors()[0]['msg']}") from None


class AgentProtocol:
    def __init__(self, pool: asyncpg.Pool, conversations: ConversationService, runs: RunService, *,
                 checkpoint_pool: asyncpg.Pool | None = None) -> None:
        self.pool = pool
        self.conversations = conversations
        self.runs = runs
        self.store = ProtocolStore(pool)
        # A case's thread (graph `case`) is read with the case graph, a conversation with the navigator's.
        # The checkpointer batches reads of concurrent requests into one transaction, so it reads
        # on the owner's pool (`checkpoint_pool`), after the thread's ownership was checked here.
        self.readers = readers(checkpoint_pool or pool)
        self.graph = self.readers[NAVIGATOR_GRAPH]

    def reader(self, graph_id: str) -> Any:
        return self.readers.get(graph_id, self.graph)

    async def graph_of(self, run: Run) -> str:
        return await thread_graph(self.pool, run.conversation_id) or NAVIGATOR_GRAPH

    @staticmethod
    def assistant_of(graph_id: str) -> Assistant:
        return next((a for a in ASSISTANTS if a.graph_id == graph_id), NAVIGATOR)

    # --- threads -----------------------------------------------------------------------

    async def create_thread(self, user_id: uuid.UUID, *, thread_id: uuid.UUID | None, metadata: Mapping[str, Any],
                            if_exists: str, ttl_minutes: int | None) -> dict[str, Any]:
        created = await self.conversations.create_with_id(user_id, thread_id or uuid.uuid4(), None, dict(metadata),
                                                          ttl_minutes)
        if created is not None:
            return await self.thread(user_id, created.id)
        if if_exists == "do_nothing":
            try:
                return await self.thread(user_id, thread_id)
            except NotFound:
                pass
        raise Conflict(f"thread {thread_id} already exists", thread_id)

    async def thread(self, user_id: uuid.UUID, thread_id: object, *, with_values: bool = True) -> dict[str, Any]:
        conversation = await self.conversations.thread(thread_id, user_id)
        status = await thread_status(self.pool, conversation.id, user_id)
        snapshot = await self._state(conversation.id, graph_id=conversation.graph_id) if with_values else None
        return self._thread_out(conversation, status, snapshot)

    async def update_thread(self, user_id: uuid.UUID, thread_id: object, metadata: Mapping[str, Any],
                            ttl_minutes: int | None) -> dict[str, Any]:
        if (await self.conversations.thread(thread_id, user_id)).graph_id == CASE.graph_id:
            raise Conflict(f"thread {thread_id} is a case's: it lives as long as the case (DELETE /cases/{{id}})",
                           thread_id)
        if ttl_minutes is not None:
            await self.conversations.extend(thread_id, user_id, max(1, -(-ttl_minutes // 60)))
        if metadata:
            await self.conversations.update_metadata(thread_id, user_id, metadata)
        return await self.thread(user_id, thread_id)

    async def search_threads(self, user_id: uuid.UUID, *, metadata: Mapping[str, Any] | None,
                             ids: Sequence[uuid.UUID] | None, status: str | None, sort_by: str, sort_order: str,
                             limit: int, offset: int, select: Sequence[str] | None) -> list[dict[str, Any]]:
        rows = await self.store.search_threads(user_id, metadata=metadata, ids=ids, status=status, sort_by=sort_by,
                                               sort_order=sort_order, limit=limit, offset=offset)
        with_values = not select or "values" in select or "interrupts" in select
        found = []
        for row in rows:
            snapshot = await self._state(row.id, graph_id=row.graph_id) if with_values else None
            found.append(select_fields(self._thread_out(row, row.status, snapshot), select))
        return found

    async def copy_thread(self, user_id: uuid.UUID, thread_id: object) -> dict[str, Any]:
        copied = await self.conversations.copy(thread_id, user_id)
        return await self.thread(user_id, copied.id)

    async def state(self, user_id: uuid.UUID, thread_id: object, checkpoint_id: str | None = None) -> dict[str, Any]:
        conversation = await self.conversations.thread(thread_id, user_id)
        snapshot = await self._state(conversation.id, checkpoint_id, graph_id=conversation.graph_id)
        if checkpoint_id is not None and snapshot.config is None:
            raise NotFound("checkpoint", checkpoint_id)
        return state_out(str(conversation.id), snapshot)

    async def history(self, user_id: uuid.UUID, thread_id: object, *, limit: int, before: str | None,
                      checkpoint_id: str | None, metadata: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        conversation = await self.conversations.thread(thread_id, user_id)
        before_config = thread_config(conversation.id, before) if before else None
        states = []
        reader = self.reader(conversation.graph_id)
        async for snapshot in reader.aget_state_history(thread_config(conversation.id, checkpoint_id),
                                                        limit=limit, before=before_config,
                                                        filter=dict(metadata) if metadata else None):
            states.append(state_out(str(conversation.id), snapshot))
        return states

    async def _state(self, thread_id: uuid.UUID, checkpoint_id: str | None = None, *,
                     graph_id: str = NAVIGATOR_GRAPH) -> Any:
        return await self.reader(graph_id).aget_state(thread_config(thread_id, checkpoint_id))

    @staticmethod
    def _thread_out(thread: Conversation | ThreadRow, status: str, snapshot: Any) -> dict[str, Any]:
        return thread_out(thread.id, created_at=thread.created_at, updated_at=thread.updated_at,
                          metadata=thread.metadata, status=status, snapshot=snapshot, expires_at=thread.expires_at)

    # --- runs ----------------------------------------------------------------------------

    async def start_run(self, user_id: uuid.UUID, thread_id: uuid.UUID | None, request: RunRequest, *,
                        create_thread: bool = False) -> Run:
        """Queue a run (a message, or the answer to the waiting question) on the thread: a new
        thread when `thread_id` is None, or when it does not exist yet and `create_thread`. A case's
        thread takes no runs from here: its runs come from its events and timers."""
        if thread_id is not None and await self._is_case(user_id, thread_id):
            raise Conflict(f"thread {thread_id} is a case's: tell the case what happened with POST /cases/"
                           f"{thread_id}/events", thread_id)
        if thread_id is None:
            thread_id = (await self.conversations.create(user_id)).id
        elif create_thread:
            # None when the id exists: whose it is, the ownership check below says.
            await self.conversations.create_with_id(user_id, thread_id)
        assistant = request.assistant
        tags = {"graph_id": assistant.graph_id, "assistant_id": str(assistant.assistant_id)}
        async with self.pool.acquire() as con, con.transaction():
            conversation = await lock_owned(con, thread_id, user_id)
            if request.text is not None:
                await self._check_multitask(con, conversation, user_id, request.multitask_strategy)
            if any(conversation.metadata.get(key) != value for key, value in tags.items()):
                await merge_metadata(con, conversation.id, user_id, tags)
            if request.text is not None:
                run = await insert_message_run(con, user_id, conversation.id, message_input(request.text))
            else:
                waiting = await self.runs.latest(conversation.id, user_id)
                if waiting is None or waiting.status != "interrupted":
                    raise Conflict(f"thread {conversation.id} has no question waiting for an answer; "
                                   "send input with a message instead", conversation.id)
                run = await insert_resume_run(con, waiting.id, user_id, resume_input(request.answer))
            await insert_run_options(con, RunOptions(run.id, assistant.assistant_id, request.metadata,
                                                     request.stream_mode, request.multitask_strategy))
        return run

    async def _is_case(self, user_id: uuid.UUID, thread_id: object) -> bool:
        """Whether the thread is one of this user's cases (another's thread is none of theirs to know)."""
        try:
            return (await self.conversations.thread(thread_id, user_id)).graph_id == CASE.graph_id
        except NotFound:
            return False

    async def _check_multitask(self, con: Any, conversation: Conversation, user_id: uuid.UUID,
                               strategy: str) -> None:
        if strategy == "enqueue" or await thread_status(con, conversation.id, user_id) != "busy":
            return
        if strategy == "reject":
            raise Conflict(f"thread {conversation.id} is busy with another run; wait for it, or send "
                           "multitask_strategy='enqueue' to run this one after it", conversation.id)
        raise Unsupported(f"multitask_strategy {strategy!r} would stop the run in progress, which this server "
                          "does not do; use 'reject' or 'enqueue' (or cancel the run first)")

    async def owned_run(self, user_id: uuid.UUID, thread_id: object, run_id: object) -> Run:
        """The run, if it is the user's and belongs to this thread (NotFound otherwise)."""
        run = await self.runs.get(run_id, user_id)
        if run.conversation_id != as_uuid(thread_id):
            raise NotFound("run", run_id)
        return run

    async def run_json(self, run: Run) -> dict[str, Any]:
        options = (await self.store.run_options([run.id])).get(run.id)
        return run_out(run, options, self.assistant_of(await self.graph_of(run)).assistant_id)

    async def list_runs(self, user_id: uuid.UUID, thread_id: object, *, limit: int, offset: int,
                        status: str | None, select: Sequence[str] | None) -> list[dict[str, Any]]:
        thread = await self.conversations.thread(thread_id, user_id)
        statuses = [ours for ours, theirs in RUN_STATUS.items() if theirs == status] if status else None
        runs = await self.runs.list_for_conversation(thread_id, user_id, limit=limit, offset=offset, statuses=statuses)
        options = await self.store.run_options([run.id for run in runs])
        assistant_id = self.assistant_of(thread.graph_id).assistant_id
        return [select_fields(run_out(run, options.get(run.id), assistant_id), select) for run in runs]

    async def stream_modes_of(self, run: Run, requested: Sequence[str] | None) -> list[str]:
        """The modes a join streams: those asked for, else those the run was created with."""
        if requested:
            return stream_modes(requested)
        options = (await self.store.run_options([run.id])).get(run.id)
        return list(options.stream_mode) if options else ["values"]

    async def stream(self, user_id: uuid.UUID, run: Run, modes: Sequence[str],
                     after: Position | None) -> AsyncIterator[dict[str, str]]:
        """The run's Server-Sent Events from its beginning (or after `after`) until it settles."""
        streamer = RunStream(self.pool, self.reader(await self.graph_of(run)), run, modes)
        async for message in streamer.sse(self.runs.stream_events(run.id, user_id), after):
            yield message

    async def final_values(self, run: Run) -> dict[str, Any]:
        """What wait and join answer: the values the run ended with (with "__interrupt__" when it
        asks a question), or {"__error__": {...}} when it failed."""
        if run.status == "error":
            return {"__error__": error_payload(run.error)}
        final = await RunStates(self.pool, self.reader(await self.graph_of(run)), run).final()
        values: dict[str, Any] = to_jsonable(final.values or {})
        interrupts = state_interrupts(final)
        if interrupts:
            values["__interrupt__"] = interrupts
        return values
