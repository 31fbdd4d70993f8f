"""Task writes that wait for their checkpoint are never lost to a passing failure."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from db.checkpoint.waiting import TaskWrites, WaitingWrites
from db.errors import Conflict

KEY = ("thread-1", "")


def writes(task_id: str) -> TaskWrites:
    return TaskWrites(config={}, checkpoint_id="c1", task_id=task_id, task_path="", idxs=[0],
                      channels=["messages"], types=["msgpack"], blobs=[b"x"])


async def test_writes_that_cannot_go_alone_keep_waiting_for_their_checkpoint() -> None:
    failures: list[int] = []

    async def send(items: Sequence[TaskWrites]) -> None:
        failures.append(len(items))
        raise OSError("database away")

    waiting = WaitingWrites(send, linger_seconds=0.02)
    waiting.add(KEY, writes("a"))
    async def failed_three_times_and_back() -> None:
        # A sweep may have taken the writes and not yet run its send: wait until they are back.
        while len(failures) < 3 or not waiting:
            await asyncio.sleep(0.005)

    await asyncio.wait_for(failed_three_times_and_back(), timeout=5)
    carried = waiting.take(KEY)  # what the thread's next checkpoint writes
    assert [item.task_id for item in carried] == ["a"]


async def test_writes_the_fence_refuses_are_dropped() -> None:
    async def send(items: Sequence[TaskWrites]) -> None:
        raise Conflict("run no longer ours", "run-1")

    waiting = WaitingWrites(send, linger_seconds=0.02)
    waiting.add(KEY, writes("a"))
    await asyncio.sleep(0.1)
    assert not waiting
    assert waiting.take(KEY) == []


async def test_writes_of_a_saver_whose_pool_closed_are_dropped_not_retried_forever() -> None:
    sends: list[int] = []
    closed = False

    async def send(items: Sequence[TaskWrites]) -> None:
        sends.append(len(items))
        raise OSError("pool is closing")

    waiting = WaitingWrites(send, linger_seconds=0.02, closed=lambda: closed)
    waiting.add(KEY, writes("a"))
    while len(sends) < 2:  # a passing failure: kept and tried again
        await asyncio.sleep(0.005)
    closed = True
    await asyncio.sleep(0.1)
    assert not waiting and len(sends) <= 3
