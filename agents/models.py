"""Model adapters: the offline model (default) or any OpenAI-compatible server.

Nodes call models through `invoke_structured` / `invoke_text`, which turn a
server that is down, slow or failing into one `ModelUnavailable` error with a
clear reason instead of a hang or a stack of client internals. The error says
whether trying again later may succeed (`retryable`: a 408/409/429/5xx, a
timeout, a refused connection) and how long the server asked to wait
(`retry_after`, from its Retry-After header): the run executor retries those
itself, visibly, so the client library is built without retries for it.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from agents.offline import OfflineChatModel
from agents.usage import ModelCall, call_starting, report, reported_tokens

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 2

M = TypeVar("M", bound=BaseModel)


# HTTP statuses worth another try later: timeout, conflict, rate limit, server errors.
RETRYABLE_STATUSES = frozenset({408, 409, 429})


class ModelUnavailable(RuntimeError):
    """The language model could not answer (unreachable, timed out, error status, unusable output)."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


def build_model(
    provider: str,
    *,
    latency_ms: int = 0,
    base_url: str | None = None,
    api_key: str | None = None,
    model_name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_retries: int = DEFAULT_MAX_RETRIES,
    max_concurrency: int | None = None,
) -> BaseChatModel:
    """`offline` (deterministic rules) or `openai` (any OpenAI-compatible server).

    The OpenAI client retries connection errors, 408/409/429 and 5xx with
    exponential backoff (`max_retries`; 0 leaves retrying to the caller), and
    gives up after `timeout` seconds per attempt. `max_concurrency` caps its
    requests in flight (its HTTP connections); the others wait for a free one,
    without a time limit, before their own timeout starts.
    """
    if provider == "offline":
        return OfflineChatModel(latency_ms=latency_ms)
    if provider == "openai":
        import httpx

        ChatOpenAI = _openai_module().ChatOpenAI  # noqa: N806 - a class

        extra: dict[str, Any] = {}
        if max_concurrency is not None:
            limits = httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency)
            extra["http_async_client"] = httpx.AsyncClient(limits=limits)
        return ChatOpenAI(
            model=model_name or "gpt-4o-mini",
            base_url=base_url,
            api_key=api_key or "not-needed",  # type: ignore[arg-type]  # local servers often need none
            timeout=httpx.Timeout(timeout, pool=None),
            max_retries=max_retries,
            temperature=0,
            **extra,
        )
    raise ValueError(f"LLM_PROVIDER must be 'offline' or 'openai', not {provider!r}")


OPENAI_EXTRA_MISSING = ("LLM_PROVIDER=openai (or EMBEDDING_MODEL) needs the `openai` extra, which is not installed: "
                        "pip install 'insurance-navigator[openai]' "
                        "(in a checkout: .venv/bin/pip install -e '.[openai]' -c constraints.txt)")


def _openai_module() -> Any:
    """langchain-openai, installed with the `openai` extra; a clear message when it is not."""
    try:
        import langchain_openai
    except ImportError:
        raise ModelConfigError(OPENAI_EXTRA_MISSING) from None
    return langchain_openai


class ModelConfigError(RuntimeError):
    """The configured model cannot be built here (an extra is missing); the message says what to install."""


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (Retry-After: seconds or an HTTP date; retry-after-ms)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms"):
            return max(float(headers["retry-after-ms"]) / 1000, 0.0)
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(when.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _unavailable(model: BaseChatModel, exc: BaseException) -> ModelUnavailable:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    retryable = ("Timeout" in name or "Connection" in name
                 or (isinstance(status, int) and (status in RETRYABLE_STATUSES or status >= 500)))
    return ModelUnavailable(_describe(model, exc), retryable=retryable, retry_after=_retry_after(exc))
Embed = Callable[[list[str]], Awaitable[list[list[float]]]]


def build_embedder(*, model_name: str, base_url: str | None = None, api_key: str | None = None,
                   timeout: float = DEFAULT_TIMEOUT_SECONDS, max_retries: int = DEFAULT_MAX_RETRIES) -> Embed:
    """Texts to vectors with any OpenAI-compatible `/embeddings` endpoint.

    Raw text is sent (no tiktoken: local servers do not take token ids, and its
    encodings would be downloaded at run time) and floats are asked for, which
    every compatible server returns.
    """
    client = _openai_module().OpenAIEmbeddings(model=model_name, base_url=base_url,
                              api_key=api_key or "not-needed",  # type: ignore[arg-type]
                              timeout=timeout, max_retries=max_retries, check_embedding_ctx_length=False,
                              tiktoken_enabled=False, model_kwargs={"encoding_format": "float"})
    return client.aembed_documents


def _describe(model: BaseChatModel, exc: BaseException) -> str:
    where = getattr(model, "openai_api_base", None) or "the model server"
    name = type(exc).__name__
    if "Timeout" in name:
        return f"language model at {where} timed out (LLM_TIMEOUT_SECONDS)"
    if "Connection" in name:
        return f"language model at {where} is unreachable (OPENAI_BASE_URL)"
    status = getattr(exc, "status_code", None)
    if status is not None:
        return f"language model at {where} answered HTTP {status}"
    return f"language model at {where} failed: {name}"


def _messages(system: str, payload: str) -> list[BaseMessage]:
    return [SystemMessage(content=system), HumanMessage(content=payload)]


def _provider(model: BaseChatModel) -> tuple[str, str]:
    if isinstance(model, OfflineChatModel):
        return "offline", "offline"
    return "openai", str(getattr(model, "model_name", None) or getattr(model, "model", None) or "unknown")


def _error_kind(exc: BaseException) -> str:
    """A short, bounded label for a failed call (metrics group by it)."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return f"http_{status}"
    if "Timeout" in name:
        return "timeout"
    if "Connection" in name:
        return "connection"
    if isinstance(exc, ValidationError | ModelUnavailable):
        return "invalid_output"
    return "other"


def _report(model: BaseChatModel, started: float, message: Any = None, error: BaseException | None = None) -> None:
    provider, name = _provider(model)
    tokens_in, tokens_out = reported_tokens(message)
    report(ModelCall(provider, name, time.perf_counter() - started, tokens_in, tokens_out,
                     None if error is None else _error_kind(error)))


async def invoke_structured(model: BaseChatModel, schema: type[M], system: str, payload: str) -> M:
    call_starting()
    started = time.perf_counter()
    raw: Any = None
    try:
        if isinstance(model, OfflineChatModel):  # local code: call it, not the chat-model machinery
            result: Any = schema.model_validate_json(await model.answer(system, payload))
        else:
            # include_raw keeps the provider's message, whose usage_metadata holds the tokens.
            answer: Any = await model.with_structured_output(schema, include_raw=True).ainvoke(
                _messages(system, payload))
            raw, result = answer["raw"], answer["parsed"]
            if answer.get("parsing_error") is not None or result is None:
                raise ModelUnavailable(f"language model returned output that does not fit {schema.__name__}")
    except ValidationError as exc:
        _report(model, started, raw, exc)
        raise ModelUnavailable(f"language model returned output that does not fit {schema.__name__}: "
                               f"{exc.error_count()} problem(s)") from None
    except ModelUnavailable as exc:
        _report(model, started, raw, exc)
        raise
    except Exception as exc:
        _report(model, started, raw, exc)
        raise _unavailable(model, exc) from exc
    _report(model, started, raw)
    if isinstance(result, dict):
        result = schema.model_validate(result)
    if not isinstance(result, schema):
        raise ModelUnavailable(f"language model returned no {schema.__name__}")
    return result


async def invoke_text(model: BaseChatModel, system: str, payload: str) -> str:
    call_starting()
    started = time.perf_counter()
    try:
        if isinstance(model, OfflineChatModel):  # local code: call it, not the chat-model machinery
            text = await model.answer(system, payload)
            _report(model, started)
            return text
        message = await model.ainvoke(_messages(system, payload))
    except Exception as exc:
        _report(model, started, None, exc)
        raise _unavailable(model, exc) from exc
    _report(model, started, message)
    return str(message.content)
