"""What each model call cost: provider, model, time, and tokens when the provider reports them.

`agents.models` reports every call it makes to the observers that are
listening: the ones installed for the whole process (the application's
metrics) and the ones a caller listens with around a piece of work
(`listening(meter)`: the graph runner meters one run, so its answer can record
what it cost). The scope is a context variable, so the calls of one run are
counted by that run's meter only, whatever else the process runs meanwhile.
`agents` knows nothing of where the figures go.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelCall:
    provider: str  # "offline" or "openai"
    model: str
    seconds: float
    input_tokens: int | None = None  # None: the provider did not say
    output_tokens: int | None = None
    error: str | None = None  # None when it answered; else a short kind ("timeout", "http_429", ...)


CallObserver = Callable[[ModelCall], object]

_process_observers: list[CallObserver] = []
_scoped_observers: contextvars.ContextVar[tuple[CallObserver, ...]] = contextvars.ContextVar(
    "model_call_observers", default=())


def observe_process(observer: CallObserver) -> None:
    """Report every call of this process to `observer` (once, however often it is installed)."""
    if observer not in _process_observers:
        _process_observers.append(observer)


@contextmanager
def listening(observer: CallObserver) -> Iterator[None]:
    """Report the calls made inside this block (and the tasks it starts) to `observer` as well."""
    token = _scoped_observers.set((*_scoped_observers.get(), observer))
    try:
        yield
    finally:
        _scoped_observers.reset(token)


_scoped_waits: contextvars.ContextVar[tuple[Callable[[], object], ...]] = contextvars.ContextVar(
    "model_call_waits", default=())


@contextmanager
def on_call_start(callback: Callable[[], object]) -> Iterator[None]:
    """Call `callback` whenever a model call made inside this block (and the tasks it starts) is
    about to wait for its model: the run executor lets another run take its turn then."""
    token = _scoped_waits.set((*_scoped_waits.get(), callback))
    try:
        yield
    finally:
        _scoped_waits.reset(token)


def call_starting() -> None:
    """A model call is about to wait for its model (see `on_call_start`)."""
    for callback in _scoped_waits.get():
        try:
            callback()
        except Exception:  # noqa: S110 - scheduling hints must never break an answer
            pass


def report(call: ModelCall) -> None:
    """Hand one call to every observer; an observer's failure never fails the call."""
    for observer in (*_process_observers, *_scoped_observers.get()):
        try:
            observer(call)
        except Exception:  # noqa: S110 - accounting must never break an answer
            pass


def reported_tokens(message: Any) -> tuple[int | None, int | None]:
    """(input, output) tokens from a LangChain message's `usage_metadata`, None where absent."""
    usage = getattr(message, "usage_metadata", None) or {}
    tokens_in, tokens_out = usage.get("input_tokens"), usage.get("output_tokens")
    return (tokens_in if isinstance(tokens_in, int) else None,
            tokens_out if isinstance(tokens_out, int) else None)


class UsageMeter:
    """Adds up the calls of one piece of work (a run) for the message that records its cost."""

    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.seconds = 0.0
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.provider: str | None = None
        self.model: str | None = None

    def __call__(self, call: ModelCall) -> None:
        self.calls += 1
        self.errors += call.error is not None
        self.seconds += call.seconds
        self.provider, self.model = call.provider, call.model
        if call.input_tokens is not None:
            self.input_tokens = (self.input_tokens or 0) + call.input_tokens
        if call.output_tokens is not None:
            self.output_tokens = (self.output_tokens or 0) + call.output_tokens

    def summary(self) -> dict[str, Any] | None:
        """`{provider, model, calls, errors, input_tokens, output_tokens, latency_ms}`, or None without
        calls (db/usage.py sums each field into the day's row)."""
        if not self.calls:
            return None
        return {"provider": self.provider, "model": self.model, "calls": self.calls, "errors": self.errors,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "latency_ms": round(self.seconds * 1000)}
