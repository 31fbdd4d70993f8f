"""The runs queue against the real database: create, claim, fence, finish, cancel, resume, events."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint

from db.checkpoint import AsyncpgSaver
from db.errors import Conflict, NotFound
from db.runs.fence import RunFence
from db.runs.lease import RunLease
from db.runs.model import LeaseLost, Run
from db.runs.queue import QueueWrites, append_events, claim_run, finish_run, heartbeat, release_run
from db.runs.service import RunService
from tests.utils.factories import NewConversation, NewUser

LEASE = 30.0
ERROR = "__error__"  # the channel of a failed task's error (a special write, in WRITES_IDX_MAP)
MAX_ATTEMPTS = 3
EXPIRE_LEASE = "UPDATE runs SET lease_expires_at = now() - interval '1 second' WHERE id = $1"
EVENTS = "SELECT event, attempt FROM run_events WHERE run_id = $1 ORDER BY id"
MESSAGES = "SELECT role, content FROM conversation_messages WHERE conversation_id = $1 ORDER BY id"


@pytest.fixture
async def service(pool: asyncpg.Pool) -> RunService:
    await pool.execute("DELETE FROM runs")  # claims in this module must see only their own runs
    return RunService(pool)


async def claim(pool: asyncpg.Pool, worker: str = "w1"):
    return await claim_run(pool, worker, LEASE, MAX_ATTEMPTS)


async def fenced_step(pool: asyncpg.Pool, run: Run, nodes: tuple[str, ...] = ("guard",)) -> bool:
    """One checkpoint of `run` (by its attempt) through the saver and its fence, in which `nodes`
    finished; whether it saw a cancel. LeaseLost when the attempt no longer owns the run."""
    fence = RunFence(LEASE)
    lease = RunLease(QueueWrites(pool), run, steps=run.steps)
    checkpoint = empty_checkpoint()
    checkpoint["versions_seen"] = {node: {f"branch:to:{node}": "1"} for node in nodes}
    config: RunnableConfig = {"configurable": {"thread_id": str(run.conversation_id), "checkpoint_ns": "",
                                               "run_id": str(run.id), "attempt": run.attempt}}
    with fence.holding(lease):
        await AsyncpgSaver(pool, fence=fence).aput(config, checkpoint, {"source": "loop", "step": 1, "parents": {}},
                                                   {})
    return lease.halt == "cancel"


async def test_create_logs_created_and_validates(service: RunService, pool: asyncpg.Pool,
                                                 new_user: NewUser, new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    run = await service.create(user, conversation, "my MRI claim was denied")
    assert (run.status, run.attempt, run.input) == ("pending", 0, {"message": "my MRI claim was denied"})
    assert [e.event for e in await service.list_events(run.id, user)] == ["created"]
    with pytest.raises(ValueError):
        await service.create(user, conversation, "   ")
    stranger = await new_user()
    with pytest.raises(NotFound):
        await service.create(stranger, conversation, "hello")
    with pytest.raises(NotFound):
        await service.get(run.id, stranger)
    with pytest.raises(NotFound):
        await service.list_events(run.id, stranger)
    with pytest.raises(NotFound):
        await service.get("not-a-uuid", user)


async def test_idempotency_key_returns_the_existing_run(service: RunService, pool: asyncpg.Pool,
                                                        new_user: NewUser,
                                                        new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    first, second = await asyncio.gather(service.create(user, conversation, "hi", idempotency_key="k1"),
                                         service.create(user, conversation, "hi", idempotency_key="k1"))
    assert first.id == second.id
    assert await pool.fetchval("SELECT count(*) FROM runs WHERE user_id = $1", user) == 1
    with pytest.raises(Conflict):
        await service.create(user, conversation, "something else", idempotency_key="k1")
    other = await new_user()
    other_run = await service.create(other, await new_conversation(other), "hi", idempotency_key="k1")
    assert other_run.id != first.id


async def test_one_running_run_per_conversation_in_order(service: RunService, pool: asyncpg.Pool,
                                                         new_user: NewUser,
                                                         new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    runs = [await service.create(user, conversation, f"message {i}") for i in range(3)]
    first = await claim(pool)
    assert first is not None and first.id == runs[0].id and (first.status, first.attempt) == ("running", 1)
    assert await claim(pool, "w2") is None  # the others wait for their turn
    assert await finish_run(pool, first, "success", output={"reply": "ok"}) == "success"
    second = await claim(pool, "w2")
    assert second is not None and second.id == runs[1].id
    # The database, not Python, refuses a second running run on the conversation.
    with pytest.raises(asyncpg.UniqueViolationError):
        await pool.execute("UPDATE runs SET status = 'running' WHERE id = $1", runs[2].id)


async def test_lost_lease_fences_the_old_attempt(service: RunService, pool: asyncpg.Pool,
                                                 new_user: NewUser, new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    run = await service.create(user, conversation, "hello")
    stale = await claim(pool, "frozen")
    assert stale is not None
    await pool.execute(EXPIRE_LEASE, run.id)
    fresh = await claim(pool, "healthy")
    assert fresh is not None and (fresh.attempt, fresh.lost_attempts) == (2, 1)
    with pytest.raises(LeaseLost):
        await fenced_step(pool, stale)
    assert await fenced_step(pool, fresh) is False
    with pytest.raises(LeaseLost):
        await heartbeat(pool, run.id, stale.attempt, LEASE)
    with pytest.raises(LeaseLost):
        await append_events(pool, run.id, stale.attempt, [("node_started", {"node": "x"})])
    with pytest.raises(LeaseLost):
        await finish_run(pool, stale, "success", output={"reply": "late"},
                         messages=[{"role": "assistant", "content": "late"}])
    assert await finish_run(pool, fresh, "success", output={"reply": "ok"}, events=[("done", {})],
                            messages=[{"role": "assistant", "content": "ok"}]) == "success"
    assert [tuple(r) for r in await pool.fetch(MESSAGES, conversation)] == [("user", "hello"), ("assistant", "ok")]
    events = [tuple(r) for r in await pool.fetch(EVENTS, run.id)]
    assert events == [("created", 0), ("started", 1), ("started", 2), ("node_finished", 2), ("done", 2)]
    ids = [e.id for e in await service.list_events(run.id, user)]
    assert ids == list(range(1, len(events) + 1))


async def test_max_attempts_ends_the_run_in_error(service: RunService, pool: asyncpg.Pool,
                                                  new_user: NewUser, new_conversation: NewConversation) -> None:
    user = await new_user()
    run = await service.create(user, await new_conversation(user), "poison")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = await claim(pool)
        assert claimed is not None and claimed.attempt == attempt
        await pool.execute(EXPIRE_LEASE, run.id)  # the worker died holding it
    ended = await claim(pool)
    assert ended is not None and (ended.status, ended.error) == ("error", "max_attempts_exceeded")
    assert await claim(pool) is None
    final = await service.get(run.id, user)
    assert (final.status, final.lease_expires_at is not None, final.finished_at is not None) == ("error", True, True)
    assert (await service.list_events(run.id, user))[-1].event == "error"


async def test_cancel_pending_now_running_at_step_boundary(service: RunService, pool: asyncpg.Pool,
                                                          new_user: NewUser,
                                                          new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    running = await service.create(user, conversation, "first")
    queued = await service.create(user, conversation, "second")
    claimed = await claim(pool)
    assert claimed is not None and claimed.id == running.id
    assert (await service.cancel(queued.id, user)).status == "cancelled"
    flagged = await service.cancel(running.id, user)
    assert (flagged.status, flagged.cancel_requested) == ("running", True)
    assert await fenced_step(pool, claimed, nodes=()) is True
    # The reply computed after the cancel is never stored.
    assert await finish_run(pool, claimed, "success", output={"reply": "too late"},
                            messages=[{"role": "assistant", "content": "too late"}]) == "cancelled"
    final = await service.get(running.id, user)
    assert (final.status, final.output) == ("cancelled", None)
    # The messages were kept when their runs were created; neither run adds a reply.
    assert [tuple(r) for r in await pool.fetch(MESSAGES, conversation)] == [("user", "first"), ("user", "second")]
    assert (await service.cancel(running.id, user)).status == "cancelled"  # idempotent
    assert await claim(pool) is None  # the cancelled queued run is never claimed


async def test_release_returns_the_run_to_the_queue(service: RunService, pool: asyncpg.Pool,
                                                    new_user: NewUser,
                                                    new_conversation: NewConversation) -> None:
    user = await new_user()
    run = await service.create(user, await new_conversation(user), "hello")
    claimed = await claim(pool)
    assert claimed is not None and await release_run(pool, claimed)
    again = await claim(pool, "w2")
    assert again is not None and (again.id, again.attempt, again.lost_attempts) == (run.id, 2, 0)
    assert not await release_run(pool, claimed)


async def test_double_resume_exactly_one_wins(service: RunService, pool: asyncpg.Pool, new_user: NewUser,
                                              new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    run = await service.create(user, conversation, "my claim was denied")
    claimed = await claim(pool)
    assert claimed is not None
    with pytest.raises(Conflict):
        await service.resume(run.id, user, "too early")
    await finish_run(pool, claimed, "interrupted", output={"question": "Which plan?"},
                     events=[("interrupt", {"question": "Which plan?"})])
    results = await asyncio.gather(*(service.resume(run.id, user, f"answer {i}") for i in range(2)),
                                   return_exceptions=True)
    accepted = [r for r in results if not isinstance(r, BaseException)]
    assert len(accepted) == 1 and sum(isinstance(r, Conflict) for r in results) == 1
    assert (accepted[0].kind, accepted[0].resumes_run_id, accepted[0].status) == ("resume", run.id, "pending")
    with pytest.raises(Conflict):
        await service.resume(run.id, user, "once more")
    with pytest.raises(NotFound):
        await service.resume(run.id, await new_user(), "not yours")


async def test_stream_and_wait_follow_the_run_to_its_end(service: RunService, pool: asyncpg.Pool,
                                                         new_user: NewUser,
                                                         new_conversation: NewConversation) -> None:
    user = await new_user()
    run = await service.create(user, await new_conversation(user), "hello")

    async def collect(after_id: int) -> list[str]:
        return [e.event async for e in service.stream_events(run.id, user, after_id)]

    streaming = asyncio.create_task(collect(0))
    waiting = asyncio.create_task(service.wait(run.id, user, timeout=10))
    resumed_late = asyncio.create_task(collect(1))
    await asyncio.sleep(0.2)
    assert not streaming.done() and not waiting.done()
    claimed = await claim(pool)
    assert claimed is not None
    await fenced_step(pool, claimed)
    await finish_run(pool, claimed, "success", output={"reply": "ok"},
                     events=[("message", {"content": "ok"}), ("done", {})])
    expected = ["created", "started", "node_finished", "message", "done"]
    assert await asyncio.wait_for(streaming, 5) == expected
    assert await asyncio.wait_for(resumed_late, 5) == expected[1:]
    assert (await asyncio.wait_for(waiting, 5)).status == "success"
    assert (await service.wait(run.id, user, timeout=0)).status == "success"
    assert [e.event for e in await service.list_events(run.id, user, after_id=3, limit=1)] == ["message"]


async def test_twenty_claimers_never_share_a_run(service: RunService, pool: asyncpg.Pool,
                                                 settings, migrated_dsn: str,
                                                 new_user: NewUser) -> None:
    """20 claimers on their own connections drain 2,000 pending runs: each claimed exactly once."""
    user = await new_user()
    total = 2000
    conversations = await pool.fetch(
        "INSERT INTO conversations (user_id, expires_at) SELECT $1, now() + interval '1 day' "
        "FROM generate_series(1, $2) RETURNING id", user, total)
    await pool.execute("INSERT INTO runs (conversation_id, user_id, input) "
                       "SELECT id, $1, '{\"message\": \"hi\"}'::jsonb FROM unnest($2::uuid[]) AS id",
                       user, [r["id"] for r in conversations])
    claims: dict[uuid.UUID, list[str]] = {}

    async def claimer(name: str) -> None:
        con = await asyncpg.connect(migrated_dsn)
        try:
            while (run := await claim_run(con, name, LEASE, MAX_ATTEMPTS)) is not None:
                claims.setdefault(run.id, []).append(name)
        finally:
            await con.close()

    await asyncio.gather(*(claimer(f"w{i}") for i in range(20)))
    assert len(claims) == total
    assert all(len(owners) == 1 for owners in claims.values())
    assert len({owner for owners in claims.values() for owner in owners}) > 1
    assert await pool.fetchval("SELECT count(*) FROM runs WHERE status = 'running' AND attempt = 1") == total


async def test_a_run_created_while_its_conversation_is_deleted_is_not_found(
        service: RunService, pool: asyncpg.Pool, new_user: NewUser, new_conversation: NewConversation) -> None:
    user = await new_user()
    conversation = await new_conversation(user)
    async with pool.acquire() as deleter:
        tx = deleter.transaction()
        await tx.start()
        await deleter.execute("DELETE FROM conversations WHERE id = $1", conversation)
        creating = asyncio.create_task(service.create(user, conversation, "hello"))
        await asyncio.sleep(0.3)  # the insert waits on the deleted row's lock
        await tx.commit()
        with pytest.raises(NotFound):
            await creating


async def test_deleting_a_conversation_while_its_run_finishes_does_not_deadlock(
        service: RunService, pool: asyncpg.Pool, new_user: NewUser, new_conversation: NewConversation) -> None:
    from db.conversations import ConversationService, append_messages
    from db.runs.sql import FINISH_RUN

    user = await new_user()
    conversation = await new_conversation(user)
    await service.create(user, conversation, "hello")
    run = await claim(pool)
    assert run is not None
    async with pool.acquire() as worker, worker.transaction():
        # finish_run's order: the run row first, then the conversation (its messages).
        assert await worker.fetchval(FINISH_RUN, run.id, run.attempt, "success", {"reply": "hi"}, None,
                                     ["done"], ["{}"], [], [], [], []) == "success"
        deleting = asyncio.create_task(ConversationService(pool).delete(conversation, user))
        await asyncio.sleep(0.3)  # the delete is waiting for a lock now
        await append_messages(worker, conversation, user, [{"role": "assistant", "content": "hi"}])
    await deleting  # neither side is chosen as a deadlock victim
    assert await pool.fetchval("SELECT count(*) FROM runs WHERE id = $1", run.id) == 0


async def test_pending_writes_of_a_stale_attempt_are_refused(service: RunService, pool: asyncpg.Pool,
                                                             new_user: NewUser,
                                                             new_conversation: NewConversation) -> None:
    """A frozen worker's task writes, saved between checkpoints, are fenced like its checkpoints."""
    user = await new_user()
    conversation = await new_conversation(user)
    run = await service.create(user, conversation, "hello")
    stale = await claim(pool, "frozen")
    assert stale is not None
    saver = AsyncpgSaver(pool, fence=RunFence(LEASE))

    def config(attempt: int) -> RunnableConfig:
        return {"configurable": {"thread_id": str(conversation), "checkpoint_ns": "", "checkpoint_id": "c-1",
                                 "run_id": str(run.id), "attempt": attempt}}

    await saver.aput_writes(config(stale.attempt), [("answer", "from the first owner")], "task-a")
    await saver.aget_tuple(config(stale.attempt))  # a read sends the writes that wait for a checkpoint
    await pool.execute(EXPIRE_LEASE, run.id)
    fresh = await claim(pool, "healthy")
    assert fresh is not None and fresh.attempt == stale.attempt + 1
    await saver.aput_writes(config(stale.attempt), [("answer", "late")], "task-b")
    with pytest.raises(LeaseLost):  # they reach the database fenced, and are refused
        await saver.aget_tuple(config(stale.attempt))
    with pytest.raises(LeaseLost):  # an error write goes at once, fenced the same way
        await saver.aput_writes(config(stale.attempt), [(ERROR, "late failure")], "task-d")
    await saver.aput_writes(config(fresh.attempt), [("answer", "from the new owner")], "task-c")
    await saver.aget_tuple(config(fresh.attempt))
    tasks = await pool.fetch("SELECT task_id FROM checkpoint_writes WHERE thread_id = $1 ORDER BY task_id",
                             str(conversation))
    assert [t["task_id"] for t in tasks] == ["task-a", "task-c"]
