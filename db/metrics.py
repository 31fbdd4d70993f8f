"""The service's Prometheus metrics, in the bottom layer so every layer can count.

`metrics()` holds the process's counters, gauges and histograms; the run
executor, the graph runner, the HTTP middleware and the model-call observer
update them. What PostgreSQL knows (runs by status, the queue, today's model
usage) is read at scrape time instead (`db/scrape.py`): one truth for every
process, so it is multi-process safe by construction.

Several processes on one machine (`navigator serve` and `navigator worker`s)
share their figures through `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's
multi-process mode: each process writes its own memory-mapped files, and a
scrape of any of them sums them all). `configure()` must run before the first
metric is created; the entry points (serve, worker, the app factory) call it.

For other parts of the service: `record_cleanup_deleted(kind, count)` counts
what the expiry cleanup deleted.
"""

from __future__ import annotations

import atexit
import glob
import os
import re
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.metrics_core import Metric

from db.embedded import pid_alive

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

RUN_SECONDS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
STEP_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
MODEL_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60)
HTTP_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """Every metric this process updates (names are prefixed `navigator_`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        # Runs, as the executor of this process saw them.
        self.runs_claimed = Counter("navigator_runs_claimed", "Runs claimed by this process's executor",
                                    registry=r)
        self.runs_recovered = Counter("navigator_runs_recovered",
                                      "Claims of a run that another attempt had started (its lease expired)",
                                      registry=r)
        self.run_duration = Histogram("navigator_run_duration_seconds",
                                      "One attempt at a run, from its claim to how it left this process",
                                      ["outcome"], buckets=RUN_SECONDS, registry=r)
        self.step_duration = Histogram("navigator_step_duration_seconds", "One node of the graph, start to finish",
                                       ["node"], buckets=STEP_SECONDS, registry=r)
        self.run_retries = Counter("navigator_run_retries", "Pauses of a run after a transient failure",
                                   ["reason"], registry=r)
        self.lease_lost = Counter("navigator_run_leases_lost",
                                  "Runs this process dropped because another worker took their lease", registry=r)
        self.runs_in_flight = Gauge("navigator_executor_runs_in_flight", "Runs held by executors right now",
                                    multiprocess_mode="livesum", registry=r)
        # One series per live process in multi-process mode (a `pid` label): who is executing.
        self.executor_concurrency = Gauge("navigator_executor_concurrency",
                                          "Runs this process's executors may hold at once (WORKER_CONCURRENCY)",
                                          multiprocess_mode="liveall", registry=r)
        # Model calls.
        self.model_call_duration = Histogram("navigator_model_call_duration_seconds", "One call to the model",
                                             ["provider"], buckets=MODEL_SECONDS, registry=r)
        self.model_call_errors = Counter("navigator_model_call_errors", "Model calls that failed",
                                         ["provider", "error"], registry=r)
        self.model_tokens = Counter("navigator_model_tokens", "Tokens the provider reported",
                                    ["provider", "model", "direction"], registry=r)
        # HTTP and streams.
        self.http_requests = Counter("navigator_http_requests", "HTTP requests by route template and status",
                                     ["method", "route", "status"], registry=r)
        self.http_duration = Histogram("navigator_http_request_duration_seconds",
                                       "HTTP request duration by route template", ["method", "route"],
                                       buckets=HTTP_SECONDS, registry=r)
        self.sse_clients = Gauge("navigator_sse_clients", "Event streams open right now",
                                 multiprocess_mode="livesum", registry=r)
        # The connection pool (sampled).
        self.pool_connections = Gauge("navigator_db_pool_connections", "Pooled connections by state",
                                      ["state"], multiprocess_mode="livesum", registry=r)
        self.pool_waiters = Gauge("navigator_db_pool_waiters", "Tasks waiting for a pooled connection",
                                  multiprocess_mode="livesum", registry=r)
        # Housekeeping.
        self.cleanup_deleted = Counter("navigator_cleanup_deleted", "Rows the expiry cleanup deleted",
                                       ["kind"], registry=r)


_registry: CollectorRegistry | None = None
_metrics: Metrics | None = None
_multiproc_dir: Path | None = None


def configure(multiproc_dir: Path | str | None) -> None:
    """Choose single- or multi-process mode before the first metric exists.

    With a directory (PROMETHEUS_MULTIPROC_DIR), this process writes its figures there and a
    scrape sums every process's files. Files of processes that died are pruned of their live
    gauges (their counters stay: totals must not go down); this process prunes its own at exit.
    """
    global _multiproc_dir
    path = Path(multiproc_dir).expanduser().resolve() if multiproc_dir else None
    if _metrics is not None:
        if path != _multiproc_dir:
            raise RuntimeError("metrics already created in another mode; configure() must come first")
        return
    if path is None:
        return
    path.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)
    values.ValueClass = values.MultiProcessValue()
    _multiproc_dir = path
    prune_dead_processes(path)
    atexit.register(multiprocess.mark_process_dead, os.getpid(), str(path))


def prune_dead_processes(path: Path) -> list[int]:
    """Remove the live gauges of processes that are gone (a SIGKILL never said goodbye)."""
    pids = {int(m.group(1)) for f in glob.glob(str(path / "gauge_live*_*.db"))
            if (m := re.search(r"_(\d+)\.db$", f))}
    dead = [pid for pid in pids if not pid_alive(pid)]
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(path))
    return dead


def metrics() -> Metrics:
    """This process's metrics (created on first use, in the mode `configure` chose)."""
    global _metrics, _registry
    if _metrics is None:
        disable_created_metrics()  # the `_created` series double a scrape's size and say little here
        _registry = CollectorRegistry()
        if _multiproc_dir is None:
            ProcessCollector(registry=_registry)
        _metrics = Metrics(_registry)
    return _metrics


def multiprocess_dir() -> Path | None:
    return _multiproc_dir


def render(extra: Iterable[Metric] = ()) -> bytes:
    """The text exposition: this process's metrics (every process's in multi-process mode),
    followed by `extra` (the figures read from PostgreSQL for this scrape)."""
    metrics()
    if _multiproc_dir is not None:
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected, str(_multiproc_dir))
    else:
        assert _registry is not None
        collected = _registry
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Families(list(extra)))
    return generate_latest(collected) + generate_latest(snapshot)


class _Families:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def record_cleanup_deleted(kind: str, count: int) -> None:
    """For the expiry cleanup: `count` rows of `kind` (conversations, runs, documents...) deleted."""
    if count > 0:
        metrics().cleanup_deleted.labels(kind).inc(count)
