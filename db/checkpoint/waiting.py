"""Task writes that wait for their thread's next checkpoint, which carries them in its own
statement: one round trip and one commit per step instead of two.

LangGraph saves a task's writes (`aput_writes`) as the task finishes, then the
step's checkpoint (`aput`) moments later. Regular writes are only needed to
redo a step that did not reach its checkpoint, so they can commit with it: a
crash before that checkpoint loses both, and the step's tasks run again, as
they would have anyway. What must not wait: errors, interrupts and resumes
(the saver sends those at once, with whatever waits for the thread), reads of
the thread (they send what waits first, so a process reads its own writes),
and writes that no checkpoint claims within `linger_seconds` (a sibling task
still running): those go on their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from db.errors import Conflict

log = logging.getLogger(__name__)

ThreadKey = tuple[str, str]  # (thread_id, checkpoint_ns)
DEFAULT_LINGER_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class TaskWrites:
    """One `aput_writes` call, serialized, as it waits."""

    config: Any  # the task's RunnableConfig (its run id and attempt fence the writes)
    checkpoint_id: str
    task_id: str
    task_path: str
    idxs: list[int]
    channels: list[str]
    types: list[str]
    blobs: list[bytes]


def writes_columns(items: Sequence[TaskWrites]) -> list[list[Any]]:
    """The seven arrays a checkpoint statement inserts the waiting writes from."""
    columns: list[list[Any]] = [[], [], [], [], [], [], []]
    for item in items:
        count = len(item.idxs)
        columns[0] += [item.checkpoint_id] * count
        columns[1] += [item.task_id] * count
        columns[2] += [item.task_path] * count
        columns[3] += item.idxs
        columns[4] += item.channels
        columns[5] += item.types
        columns[6] += item.blobs
    return columns


Send = Callable[[Sequence[TaskWrites]], Awaitable[None]]


class WaitingWrites:
    """Per-thread queues of regular task writes. One sweep, every `linger_seconds` while
    anything waits, sends alone what has waited longer than that (one timer, not one per
    thread: a timer per write cost more CPU than the rest of the bookkeeping)."""

    def __init__(self, send: Send, linger_seconds: float = DEFAULT_LINGER_SECONDS,
                 closed: Callable[[], bool] = lambda: False) -> None:
        self._send = send
        self._closed = closed  # true once nothing can be sent any more (the saver's pool is closed)
        self.linger_seconds = linger_seconds
        self._waiting: dict[ThreadKey, list[TaskWrites]] = {}
        self._since: dict[ThreadKey, float] = {}  # when the oldest of the thread's writes came
        self._sweep: asyncio.TimerHandle | None = None
        self._lingering: set[asyncio.Task[None]] = set()

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def add(self, key: ThreadKey, item: TaskWrites) -> None:
        queue = self._waiting.get(key)
        if queue is None:
            loop = asyncio.get_running_loop()
            self._waiting[key] = [item]
            self._since[key] = loop.time()
            if self._sweep is None:
                self._sweep = loop.call_later(self.linger_seconds, self._linger)
        else:
            queue.append(item)

    def take(self, key: ThreadKey) -> list[TaskWrites]:
        """What waits for the thread, now the caller's to write (with a checkpoint). If that
        statement fails, the step fails with it and its tasks run again: nothing is put back."""
        self._since.pop(key, None)
        return self._waiting.pop(key, [])

    def discard(self, key: ThreadKey) -> None:
        self.take(key)

    def keys(self, thread_id: str | None = None) -> list[ThreadKey]:
        return [key for key in self._waiting if thread_id is None or key[0] == thread_id]

    async def flush(self, key: ThreadKey) -> None:
        """Write what waits for the thread now, on its own."""
        items = self.take(key)
        if items:
            await self._send(items)

    async def flush_thread(self, thread_id: str | None = None) -> None:
        """Write what waits for every namespace of the thread (every thread when None)."""
        for key in self.keys(thread_id):
            await self.flush(key)

    def _linger(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweep = None
        cutoff = loop.time() - self.linger_seconds
        for key in [key for key, since in self._since.items() if since <= cutoff]:
            items = self.take(key)
            task = loop.create_task(self._send_lingering(key, items))
            self._lingering.add(task)
            task.add_done_callback(self._lingering.discard)
        if self._waiting:
            self._sweep = loop.call_later(self.linger_seconds, self._linger)

    async def _send_lingering(self, key: ThreadKey, items: list[TaskWrites]) -> None:
        try:
            await self._send(items)
        except Conflict:
            # The fence refused them: this attempt no longer owns the run (its lease was taken
            # over, or the run ended). The owner runs the step again; these writes are not its.
            log.info("task writes of thread %s dropped: the run is no longer this worker's", key[0])
        except Exception as exc:
            if self._closed():
                # The pool is closed: no later sweep could send them either. The run's next
                # attempt (in whichever process takes it over) runs the step again.
                log.info("task writes of thread %s dropped: the checkpointer's pool is closed", key[0])
                return
            # Never dropped for a passing failure: a DeltaChannel's messages live only in these
            # writes, so the thread's next checkpoint (or read, or the next sweep) must carry them.
            log.warning("task writes of thread %s could not be written alone (%s); they wait for its "
                        "next checkpoint", key[0], type(exc).__name__)
            self._waiting[key] = items + self._waiting.get(key, [])
            self._since.setdefault(key, asyncio.get_running_loop().time())
            if self._sweep is None:
                self._sweep = asyncio.get_running_loop().call_later(self.linger_seconds, self._linger)
