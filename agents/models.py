"""Model adapters: the offline model (default) or any OpenAI-compatible server.

Nodes call models through `invoke_structured` / `invoke_text`, which turn a
server that is down, slow or failing into one `ModelUnavailable` error with a
clear reason instead of a hang or a stack of client internals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from agents.offline import OfflineChatModel

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 2

M = TypeVar("M", bound=BaseModel)


class ModelUnavailable(RuntimeError):
    """The language model could not answer (unreachable, timed out, error status, unusable output)."""


def build_model(
    provider: str,
    *,
    latency_ms: int = 0,
    base_url: str | None = None,
    api_key: str | None = None,
    model_name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> BaseChatModel:
    """`offline` (deterministic rules) or `openai` (any OpenAI-compatible server).

    The OpenAI client retries connection errors, 408/409/429 and 5xx with
    exponential backoff (`max_retries`), and gives up after `timeout` seconds
    per attempt.
    """
    if provider == "offline":
        return OfflineChatModel(latency_ms=latency_ms)
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model_name or "gpt-4o-mini",
            base_url=base_url,
            api_key=api_key or "not-needed",  # type: ignore[arg-type]  # local servers often need none
            timeout=timeout,
            max_retries=max_retries,
            temperature=0,
        )
    raise ValueError(f"LLM_PROVIDER must be 'offline' or 'openai', not {provider!r}")


Embed = Callable[[list[str]], Awaitable[list[list[float]]]]


def build_embedder(*, model_name: str, base_url: str | None = None, api_key: str | None = None,
                   timeout: float = DEFAULT_TIMEOUT_SECONDS, max_retries: int = DEFAULT_MAX_RETRIES) -> Embed:
    """Texts to vectors with any OpenAI-compatible `/embeddings` endpoint.

    Raw text is sent (no tiktoken: local servers do not take token ids, and its
    encodings would be downloaded at run time) and floats are asked for, which
    every compatible server returns.
    """
    from langchain_openai import OpenAIEmbeddings

    client = OpenAIEmbeddings(model=model_name, base_url=base_url,
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


async def invoke_structured(model: BaseChatModel, schema: type[M], system: str, payload: str) -> M:
    try:
        result: Any = await model.with_structured_output(schema).ainvoke(_messages(system, payload))
    except ValidationError as exc:
        raise ModelUnavailable(f"language model returned output that does not fit {schema.__name__}: "
                               f"{exc.error_count()} problem(s)") from None
    except Exception as exc:
        raise ModelUnavailable(_describe(model, exc)) from exc
    if isinstance(result, dict):
        result = schema.model_validate(result)
    if not isinstance(result, schema):
        raise ModelUnavailable(f"language model returned no {schema.__name__}")
    return result


async def invoke_text(model: BaseChatModel, system: str, payload: str) -> str:
    try:
        message = await model.ainvoke(_messages(system, payload))
    except Exception as exc:
        raise ModelUnavailable(_describe(model, exc)) from exc
    return str(message.content)
