"""The run executor loop: claim runs, hold their leases, wake on NOTIFY, back off, drain.

`RunExecutor` runs N executors in one process (the API's lifespan, or
`navigator worker`). Each claims a run (FOR UPDATE SKIP LOCKED), holds its
lease with a heartbeat every third of RUN_LEASE_SECONDS, and hands it to the
`RunOne` callable the application gives it (the graph runner), which executes
that one run. What the executor does around it:

- a lost database connection pauses the run; the executor waits with backoff
  and calls `RunOne` again, which continues from the last checkpoint;
- a lost lease (another worker owns the run now) drops the run;
- a cancel (seen by the fence or the heartbeat) stops the run at its next step
  boundary and ends it `cancelled`;
- `stop()` (SIGTERM) claims nothing more, lets each run finish its current
  step and hands it back to the queue (`released`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from db.errors import Unavailable
from db.pool import CONNECTION_ERRORS, connect
from db.runs.fence import RunFence
from db.runs.lease import RunLease
from db.runs.model import LeaseLost, Run
from db.runs.notify import RUNS_CHANNEL
from db.runs.queue import claim_run, finish_run, heartbeat, release_run
from db.settings import Settings

log = logging.getLogger(__name__)

# Executes one claimed run to its end, or until `lease.halt` stops it at a step boundary.
RunOne = Callable[[RunLease], Awaitable[None]]

# What a lost database looks like from here (pool or dedicated connection).
DATABASE_GONE: tuple[type[BaseException], ...] = CONNECTION_ERRORS + (Unavailable,)
# Not a failure of the run: the executor handles these (drop the run, or wait for the database).
NOT_RUN_FAILURES: tuple[type[BaseException], ...] = (LeaseLost, *DATABASE_GONE)
BACKOFF_START_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 5.0
IDLE_POLL_SECONDS = 1.0
LISTEN_PING_SECONDS = 5.0


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Backoff:
    """Exponential delays for reconnecting: 0.1 s doubling up to 5 s."""

    def __init__(self) -> None:
        self.delay = BACKOFF_START_SECONDS

    def next(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, BACKOFF_MAX_SECONDS)
        return delay

    def reset(self) -> None:
        self.delay = BACKOFF_START_SECONDS


class RunExecutor:
    """N run executors sharing one `RunOne`, one asyncpg pool, one fence and one LISTEN connection."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, run_one: RunOne, fence: RunFence, *,
                 concurrency: int | None = None, worker_id: str | None = None, dsn: str | None = None,
                 poll_seconds: float = IDLE_POLL_SECONDS) -> None:
        self.pool = pool
        self.settings = settings
        self.run_one = run_one
        self.fence = fence
        self.concurrency = concurrency if concurrency is not None else settings.worker_concurrency
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.worker_id = worker_id or new_worker_id()
        self.lease_seconds = settings.run_lease_seconds
        self.max_attempts = settings.run_max_attempts
        self.poll_seconds = min(poll_seconds, self.lease_seconds / 3)
        self._dsn = dsn
        self._leases: dict[uuid.UUID, RunLease] = {}
        self._wake = [asyncio.Event() for _ in range(self.concurrency)]
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def active_runs(self) -> list[uuid.UUID]:
        return list(self._leases)

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The LISTEN task and the executors (tests cancel them to simulate a crash)."""
        return list(self._tasks)

    async def start(self) -> None:
        """Start the executors and the LISTEN connection."""
        self._tasks = [asyncio.create_task(self._listen(), name="runs-listen")]
        self._tasks += [asyncio.create_task(self._executor(i), name=f"runs-executor-{i}")
                        for i in range(self.concurrency)]
        log.info("worker %s started %d executors", self.worker_id, self.concurrency)

    async def stop(self, drain_seconds: float | None = None) -> None:
        """Drain: claim nothing more, let each run finish its current step, release it, return.
        After `drain_seconds` the executors are cancelled (their leases then expire)."""
        self._stopping = True
        for lease in self._leases.values():
            lease.stop("shutdown")
        self._wake_all()
        executors = self._tasks[1:]
        if executors:
            _, pending = await asyncio.wait(executors, timeout=drain_seconds)
            for task in pending:
                task.cancel()
        for task in self._tasks[:1]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def _wake_all(self, *_args: object) -> None:
        for wake in self._wake:
            wake.set()

    # --- executors -------------------------------------------------------------------

    async def _executor(self, index: int) -> None:
        backoff = Backoff()
        wake = self._wake[index]
        while not self._stopping:
            wake.clear()
            try:
                run = await claim_run(self.pool, self.worker_id, self.lease_seconds, self.max_attempts)
            except Exception as exc:
                # The database away, or any other failure of the claim (a statement
                # timeout, a migration in progress): back off, never end the executor.
                delay = backoff.next()
                log.warning("worker %s: claim failed (%s); retrying in %.1fs",
                            self.worker_id, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if run is None:
                try:
                    await asyncio.wait_for(wake.wait(), self.poll_seconds)
                except TimeoutError:
                    pass
                continue
            if run.status != "running":
                log.warning("run %s ended at claim: %s %s", run.id, run.status, run.error or "")
                continue
            try:
                await self._execute(run)
            except Exception:
                # Never let one run end this executor: its lease expires and the claim logic
                # retries it (up to RUN_MAX_ATTEMPTS) while this executor serves the queue.
                log.exception("run %s attempt %d: executor error", run.id, run.attempt)

    async def _execute(self, run: Run) -> None:
        lease = RunLease(self.pool, run, steps=run.steps)
        if self._stopping:
            lease.stop("shutdown")
        self._leases[run.id] = lease
        beating = asyncio.create_task(self._heartbeat(lease))
        try:
            with self.fence.holding(lease):
                while True:
                    try:
                        await self.run_one(lease)
                        await self._halted(lease)
                        return
                    except DATABASE_GONE as exc:
                        log.warning("run %s attempt %d: database connection lost (%s); waiting for it",
                                    run.id, run.attempt, type(exc).__name__)
                        if not await self._reconnect(lease):
                            return
        except LeaseLost:
            log.warning("run %s attempt %d: lease lost; its late write was rejected, dropping the run",
                        run.id, run.attempt)
        finally:
            beating.cancel()
            del self._leases[run.id]

    async def _halted(self, lease: RunLease) -> None:
        """After `RunOne` returned: end or hand back a run it stopped at a step boundary."""
        run = lease.run
        if lease.finished or lease.halt is None:
            return
        if lease.halt == "cancel":
            await finish_run(self.pool, run, "error", error="cancelled")  # stored as cancelled
            lease.finished = True
        elif lease.halt == "shutdown":
            if await release_run(self.pool, run):
                log.info("run %s attempt %d released at a step boundary", run.id, run.attempt)
        else:
            raise LeaseLost(run.id, run.attempt)

    async def _reconnect(self, lease: RunLease) -> bool:
        """Wait for the database with backoff; True when this attempt still owns the run."""
        backoff = Backoff()
        run = lease.run
        while True:
            await asyncio.sleep(backoff.next())
            try:
                state = await heartbeat(self.pool, run.id, run.attempt, self.lease_seconds)
            except DATABASE_GONE:
                continue
            except LeaseLost:
                log.warning("run %s attempt %d: lease lost while the database was away", run.id, run.attempt)
                return False
            lease.steps = state.steps
            if state.cancel_requested:
                lease.stop("cancel")
            return True

    async def _heartbeat(self, lease: RunLease) -> None:
        run = lease.run
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                state = await heartbeat(self.pool, run.id, run.attempt, self.lease_seconds)
            except LeaseLost:
                log.warning("run %s attempt %d: lease lost (another worker owns it now)", run.id, run.attempt)
                lease.stop("lease_lost")
                return
            except DATABASE_GONE:
                continue
            if state.cancel_requested:
                lease.stop("cancel")

    # --- wake-ups ----------------------------------------------------------------------

    async def _listen(self) -> None:
        """LISTEN on a dedicated connection; reconnect with backoff. Polling covers the gaps."""
        backoff = Backoff()
        while not self._stopping:
            con: asyncpg.Connection | None = None
            try:
                con = await connect(self.settings, self._dsn)
                lost = asyncio.Event()
                con.add_termination_listener(lambda _con, lost=lost: lost.set())
                await con.add_listener(RUNS_CHANNEL, self._wake_all)
                backoff.reset()
                self._wake_all()  # anything queued while we were not listening
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), LISTEN_PING_SECONDS)
                    except TimeoutError:
                        await con.execute("SELECT 1")  # notice a silently dead connection
            except DATABASE_GONE:
                await asyncio.sleep(backoff.next())
            finally:
                if con is not None:
                    con.terminate()
