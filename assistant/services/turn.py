"""Runs one assistant answer: claim it, stream from the backend, persist as it arrives.

The view turns the yielded (kind, text) pairs into SSE frames. Whatever happens
(backend down, timeout, user stop, browser gone, a failure of our own between the claim
and the last token) the partial answer and the reason are saved, and the user's message
was saved before this ever ran.

Progress is saved every CHAT_FLUSH_EVERY_S (default 2 s) with one `UPDATE … RETURNING
cancel_requested`, which also writes `heartbeat_at` and is where a Stop request is seen:
a stop takes effect within that interval. A crash of this process loses at most the text
streamed since the last save; beat closes the answer once its heartbeat goes stale
(recovery.py), with the text of the last save.

The backend is read by one reader per answer (not a task, queue and timeout per event):
it appends events to a list and wakes the relay only when the relay waits for them. The
relay takes everything that arrived at once, so under load several tokens leave in one
frame; a timer runs only while the backend is silent (pings, saves, stop requests). From
CHAT_PACE_FROM_STREAMS open answers on, a token the reader had to wait for is held for
CHAT_FRAME_EVERY_S while the next ones gather (turn_relay.read_gap): frames at a cadence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from assistant.db import db_async
from assistant.models import Conversation, Message
from assistant.profiles import backend_for_profile
from assistant.services.turn_context import turn_prompt_prepare
from assistant.services.turn_relay import EventReader, coalesce, read_gap
from assistant.usage.recording import answer_usage_record, options_apply
from inference import (
    BackendConfig,
    ContentDelta,
    Done,
    ReasoningDelta,
    StreamError,
    Usage,
    stream_chat,
)

_OPEN = Message.Status.STREAMING
# Tasks that close an answer after the browser left mid-claim (kept referenced until done).
_closers: set[asyncio.Task] = set()

logger = logging.getLogger(__name__)


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
        """Save progress and the heartbeat; True when the user asked to stop (or the
        answer was closed elsewhere, e.g. Stop on an answer that looked stale)."""
        self.last_flush = time.monotonic()
        return await _save_progress(self.message_id, self.fields())

    async def finish(
        self,
        status: str,
        *,
        error: str = "",
        answer_was_reasoning: bool = False,
        finish_reason: str | None = None,
    ) -> dict | None:
        """Close the answer; the fields written, or None when it was closed elsewhere."""
        data = self.fields()
        if answer_was_reasoning:
            # The model answered without thinking: what streamed as reasoning is the answer.
            data = {"content": data["reasoning"] + data["content"], "reasoning": ""}
            self.first_reasoning_at = None
        end = time.monotonic()
        reasoning_end = self.first_content_at or end
        fields = {
            **data,
            "status": status,
            "error": error,
            "finish_reason": finish_reason or "",
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_ms": self._ms(self.started, self.first_token_at),
            "reasoning_ms": self._ms(self.first_reasoning_at, reasoning_end)
            if self.first_reasoning_at
            else None,
            "total_ms": self._ms(self.started, end),
            "finished_at": timezone.now(),
        }
        return fields if await _close(self.message_id, **fields) else None


_SAVE_SQL = (
    f"UPDATE {Message._meta.db_table} SET content = %s, reasoning = %s, heartbeat_at = %s"
    " WHERE id = %s AND status = %s RETURNING cancel_requested"
)


@db_async
def _save_progress(message_id: int, fields: dict) -> bool:
    """Save progress and the heartbeat in one statement; True when the stream must stop:
    the user asked to (`cancel_requested`), or the row is no longer streaming (closed
    elsewhere, e.g. Stop on an answer that looked stale)."""
    params = (fields["content"], fields["reasoning"], timezone.now(), message_id, _OPEN)
    with connection.cursor() as cursor:
        cursor.execute(_SAVE_SQL, params)
        row = cursor.fetchone()
    return row is None or bool(row[0])


@db_async
def _update(message_id: int, **fields) -> None:
    # Only an answer still open is closed: never overwrite one beat or Stop closed.
    Message.objects.filter(pk=message_id, status=_OPEN).update(**fields)


@db_async
def _close(message_id: int, **fields) -> bool:
    """Close the answer and record the model call's usage (when this stream closed it)."""
    if Message.objects.filter(pk=message_id, status=_OPEN).update(**fields):
        answer_usage_record(message_id=message_id)
        return True
    return False


def _failure_text(exc: BaseException) -> str:
    return f"Something went wrong on our side while writing this answer ({type(exc).__name__})."


@dataclass
class FinalAnswer:
    """Filled by answer_stream when it closed the answer: the message as written (its
    conversation and owner loaded), so that the final frame needs no re-read of it."""

    message: Message | None = None


@dataclass
class _Started:
    message: Message
    backend: BackendConfig
    prompt: list[dict[str, str]]


def _columns(model, alias: str) -> tuple[list, str]:
    fields = list(model._meta.concrete_fields)
    return fields, ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in fields)


def _instance(model, fields: list, values: tuple):
    converted = []
    for f, value in zip(fields, values, strict=True):
        for convert in f.get_db_converters(connection):
            value = convert(value, f.cached_col, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def _claim_row(message_id: int) -> Message | None:
    """Claim a pending answer and read it with its conversation and owner: one
    `UPDATE … RETURNING` (None when another connection has it, or it is not pending)."""
    models = (Message, Conversation, get_user_model())
    columns = [_columns(model, alias) for model, alias in zip(models, "mcu", strict=True)]
    sql = (
        f"UPDATE {Message._meta.db_table} m SET status = %s, heartbeat_at = %s"
        f" FROM {Conversation._meta.db_table} c, {models[2]._meta.db_table} u"
        " WHERE m.id = %s AND m.status = %s AND NOT m.cancel_requested"
        " AND c.id = m.conversation_id AND u.id = c.owner_id"
        f" RETURNING {', '.join(sql for _, sql in columns)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (_OPEN, timezone.now(), message_id, Message.Status.PENDING))
        row = cursor.fetchone()
    if row is None:
        return None
    parts, at = [], 0
    for model, (fields, _) in zip(models, columns, strict=True):
        parts.append(_instance(model, fields, row[at : at + len(fields)]))
        at += len(fields)
    message, conversation, owner = parts
    conversation.owner = owner
    message.conversation = conversation
    return message


@db_async
def _start(message_id: int) -> _Started | None:
    """Claim a pending answer atomically (a second connection gets None) and build its
    prompt, in one trip to the database thread. A failure after the claim (embedding,
    database) closes the answer as failed instead of leaving it streaming."""
    message = _claim_row(message_id)
    if message is None:
        return None
    try:
        backend = backend_for_profile(message.profile or message.conversation.profile)
        backend = options_apply(backend, message.request_options)
        prompt = turn_prompt_prepare(
            answer=message, model=backend.model, backend_url=backend.base_url
        )
    except Exception as exc:
        logger.exception("Preparing answer %s failed", message_id)
        with contextlib.suppress(Exception):  # if this fails too, beat closes it later
            Message.objects.filter(pk=message_id, status=_OPEN).update(
                status=Message.Status.ERROR, error=_failure_text(exc), finished_at=timezone.now()
            )
        return None
    message.model, message.backend_url = backend.model, backend.base_url
    return _Started(message, backend, prompt.messages)


async def _close_after_start(start: asyncio.Future, message_id: int) -> None:
    """The browser left while the answer was being claimed: once the claim is through,
    close the answer (nothing will stream it) instead of leaving it streaming."""
    with contextlib.suppress(Exception):
        if await start is not None:
            await _update(
                message_id,
                status=Message.Status.CANCELLED,
                error="The connection closed before the answer started.",
                finished_at=timezone.now(),
            )


async def _claim(message_id: int) -> _Started | None:
    start = asyncio.ensure_future(_start(message_id))
    try:
        # Shielded: a cancel (browser gone) must not orphan the claim in its thread.
        return await asyncio.shield(start)
    except BaseException:
        closer = asyncio.ensure_future(_close_after_start(start, message_id))
        _closers.add(closer)
        closer.add_done_callback(_closers.discard)
        raise


def _outcome_of(event) -> tuple[str, str, bool, str | None]:
    if isinstance(event, StreamError):
        return (Message.Status.ERROR, event.message, False, None)
    if isinstance(event, Done):
        return (Message.Status.COMPLETE, "", event.reasoning_was_answer, event.finish_reason)
    return (Message.Status.ERROR, "The model stream ended unexpectedly.", False, None)


async def answer_stream(
    *, message_id: int, final: FinalAnswer | None = None
) -> AsyncGenerator[tuple[str, str]]:
    """Produce the answer for a pending message, yielding ("reasoning"|"content", text),
    and ("ping", "") when nothing was sent for CHAT_SSE_PING_S. With `final`, the closed
    message is left there (when this stream closed it).

    Yields nothing if the message is not pending (already answered, or being answered
    by another connection): the caller then renders its current state."""
    started = await _claim(message_id)
    if started is None:
        return
    recorder = AnswerRecorder(message_id=message_id)
    recorder.last_flush = last_sent = recorder.started
    ping_every, flush_every = settings.CHAT_SSE_PING_S, settings.CHAT_FLUSH_EVERY_S
    reader = EventReader(stream_chat(started.backend, started.prompt, read_gap=read_gap))
    outcome: tuple[str, str, bool, str | None] | None = None
    try:
        while outcome is None:
            now = time.monotonic()
            wait = min(last_sent + ping_every, recorder.last_flush + flush_every) - now
            sent = False
            for event in coalesce(await reader.take(wait)):
                if isinstance(event, ReasoningDelta | ContentDelta):
                    recorder.add(event)
                    kind = "reasoning" if isinstance(event, ReasoningDelta) else "content"
                    yield (kind, event.text)
                    sent = True
                elif isinstance(event, Usage):
                    recorder.prompt_tokens = event.prompt_tokens
                    recorder.completion_tokens = event.completion_tokens
                elif outcome is None:  # Done, StreamError or the end of the stream
                    outcome = _outcome_of(event)
            now = time.monotonic()
            if sent:
                last_sent = now
            elif outcome is None and now - last_sent >= ping_every:
                # Waiting for the first token (or a long pause): proxies cut streams
                # that stay silent for a minute.
                last_sent = now
                yield ("ping", "")
            due = outcome is None and now - recorder.last_flush >= flush_every
            if due and await recorder.flush():
                outcome = (Message.Status.CANCELLED, "Stopped by you.", False, None)
    except (asyncio.CancelledError, GeneratorExit):
        # The browser went away: keep what we have, say why, and stop the backend.
        reader.task.cancel()
        try:
            await recorder.finish(
                Message.Status.CANCELLED,
                error="The connection closed before the answer finished.",
            )
        except Exception:
            logger.exception("Saving stopped answer %s failed; beat will close it", message_id)
        raise
    except Exception as exc:
        # Our own failure mid-stream (e.g. the database during a flush): never leave the
        # answer streaming. If the database is still away, beat closes it later.
        logger.exception("Streaming answer %s failed", message_id)
        outcome = (Message.Status.ERROR, _failure_text(exc), False, None)
    finally:
        await reader.close()
    status, error, answer_was_reasoning, finish_reason = outcome
    try:
        written = await recorder.finish(
            status,
            error=error,
            answer_was_reasoning=answer_was_reasoning,
            finish_reason=finish_reason,
        )
    except Exception:
        logger.exception("Saving the end of answer %s failed; beat will close it", message_id)
        return
    if final is not None and written is not None:
        for name, value in written.items():
            setattr(started.message, name, value)
        final.message = started.message
