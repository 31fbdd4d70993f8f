"""The run executor loop: claim runs, hold their leases, wake on NOTIFY, retry, drain.

`RunExecutor` holds up to WORKER_CONCURRENCY runs in one process (the API's
lifespan, or `navigator worker`) and hands each to the `RunOne` callable the
application gives it (the graph runner), which executes that one run. A run
in flight holds no database connection: each of its writes borrows one from
the pool for one statement, so the number of runs is independent of the
pool's size, and a full pool makes a step wait, never fail. Around `RunOne`:

- one claim loop takes runs in batches (FOR UPDATE SKIP LOCKED), woken by
  NOTIFY when a run is queued or ends, polling otherwise;
- one heartbeat extends every lease the process holds in a single statement
  every third of RUN_LEASE_SECONDS, and passes a cancel or a lost lease on;
- a transient failure (the database away or full, a lost race, a model's
  429/5xx/timeout raised as `RetryLater`) pauses the run with bounded,
  logged backoff, logs a `retry` event and runs it again from its last
  checkpoint; a lost lease drops the run; anything else is the run's error,
  which the graph runner ends it with;
- a run whose step takes longer than RUN_STEP_TIMEOUT_SECONDS is stopped and
  its lease expired, so it is claimed again like a run whose worker died;
- `stop()` (SIGTERM) claims nothing more, lets each run finish its current
  step and hands it back to the queue (`released`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from db.batch import BatchStats
from db.errors import Unavailable
from db.metrics import metrics
from db.pool import BUSY_ERRORS, CONNECTION_ERRORS
from db.runs.fence import RunFence
from db.runs.lease import RunLease
from db.runs.model import LeaseLost, Run
from db.runs.notify import listen_for_runs
from db.runs.queue import QueueWrites, claim_runs, expire_lease, heartbeat, heartbeat_runs, release_run
from db.settings import Settings

log = logging.getLogger(__name__)

# Executes one claimed run to its end, or until `lease.halt` stops it at a step boundary.
RunOne = Callable[[RunLease], Awaitable[None]]


class RetryLater(Exception):
    """A transient failure outside the database (a model's 429, 5xx or timeout): the run is
    tried again from its last checkpoint after `retry_after` seconds, or a backoff delay."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# What a lost database looks like from here: wait for it, however long, while the lease holds.
DATABASE_GONE: tuple[type[BaseException], ...] = CONNECTION_ERRORS + (Unavailable,)
# Worth another try after a pause, a bounded number of times.
TRANSIENT: tuple[type[BaseException], ...] = BUSY_ERRORS + (RetryLater,)
# Not a failure of the run: the executor handles these (drop the run, or pause and retry it).
NOT_RUN_FAILURES: tuple[type[BaseException], ...] = (LeaseLost, *DATABASE_GONE, *TRANSIENT)

BACKOFF_START_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 5.0
RETRY_START_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0
MAX_RETRY_AFTER_SECONDS = 300.0
# Transient failures one claim of a run survives (about 4 minutes of backoff), then it ends `error`.
MAX_RETRIES = 12
IDLE_POLL_SECONDS = 1.0
CLAIM_BATCH = 256


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Backoff:
    """Exponential delays: `start` doubling up to `limit`."""

    def __init__(self, start: float = BACKOFF_START_SECONDS, limit: float = BACKOFF_MAX_SECONDS) -> None:
        self.start = start
        self.limit = limit
        self.delay = start

    def next(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, self.limit)
        return delay

    def reset(self) -> None:
        self.delay = self.start


def retry_reason(exc: BaseException) -> str:
    """The `reason` label of a retry: the database away or busy, or the model."""
    if isinstance(exc, RetryLater):
        return "model"
    return "database_unavailable" if isinstance(exc, DATABASE_GONE) else "database_busy"


def run_outcome(lease: RunLease) -> str:
    """How an attempt left this process (the `outcome` label of its duration)."""
    if lease.outcome is not None:
        return lease.outcome
    if lease.halt in ("shutdown", "lease_lost"):
        return "released" if lease.halt == "shutdown" else "lease_lost"
    return "abandoned"  # stopped by a step timeout or an executor error: its lease expires


def describe(exc: BaseException) -> str:
    if isinstance(exc, RetryLater):
        return exc.reason
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first_line}".rstrip(": ")[:300]


class RunExecutor:
    """Up to `concurrency` runs at once, sharing one `RunOne`, one pool and one fence."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, run_one: RunOne, fence: RunFence, *,
                 concurrency: int | None = None, worker_id: str | None = None,
                 poll_seconds: float = IDLE_POLL_SECONDS, stats: BatchStats | None = None) -> None:
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
        self.step_timeout = settings.run_step_timeout_seconds
        self.poll_seconds = min(poll_seconds, self.lease_seconds / 3)
        self.writes = QueueWrites(pool, stats)
        self._runs: dict[uuid.UUID, tuple[RunLease, asyncio.Task[None]]] = {}
        self._wake = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._stopping = False
        self._loops: list[asyncio.Task[None]] = []
        self._timeouts: set[asyncio.Task[None]] = set()

    @property
    def active_runs(self) -> list[uuid.UUID]:
        return list(self._runs)

    @property
    def running(self) -> bool:
        """Started and not stopped, and its loops (claim, heartbeat, listen) all alive (for /readyz)."""
        return bool(self._loops) and not self._stopping and not any(task.done() for task in self._loops)

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The loops and the runs in flight (tests cancel them all to simulate a crash)."""
        return [*self._loops, *(task for _, task in self._runs.values())]

    async def start(self) -> None:
        self._loops = [asyncio.create_task(self._claim_loop(), name="runs-claim"),
                       asyncio.create_task(self._heartbeat_loop(), name="runs-heartbeat"),
                       asyncio.create_task(listen_for_runs(self.pool, self.wake), name="runs-listen")]
        metrics().executor_concurrency.inc(self.concurrency)
        log.info("worker %s started (up to %d runs at once)", self.worker_id, self.concurrency)

    def wake(self) -> None:
        """Claim now (a run was queued, or one ended and the next of its conversation may go)."""
        self._wake.set()

    async def stop(self, drain_seconds: float | None = None) -> None:
        """Drain: claim nothing more, let each run finish its current step, release it, return.
        After `drain_seconds` the runs are cancelled (their leases then expire)."""
        self._stopping = True
        for lease, _ in list(self._runs.values()):
            lease.stop("shutdown")
        self._wake.set()
        self._slot_free.set()
        running = [task for _, task in self._runs.values()]
        if running:
            _, pending = await asyncio.wait(running, timeout=drain_seconds)
            for task in pending:
                task.cancel()
        for task in [*self._loops, *self._timeouts]:
            task.cancel()
        await asyncio.gather(*running, *self._loops, *self._timeouts, return_exceptions=True)
        if self._loops:
            metrics().executor_concurrency.dec(self.concurrency)
        self._loops = []

    # --- claiming ----------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        backoff = Backoff()
        while not self._stopping:
            free = self.concurrency - len(self._runs)
            if free <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            self._wake.clear()
            wanted = min(free, CLAIM_BATCH)
            try:
                runs = await claim_runs(self.pool, self.worker_id, self.lease_seconds, self.max_attempts, wanted)
            except Exception as exc:
                # The database away, or any other failure of the claim (a statement
                # timeout, a migration in progress): back off, never end the loop.
                delay = backoff.next()
                log.warning("worker %s: claim failed (%s); retrying in %.1fs",
                            self.worker_id, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            for run, graph in runs:
                if run.status != "running":
                    log.warning("run %s ended at claim: %s %s", run.id, run.status, run.error or "")
                    continue
                self._start_run(run, graph)
            if len(runs) < wanted:  # the queue is empty for now
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                except TimeoutError:
                    pass

    def _start_run(self, run: Run, graph: str | None = None) -> None:
        lease = RunLease(self.writes, run, steps=run.steps, thread_graph=graph)
        if self._stopping:
            lease.stop("shutdown")
        task = asyncio.create_task(self._timed(lease), name=f"run-{run.id}")
        self._runs[run.id] = (lease, task)
        counted = metrics()
        counted.runs_claimed.inc()
        if run.steps > 0 or run.lost_attempts > 0:
            counted.runs_recovered.inc()
        counted.runs_in_flight.inc()
        task.add_done_callback(lambda _task: self._run_done(run.id, task))

    def _run_done(self, run_id: uuid.UUID, task: asyncio.Task[None]) -> None:
        held = self._runs.get(run_id)
        if held is not None and held[1] is task:
            del self._runs[run_id]
            metrics().runs_in_flight.dec()
        self._slot_free.set()
        self._wake.set()  # a conversation's next run may go now

    # --- one run -----------------------------------------------------------------------

    async def _timed(self, lease: RunLease) -> None:
        started = time.monotonic()
        try:
            await self._execute(lease)
        finally:
            outcome = run_outcome(lease)
            metrics().run_duration.labels(outcome).observe(time.monotonic() - started)
            if outcome == "lease_lost":  # however it was found out: a rejected write, the heartbeat, a reconnect
                metrics().lease_lost.inc()

    async def _execute(self, lease: RunLease) -> None:
        run = lease.run
        retries = pauses = 0  # transient failures (bounded), and every pause (numbers the events)
        backoff = Backoff(RETRY_START_SECONDS, RETRY_MAX_SECONDS)
        with self.fence.holding(lease):
            while True:
                try:
                    await self.run_one(lease)
                    await self._halted(lease)
                    return
                except LeaseLost:
                    log.warning("run %s attempt %d: lease lost; its late write was rejected, dropping the run",
                                run.id, run.attempt)
                    lease.outcome = "lease_lost"
                    return
                except DATABASE_GONE as exc:
                    log.warning("run %s attempt %d: database connection lost (%s); waiting for it",
                                run.id, run.attempt, type(exc).__name__)
                    if not await self._reconnect(lease):
                        lease.outcome = "lease_lost"
                        return
                    metrics().run_retries.labels(retry_reason(exc)).inc()
                    pauses += 1
                    await self._log_retry(lease, exc, pauses, 0.0)
                except TRANSIENT as exc:
                    retries += 1
                    metrics().run_retries.labels(retry_reason(exc)).inc()
                    if retries > MAX_RETRIES:
                        await self._give_up(lease, exc, retries - 1)
                        return
                    delay = backoff.next()
                    if isinstance(exc, RetryLater) and exc.retry_after is not None:
                        delay = min(max(exc.retry_after, 0.0), MAX_RETRY_AFTER_SECONDS)  # the provider's word
                    log.warning("run %s attempt %d: %s; retry %d in %.1fs", run.id, run.attempt, describe(exc),
                                retries, delay)
                    pauses += 1
                    logged = await self._log_retry(lease, exc, pauses, delay)
                    await asyncio.sleep(delay)
                    if not logged:  # the database was the trouble: say it now it may be back
                        await self._log_retry(lease, exc, pauses, delay)
                    lease.progress_at = time.monotonic()
                except Exception:
                    # Never let one run end the executor: its lease expires and the claim logic
                    # retries it (up to RUN_MAX_ATTEMPTS) while this process serves the queue.
                    log.exception("run %s attempt %d: executor error", run.id, run.attempt)
                    return

    async def _log_retry(self, lease: RunLease, exc: BaseException, retry: int, delay: float) -> bool:
        """The `retry` event, so a client sees why the run paused. Best effort (the database
        may be the reason): False when it could not be written."""
        lease.progress_at = time.monotonic()
        try:
            await lease.append_events([("retry", {"error": describe(exc), "retry": retry,
                                                  "delay_seconds": round(delay, 3)})])
        except LeaseLost:
            lease.stop("lease_lost")  # the next pass of the run finds it out and drops the run
        except Exception as failure:
            log.info("run %s: retry event not logged (%s)", lease.run.id, type(failure).__name__)
            return False
        return True

    async def _give_up(self, lease: RunLease, exc: BaseException, retries: int) -> None:
        reason = f"{describe(exc)} (gave up after {retries} retries)"[:500]
        log.error("run %s attempt %d: %s", lease.run.id, lease.run.attempt, reason)
        try:
            await lease.finish("error", error=reason, events=[("error", {"error": reason})])
        except Exception as failure:  # its lease will expire and the claim logic takes over
            log.warning("run %s: could not end it (%s)", lease.run.id, type(failure).__name__)

    async def _halted(self, lease: RunLease) -> None:
        """After `RunOne` returned: end or hand back a run it stopped at a step boundary."""
        run = lease.run
        if lease.finished or lease.halt is None:
            return
        if lease.halt == "cancel":
            await lease.finish("error", error="cancelled")  # stored as cancelled
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
            except DATABASE_GONE + BUSY_ERRORS:
                continue
            except LeaseLost:
                log.warning("run %s attempt %d: lease lost while the database was away", run.id, run.attempt)
                return False
            lease.steps = state.steps
            if state.cancel_requested:
                lease.stop("cancel")
            return True

    # --- leases ------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        period = min(self.lease_seconds / 3, self.step_timeout / 4)
        while True:
            await asyncio.sleep(period)
            held = [lease for lease, _ in self._runs.values() if not lease.finished]
            try:
                states = await heartbeat_runs(self.pool, [(lease.run.id, lease.run.attempt) for lease in held],
                                              self.lease_seconds)
            except Exception as exc:  # the database away: the runs notice it themselves
                log.debug("heartbeat failed: %s", type(exc).__name__)
            else:
                for lease in held:
                    state = states.get(lease.run.id)
                    if state is None:
                        if not lease.finished:
                            log.warning("run %s attempt %d: lease lost (another worker owns it now)",
                                        lease.run.id, lease.run.attempt)
                            lease.stop("lease_lost")
                    elif state.cancel_requested:
                        lease.stop("cancel")
            self._time_out_stuck_steps()

    def _time_out_stuck_steps(self) -> None:
        now = time.monotonic()
        for lease, task in list(self._runs.values()):
            if not lease.finished and now - lease.progress_at > self.step_timeout and not task.done():
                lease.finished = True  # nothing more from this attempt
                timeout = asyncio.create_task(self._time_out(lease, task))
                self._timeouts.add(timeout)
                timeout.add_done_callback(self._timeouts.discard)

    async def _time_out(self, lease: RunLease, task: asyncio.Task[None]) -> None:
        run = lease.run
        log.error("run %s attempt %d: no step finished in %.0fs; stopping it to be claimed again",
                  run.id, run.attempt, self.step_timeout)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        data = {"error": f"step timed out after {self.step_timeout:g}s", "reason": "step_timeout"}
        metrics().run_retries.labels("step_timeout").inc()
        backoff = Backoff()
        while True:
            try:
                await expire_lease(self.pool, run, data)
                return
            except DATABASE_GONE + BUSY_ERRORS:
                await asyncio.sleep(backoff.next())  # until then its lease expires by itself
            except Exception:
                log.exception("run %s: could not expire its lease; it expires by itself", run.id)
                return
