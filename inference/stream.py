"""Streaming a chat completion: the request body built once, the SSE body read as raw
bytes, the connection handed back to the pool after [DONE].

stream_chat() never raises for server trouble: failures become one StreamError event,
so the web layer can render them like any other event.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI
from openai._constants import RAW_RESPONSE_HEADER

from .client import (
    Messages,
    _reasoning_text,
    _rejects_stream_options,
    _request_kwargs,
    get_async_client,
)
from .config import BackendConfig
from .errors import error_from_exception, incomplete_stream_error
from .events import ContentDelta, Done, ReasoningDelta, StreamEvent, Usage
from .reasoning import ThinkTagSplitter
from .sse import SseDecoder

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


async def _marked(pieces: AsyncIterator[bytes]) -> AsyncGenerator[tuple[bytes, bool], None]:
    """Each piece, and whether reading it had to wait (the event loop ran meanwhile)
    rather than take bytes that were already buffered."""
    loop = asyncio.get_running_loop()
    while True:
        waited: list[bool] = []
        probe = loop.call_soon(waited.append, True)  # runs only if the read suspends
        try:
            piece = await anext(pieces)
        except StopAsyncIteration:
            return
        finally:
            probe.cancel()
        yield piece, bool(waited)


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


async def stream_chat(
    config: BackendConfig,
    messages: Messages,
    *,
    client: AsyncOpenAI | None = None,
    read_gap: Callable[[], float] | None = None,
) -> AsyncIterator[StreamEvent]:
    """Stream a chat completion as events.

    Yields ReasoningDelta/ContentDelta as they arrive, Usage when the server reports it
    (the last one wins), then Done — or a single StreamError and nothing after it.
    Deltas yielded before an error stay valid (partial answer). A body that ends with
    neither [DONE] nor a finish_reason is an error: the answer may be cut short.

    The body is read as raw bytes and split by SseDecoder (no per-line objects). After
    [DONE] the rest of the body is drained, so the connection returns to the client's
    keep-alive pool; closing the generator early (or cancelling it) closes the request.

    `read_gap`, once the first token is out, says how long to hold a piece that had to
    be waited for (0: pass each on as it arrives). Meanwhile the tokens that follow are
    buffered, and they are then read back to back and passed on together: one wake-up
    of the reader and one frame downstream for several tokens (BENCHMARKS.md).
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
    marked: AsyncGenerator[tuple[bytes, bool], None] | None = None
    try:
        if response.headers.get("content-encoding"):
            pieces = response.aiter_bytes()  # compressed: let httpx decode it
        else:
            pieces = response.aiter_raw()
        decoder = SseDecoder()
        try:
            marked = _marked(pieces)
            async for piece, waited in marked:
                # A piece that had to be waited for (none was buffered) means the reader
                # has caught up with the server: hold it for the gap while the tokens that
                # follow gather behind it, then pass them all on at once.
                if waited and read_gap is not None and (relay.saw_content or relay.saw_reasoning):
                    pause = read_gap()
                    if pause > 0:
                        await asyncio.sleep(pause)
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
            if marked is not None:
                await marked.aclose()
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


__all__ = ["stream_chat", "stream_request_body"]
