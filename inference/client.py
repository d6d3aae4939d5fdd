"""Talking to an OpenAI-compatible chat server through the official openai SDK.

The clients (one keep-alive pool per server and event loop) and complete_chat(), the
blocking call for background workers, which raises InferenceError. Streaming, which
never raises for server trouble, is in stream.py.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import openai
from openai import AsyncOpenAI, OpenAI

from .config import BackendConfig
from .errors import InferenceError, error_from_exception
from .reasoning import split_reasoning
from .tokens import estimate_message_tokens, estimate_tokens

Messages = list[dict[str, Any]]

# -- clients ------------------------------------------------------------------------


def _client_options(config: BackendConfig) -> dict[str, Any]:
    return {
        "base_url": config.base_url,
        "api_key": config.api_key or "not-needed",
        "timeout": httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s),
        "max_retries": 0,  # the caller decides whether and when to retry
    }


def _cache_key(config: BackendConfig) -> tuple[str, str, float, float]:
    return (config.base_url, config.api_key, config.timeout_s, config.connect_timeout_s)


# Idle keep-alive connections are dropped after this long: below the 5 s after which
# uvicorn-based servers (vLLM, the scripted backend) close them, so a turn never sends
# its request down a connection the server is closing at that moment.
KEEPALIVE_EXPIRY_S = 4.0
_ASYNC_LIMITS = httpx2.Limits(
    max_connections=1000, max_keepalive_connections=100, keepalive_expiry=KEEPALIVE_EXPIRY_S
)


def make_async_client(config: BackendConfig) -> AsyncOpenAI:
    """A new AsyncOpenAI client (with its own connection pool) for config; the caller
    owns (and closes) it."""
    http_client = openai.DefaultAsyncHttpxClient(limits=_ASYNC_LIMITS)
    return AsyncOpenAI(**_client_options(config), http_client=http_client)


def make_client(config: BackendConfig) -> OpenAI:
    """A new blocking OpenAI client for config; the caller owns (and closes) it."""
    return OpenAI(**_client_options(config))


# Async clients hold connections bound to the event loop that opened them, so the
# cache is kept per loop; a loop that goes away takes its clients with it.
_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[object, ...], AsyncOpenAI]
]
_async_clients = weakref.WeakKeyDictionary()
_sync_clients: dict[tuple[object, ...], OpenAI] = {}
_sync_lock = threading.Lock()


def get_async_client(config: BackendConfig) -> AsyncOpenAI:
    """Shared AsyncOpenAI client for config on the running loop.

    All configurations with the same base URL share one connection pool (keep-alive
    connections are reused across turns); they differ only in key and timeouts."""
    per_loop = _async_clients.setdefault(asyncio.get_running_loop(), {})
    key = _cache_key(config)
    client = per_loop.get(key)
    if client is None:
        pool = next((c for k, c in per_loop.items() if k[0] == config.base_url), None)
        if pool is None:
            client = make_async_client(config)
        else:
            options = _client_options(config)
            client = pool.with_options(api_key=options["api_key"], timeout=options["timeout"])
        per_loop[key] = client
    return client


def get_client(config: BackendConfig) -> OpenAI:
    """Shared, thread-safe blocking client for config."""
    key = _cache_key(config)
    with _sync_lock:
        if key not in _sync_clients:
            _sync_clients[key] = make_client(config)
        return _sync_clients[key]


# -- request helpers ----------------------------------------------------------------


def _request_kwargs(
    config: BackendConfig, messages: Messages, *, stream: bool, include_usage: bool = False
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": config.model,
        "messages": messages,
        "max_tokens": config.max_tokens,
    }
    if config.temperature is not None:
        kwargs["temperature"] = config.temperature
    if stream:
        kwargs["stream"] = True
        if include_usage:
            kwargs["stream_options"] = {"include_usage": True}
    return kwargs


def _rejects_stream_options(exc: Exception) -> bool:
    """Some servers answer 400 (or 422) to the stream_options field they don't know."""
    if not isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError):
        return False
    return "stream_options" in f"{exc} {exc.body}"


def _reasoning_text(obj: Any) -> str | None:
    """Separate reasoning text: vLLM's reasoning_content (older) or reasoning (newer).

    `obj` is a delta dict from the stream or the SDK's message model. Only one field
    is used because some servers send the same text under both names.
    """
    if isinstance(obj, dict):
        fields = obj
    else:
        fields = {**(getattr(obj, "model_extra", None) or {}), **vars(obj)}
    for name in ("reasoning_content", "reasoning"):
        value = fields.get(name)
        if isinstance(value, str) and value:
            return value
    return None


# -- blocking completion ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompletionResult:
    content: str
    reasoning: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    usage_estimated: bool = False  # server reported no usage; counts come from tokens.py


def complete_chat(
    config: BackendConfig,
    messages: Messages,
    *,
    response_format: dict[str, Any] | None = None,
    client: OpenAI | None = None,
) -> CompletionResult:
    """Blocking, non-streamed completion (for workers). Raises InferenceError.

    Inline <think> reasoning is moved out of content. If the whole reply ended up as
    reasoning although the model stopped normally, it is returned as content.
    """
    client = client or get_client(config)
    kwargs = _request_kwargs(config, messages, stream=False)
    if response_format is not None:
        kwargs["response_format"] = response_format
    try:
        response = client.chat.completions.create(**kwargs)
        choice = response.choices[0]
        raw_content = choice.message.content or ""
        separate = _reasoning_text(choice.message)
        finish_reason = choice.finish_reason
        usage = response.usage
    except Exception as exc:
        raise error_from_exception(exc, config) from exc

    if separate is not None:
        reasoning, content = separate.strip(), raw_content.strip()
        implicit = not content
    else:
        reasoning, content, implicit = split_reasoning(
            raw_content, starts_open=config.reasoning_starts_open
        )
    if implicit and not content and finish_reason != "length":
        reasoning, content = "", reasoning

    if usage is not None:
        prompt_tokens, completion_tokens = usage.prompt_tokens, usage.completion_tokens
    else:
        prompt_tokens = estimate_message_tokens(messages)
        completion_tokens = estimate_tokens(raw_content + (separate or ""))
    return CompletionResult(
        content=content,
        reasoning=reasoning,
        prompt_tokens=int(prompt_tokens or 0),
        completion_tokens=int(completion_tokens or 0),
        finish_reason=finish_reason,
        usage_estimated=usage is None,
    )


__all__ = [
    "CompletionResult",
    "InferenceError",
    "complete_chat",
    "get_async_client",
    "get_client",
    "make_async_client",
    "make_client",
]
