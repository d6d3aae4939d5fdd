"""Talking to an OpenAI-compatible chat server through the official openai SDK.

stream_chat() never raises for server trouble: failures become one StreamError event,
so the web layer can render them like any other event. complete_chat() is the blocking
variant for background workers and raises InferenceError instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import openai
from openai import AsyncOpenAI, OpenAI
from openai._constants import RAW_RESPONSE_HEADER

from .config import BackendConfig
from .errors import InferenceError, error_from_exception, incomplete_stream_error
from .events import ContentDelta, Done, ReasoningDelta, StreamEvent, Usage
from .reasoning import ThinkTagSplitter, split_reasoning
from .sse import SseDecoder
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


# The constant part of a streaming request, serialised once per configuration: a turn
# only serialises its messages (the SDK's per-request transform of the whole body is
# skipped; it still adds auth, maps HTTP errors and applies the timeouts).
_STREAM_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "text/event-stream",
    RAW_RESPONSE_HEADER: "stream",  # hand back the open response, body unread
}
# After [DONE] the rest of the body (the chunked terminator) is read so the connection
# goes back to the pool; a server that keeps sending is cut off instead.
DRAIN_TIMEOUT_S = 1.0
DRAIN_MAX_BYTES = 64 * 1024


@functools.lru_cache(maxsize=64)
def _request_prefix(config: BackendConfig, include_usage: bool) -> bytes:
    """`{"model": ..., "stream": true, ..., "messages": ` — the body up to its messages."""
    head = _request_kwargs(config, [], stream=True, include_usage=include_usage)
    del head["messages"]
    return json.dumps(head)[:-1].encode() + b', "messages": '


def stream_request_body(config: BackendConfig, messages: Messages, *, include_usage: bool) -> bytes:
    """The JSON body of a streaming chat request (what the SDK would send)."""
    return _request_prefix(config, include_usage) + json.dumps(messages).encode() + b"}"


async def _open_stream(
    client: AsyncOpenAI, config: BackendConfig, messages: Messages
) -> httpx2.Response:
    """Open the streaming response; its body is left unread for the caller (who must
    close it). Servers that reject stream_options are asked again without it."""
    try:
        body = stream_request_body(config, messages, include_usage=True)
        return await _post_stream(client, body)
    except Exception as exc:
        if not _rejects_stream_options(exc):
            raise
    return await _post_stream(client, stream_request_body(config, messages, include_usage=False))


async def _post_stream(client: AsyncOpenAI, body: bytes) -> httpx2.Response:
    return await client.post(
        "/chat/completions",
        cast_to=httpx2.Response,
        content=body,
        options={"headers": _STREAM_HEADERS},
    )


def _payload_chunk(payload: bytes, response: httpx2.Response) -> dict[str, Any] | None:
    """One SSE payload as a JSON chunk; None for [DONE]. An error event raises."""
    if payload[:1] != b"{" and payload.strip() == b"[DONE]":
        return None
    chunk = json.loads(payload.decode())  # skips json's own encoding detection
    if not isinstance(chunk, dict):
        raise ValueError(f"expected a JSON object, got {type(chunk).__name__}")
    error = chunk.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise openai.APIError(str(message), response.request, body=chunk)
    return chunk


async def _drain(pieces: AsyncIterator[bytes]) -> None:
    """Read what follows [DONE] so the connection can be reused; give up quietly."""
    seen = 0
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            async for piece in pieces:
                seen += len(piece)
                if seen > DRAIN_MAX_BYTES:
                    return
    except Exception:
        pass  # the answer is complete; the connection is just not reused


class _Relay:
    """Turns the stream's JSON chunks into events, remembering how the stream went."""

    __slots__ = (
        "finish_reason",
        "saw_content",
        "saw_reasoning",
        "separate_reasoning",
        "splitter",
    )

    def __init__(self, config: BackendConfig) -> None:
        self.splitter = ThinkTagSplitter(starts_open=config.reasoning_starts_open)
        self.separate_reasoning = False  # server has a reasoning parser: content is pure answer
        self.saw_reasoning = self.saw_content = False
        self.finish_reason: str | None = None

    def events(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        pending: list[StreamEvent] = []
        for choice in chunk.get("choices") or ():
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
            delta = choice.get("delta")
            if not delta:
                continue
            reasoning = _reasoning_text(delta)
            if reasoning:
                if not self.separate_reasoning:
                    self.separate_reasoning = True
                    pending.extend(self.splitter.finish())  # flush what was fed before
                pending.append(ReasoningDelta(reasoning))
            content = delta.get("content")
            if content:
                if self.separate_reasoning:
                    pending.append(ContentDelta(content))
                else:
                    pending.extend(self.splitter.feed(content))
        usage = chunk.get("usage")
        if usage:
            prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            pending.append(Usage(int(prompt or 0), int(completion or 0)))
        for event in pending:
            if isinstance(event, ContentDelta):
                self.saw_content = True
            elif isinstance(event, ReasoningDelta):
                self.saw_reasoning = True
        return pending

    def done(self, *, saw_done_marker: bool) -> Done:
        if self.separate_reasoning:
            # A reasoning parser that never saw "</think>" files the whole reply as
            # reasoning; if the model stopped normally without content, that was the answer.
            reasoning_was_answer = (
                self.saw_reasoning and not self.saw_content and self.finish_reason == "stop"
            )
        else:
            # Truncated thinking ("length") or a missing finish_reason is not an answer,
            # whatever the tags say.
            reasoning_was_answer = (
                self.splitter.ended_in_implicit_reasoning
                and self.finish_reason not in (None, "length")
            )
        return Done(
            finish_reason=self.finish_reason,
            reasoning_was_answer=reasoning_was_answer and not self.saw_content,
            leading_content_was_reasoning=self.splitter.stray_close_seen,
            saw_done_marker=saw_done_marker,
        )


# -- streaming ----------------------------------------------------------------------


async def stream_chat(
    config: BackendConfig, messages: Messages, *, client: AsyncOpenAI | None = None
) -> AsyncIterator[StreamEvent]:
    """Stream a chat completion as events.

    Yields ReasoningDelta/ContentDelta as they arrive, Usage when the server reports it
    (the last one wins), then Done — or a single StreamError and nothing after it.
    Deltas yielded before an error stay valid (partial answer). A body that ends with
    neither [DONE] nor a finish_reason is an error: the answer may be cut short.

    The body is read as raw bytes and split by SseDecoder (no per-line objects). After
    [DONE] the rest of the body is drained, so the connection returns to the client's
    keep-alive pool; closing the generator early (or cancelling it) closes the request.
    """
    client = client or get_async_client(config)
    try:
        response = await _open_stream(client, config, messages)
    except Exception as exc:
        yield error_from_exception(exc, config).to_event()
        return

    relay = _Relay(config)
    done = False
    pieces: AsyncGenerator[bytes, None] | None = None
    try:
        if response.headers.get("content-encoding"):
            pieces = response.aiter_bytes()  # compressed: let httpx decode it
        else:
            pieces = response.aiter_raw()
        decoder = SseDecoder()
        try:
            async for piece in pieces:
                for payload in decoder.feed(piece):
                    chunk = _payload_chunk(payload, response)
                    if chunk is None:
                        done = True
                        break
                    for event in relay.events(chunk):
                        yield event
                if done:
                    await _drain(pieces)
                    break
            else:
                for payload in decoder.flush():
                    chunk = _payload_chunk(payload, response)
                    if chunk is None:
                        done = True
                        break
                    for event in relay.events(chunk):
                        yield event
        except Exception as exc:
            yield error_from_exception(exc, config, mid_stream=True).to_event()
            return
    finally:
        with contextlib.suppress(Exception):
            if pieces is not None:
                await pieces.aclose()
            await response.aclose()

    if not relay.separate_reasoning:
        for event in relay.splitter.finish():
            relay.saw_content |= isinstance(event, ContentDelta)
            yield event
    if not done and relay.finish_reason is None:
        # Cut off without a word: keep what arrived (yielded above), never promote it.
        yield incomplete_stream_error(config).to_event()
        return
    yield relay.done(saw_done_marker=done)


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
