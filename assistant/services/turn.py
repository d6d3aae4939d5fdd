"""Runs one assistant answer: claim it, stream from the backend, persist as it arrives.

The view turns the yielded (kind, text) pairs into SSE frames. Whatever happens
(backend down, timeout, user stop, browser gone) the partial answer and the reason
are saved, and the user's message was saved before this ever ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from django.utils import timezone

from assistant.db import db_async
from assistant.models import Message
from assistant.profiles import backend_for_profile
from assistant.services.turn_context import turn_prompt_prepare
from inference import (
    BackendConfig,
    ContentDelta,
    Done,
    ReasoningDelta,
    StreamError,
    Usage,
    stream_chat,
)

FLUSH_EVERY_S = 0.5
_END = object()


@dataclass
class AnswerRecorder:
    """Accumulates an answer in memory and writes it to the row at a steady cadence."""

    message_id: int
    started: float = field(default_factory=time.monotonic)
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    first_token_at: float | None = None
    first_reasoning_at: float | None = None
    first_content_at: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    last_flush: float = 0.0

    def add(self, event) -> None:
        now = time.monotonic()
        if self.first_token_at is None:
            self.first_token_at = now
        if isinstance(event, ReasoningDelta):
            self.first_reasoning_at = self.first_reasoning_at or now
            self.reasoning.append(event.text)
        else:
            self.first_content_at = self.first_content_at or now
            self.content.append(event.text)

    def _ms(self, since: float, until: float | None) -> int | None:
        return None if until is None else int((until - since) * 1000)

    def fields(self) -> dict:
        return {"content": "".join(self.content), "reasoning": "".join(self.reasoning)}

    async def flush(self) -> bool:
        """Save progress; returns True when the user asked to stop."""
        self.last_flush = time.monotonic()
        return await _save_progress(self.message_id, self.fields())

    async def finish(self, status: str, *, error: str = "", answer_was_reasoning=False) -> None:
        data = self.fields()
        if answer_was_reasoning:
            # The model answered without thinking: what streamed as reasoning is the answer.
            data = {"content": data["reasoning"] + data["content"], "reasoning": ""}
            self.first_reasoning_at = None
        end = time.monotonic()
        reasoning_end = self.first_content_at or end
        await _update(
            self.message_id,
            **data,
            status=status,
            error=error,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            ttft_ms=self._ms(self.started, self.first_token_at),
            reasoning_ms=self._ms(self.first_reasoning_at, reasoning_end)
            if self.first_reasoning_at
            else None,
            total_ms=self._ms(self.started, end),
            finished_at=timezone.now(),
        )


@db_async
def _save_progress(message_id: int, fields: dict) -> bool:
    Message.objects.filter(pk=message_id).update(**fields)
    return bool(
        Message.objects.filter(pk=message_id).values_list("cancel_requested", flat=True).first()
    )


@db_async
def _update(message_id: int, **fields) -> None:
    Message.objects.filter(pk=message_id).update(**fields)


@db_async
def _start(message_id: int) -> tuple[BackendConfig, list[dict[str, str]]] | None:
    """Claim a pending answer atomically (a second connection gets None) and build its
    prompt, in one trip to the database thread."""
    claimed = Message.objects.filter(
        pk=message_id, status=Message.Status.PENDING, cancel_requested=False
    ).update(status=Message.Status.STREAMING)
    if not claimed:
        return None
    message = Message.objects.select_related("conversation__owner").get(pk=message_id)
    backend = backend_for_profile(message.profile or message.conversation.profile)
    prompt = turn_prompt_prepare(answer=message, model=backend.model, backend_url=backend.base_url)
    return backend, prompt.messages


async def _pump(events: AsyncIterator, queue: asyncio.Queue) -> None:
    try:
        async for event in events:
            await queue.put(event)
    finally:
        await queue.put(_END)


def _drain(queue: asyncio.Queue, first) -> list:
    """The event just received plus everything already queued behind it: under load,
    several tokens leave in one SSE frame instead of one frame each."""
    events = [first]
    while not queue.empty() and isinstance(events[-1], ReasoningDelta | ContentDelta):
        events.append(queue.get_nowait())
    return events


def _coalesce(events: list) -> list:
    merged: list = []
    for event in events:
        if merged and type(event) is type(merged[-1]) and hasattr(event, "text"):
            merged[-1] = type(event)(merged[-1].text + event.text)
        else:
            merged.append(event)
    return merged


async def answer_stream(*, message_id: int) -> AsyncIterator[tuple[str, str]]:
    """Produce the answer for a pending message, yielding ("reasoning"|"content", text).

    Yields nothing if the message is not pending (already answered, or being answered
    by another connection): the caller then renders its current state."""
    started = await _start(message_id)
    if started is None:
        return
    backend, prompt = started
    recorder = AnswerRecorder(message_id=message_id)
    recorder.last_flush = recorder.started
    queue: asyncio.Queue = asyncio.Queue()
    producer = asyncio.create_task(_pump(stream_chat(backend, prompt), queue))
    outcome: tuple[str, str, bool] | None = None
    try:
        while outcome is None:
            try:
                events = _drain(queue, await asyncio.wait_for(queue.get(), FLUSH_EVERY_S))
            except TimeoutError:
                events = []
            for event in _coalesce(events):
                if isinstance(event, ReasoningDelta | ContentDelta):
                    recorder.add(event)
                    kind = "reasoning" if isinstance(event, ReasoningDelta) else "content"
                    yield (kind, event.text)
                elif isinstance(event, Usage):
                    recorder.prompt_tokens = event.prompt_tokens
                    recorder.completion_tokens = event.completion_tokens
                elif isinstance(event, StreamError):
                    outcome = (Message.Status.ERROR, event.message, False)
                elif isinstance(event, Done):
                    outcome = (Message.Status.COMPLETE, "", event.reasoning_was_answer)
                elif event is _END:
                    outcome = (Message.Status.ERROR, "The model stream ended unexpectedly.", False)
            due = outcome is None and time.monotonic() - recorder.last_flush >= FLUSH_EVERY_S
            if due and await recorder.flush():
                outcome = (Message.Status.CANCELLED, "Stopped by you.", False)
    except (asyncio.CancelledError, GeneratorExit):
        # The browser went away: keep what we have, say why, and stop the backend.
        producer.cancel()
        await recorder.finish(
            Message.Status.CANCELLED, error="The connection closed before the answer finished."
        )
        raise
    finally:
        if not producer.done():
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await producer
    status, error, answer_was_reasoning = outcome
    await recorder.finish(status, error=error, answer_was_reasoning=answer_was_reasoning)
