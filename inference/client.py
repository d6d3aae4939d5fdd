"""Talking to an OpenAI-compatible chat server through the official openai SDK.

stream_chat() never raises for server trouble: failures become one StreamError event,
so the web layer can render them like any other event. complete_chat() is the blocking
variant for background workers and raises InferenceError instead.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import openai
from openai import AsyncOpenAI, OpenAI

from .config import BackendConfig
from .errors import InferenceError, error_from_exception, incomplete_stream_error
from .events import ContentDelta, Done, ReasoningDelta, StreamEvent, Usage
from .reasoning import ThinkTagSplitter, split_reasoning
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


def make_async_client(config: BackendConfig) -> AsyncOpenAI:
    """A new AsyncOpenAI client for config; the caller owns (and closes) it."""
    return AsyncOpenAI(**_client_options(config))


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
    """Shared AsyncOpenAI client for config on the running loop (reuses its pool)."""
    per_loop = _async_clients.setdefault(asyncio.get_running_loop(), {})
    key = _cache_key(config)
    if key not in per_loop:
        per_loop[key] = make_async_client(config)
    return per_loop[key]


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


async def _open_stream(
    client: AsyncOpenAI, config: BackendConfig, messages: Messages, stack: AsyncExitStack
) -> Any:
    """Open the raw streaming response (the SDK still builds the request and maps HTTP
    errors; chunks are parsed as plain JSON, which is ~30x cheaper than the SDK's
    per-chunk models and matters at hundreds of concurrent streams)."""
    create = client.chat.completions.with_streaming_response.create
    try:
        return await stack.enter_async_context(
            create(**_request_kwargs(config, messages, stream=True, include_usage=True))
        )
    except Exception as exc:
        if not _rejects_stream_options(exc):
            raise
    return await stack.enter_async_context(create(**_request_kwargs(config, messages, stream=True)))


class _SseBody:
    """The JSON chunks of an OpenAI-style SSE body, until [DONE].

    `done` says whether [DONE] arrived: a body that merely stops (a proxy or a crashed
    server closing it cleanly) looks the same to the transport as a finished one."""

    __slots__ = ("done", "response")

    def __init__(self, response: Any) -> None:
        self.response = response
        self.done = False

    async def chunks(self) -> AsyncIterator[dict[str, Any]]:
        async for line in self.response.iter_lines():
            if not line.startswith("data:"):
                continue  # blank separators, comments, event names
            data = line[5:].strip()
            if data == "[DONE]":
                self.done = True
                return
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                error = chunk["error"]
                message = error.get("message") if isinstance(error, dict) else str(error)
                raise openai.APIError(str(message), self.response.http_request, body=chunk)
            yield chunk


# -- streaming ----------------------------------------------------------------------


async def stream_chat(
    config: BackendConfig, messages: Messages, *, client: AsyncOpenAI | None = None
) -> AsyncIterator[StreamEvent]:
    """Stream a chat completion as events.

    Yields ReasoningDelta/ContentDelta as they arrive, Usage when the server reports it
    (the last one wins), then Done — or a single StreamError and nothing after it.
    Deltas yielded before an error stay valid (partial answer). A body that ends with
    neither [DONE] nor a finish_reason is an error: the answer may be cut short.
    """
    client = client or get_async_client(config)
    splitter = ThinkTagSplitter(starts_open=config.reasoning_starts_open)
    separate_reasoning = False  # server has a reasoning parser: content is pure answer
    saw_reasoning = saw_content = False
    finish_reason: str | None = None

    async with AsyncExitStack() as stack:
        try:
            response = await _open_stream(client, config, messages, stack)
        except Exception as exc:
            yield error_from_exception(exc, config).to_event()
            return

        body = _SseBody(response)
        try:
            async for chunk in body.chunks():
                pending: list[StreamEvent] = []
                for choice in chunk.get("choices") or ():
                    finish_reason = choice.get("finish_reason") or finish_reason
                    delta = choice.get("delta")
                    if not delta:
                        continue
                    reasoning = _reasoning_text(delta)
                    if reasoning:
                        if not separate_reasoning:
                            separate_reasoning = True
                            pending.extend(splitter.finish())  # flush what was fed before
                        pending.append(ReasoningDelta(reasoning))
                    content = delta.get("content")
                    if content:
                        if separate_reasoning:
                            pending.append(ContentDelta(content))
                        else:
                            pending.extend(splitter.feed(content))
                usage = chunk.get("usage")
                if usage:
                    pending.append(
                        Usage(
                            int(usage.get("prompt_tokens") or 0),
                            int(usage.get("completion_tokens") or 0),
                        )
                    )
                for event in pending:
                    saw_reasoning |= isinstance(event, ReasoningDelta)
                    saw_content |= isinstance(event, ContentDelta)
                    yield event
        except Exception as exc:
            yield error_from_exception(exc, config, mid_stream=True).to_event()
            return

    if not separate_reasoning:
        for event in splitter.finish():
            saw_content |= isinstance(event, ContentDelta)
            yield event
    if not body.done and finish_reason is None:
        # Cut off without a word: keep what arrived (yielded above), never promote it.
        yield incomplete_stream_error(config).to_event()
        return
    if separate_reasoning:
        # A reasoning parser that never saw "</think>" files the whole reply as
        # reasoning; if the model stopped normally without content, that was the answer.
        reasoning_was_answer = saw_reasoning and not saw_content and finish_reason == "stop"
    else:
        # Truncated thinking ("length") or a missing finish_reason is not an answer,
        # whatever the tags say.
        reasoning_was_answer = splitter.ended_in_implicit_reasoning and finish_reason not in (
            None,
            "length",
        )
    yield Done(
        finish_reason=finish_reason,
        reasoning_was_answer=reasoning_was_answer and not saw_content,
        leading_content_was_reasoning=splitter.stray_close_seen,
        saw_done_marker=body.done,
    )


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
    "stream_chat",
]
