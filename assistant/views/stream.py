"""The answer stream: Server-Sent Events consumed by htmx's SSE extension.

Frames: `reasoning` and `content` carry escaped text appended to the live message;
`done` carries the finished message's HTML, which replaces the live one. A `: ping`
comment goes out while the stream is silent (waiting for the first token), so proxies
that cut idle streams keep it open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape

from assistant import selectors
from assistant.db import db_async
from assistant.models import ContextItem, Message
from assistant.services.turn import FinalAnswer, answer_stream

PING = b": ping\n\n"


def sse_frame(event: str, data: str) -> bytes:
    """One SSE event. Each line of data gets its own `data:` field, split the way SSE
    parsers split (a bare "\r" ends a line too, so it must never reach the wire inside
    a field); the browser joins them with "\n"."""
    if "\n" not in data and "\r" not in data:  # the common case: one token, one line
        return f"event: {event}\ndata: {data}\n\n".encode()
    lines = data.splitlines()
    if data[-1] in "\r\n":
        lines.append("")  # keep a trailing line break
    return (f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n").encode()


def _final_context(message: Message) -> None:
    """The chips and event cards under a finished answer, read in two queries (the
    context items split in Python as selectors.message_for_render's prefetches do)."""
    items = list(
        ContextItem.objects.filter(answer_id=message.pk, injected=True).select_related(
            "memory", "chunk__document"
        )
    )
    message.used = [i for i in items if i.memory_id and i.memory.redacted_at is None]
    message.used_events = [i for i in items if i.event_id is not None]
    message.used_passages = [i for i in items if i.source == ContextItem.Source.DOCUMENT]
    message.proposals = list(message.event_proposals.select_related("source"))


@db_async
def _render_final(message_id: int, final: FinalAnswer) -> str:
    message = final.message
    if message is None:  # closed elsewhere, or not streamed here: as the database has it
        message = selectors.message_for_render(message_id=message_id)
    else:  # as this stream wrote it; only what it used is read
        _final_context(message)
    return render_to_string(
        "assistant/chat.html#message",
        {"message": message, "conversation": message.conversation, "final_frame": True},
    )


async def _frames(message_id: int) -> AsyncIterator[bytes]:
    # A comment first: proxies and the browser see the stream open straight away.
    yield b": stream open\n\n"
    # aclosing: when the browser leaves, the answer stream is closed (and saves why) now,
    # not whenever the garbage collector gets to it.
    final = FinalAnswer()
    async with aclosing(answer_stream(message_id=message_id, final=final)) as events:
        async for kind, text in events:
            yield PING if kind == "ping" else sse_frame(kind, escape(text))
    yield sse_frame("done", await _render_final(message_id, final))


@db_async
def _owned_message_id(request: HttpRequest, conversation_id: int, message_id: int) -> int:
    """The session, the user and the ownership check in one trip to the database thread
    (request.user reads the session and the user here, not in two hops of their own)."""
    if not request.user.is_authenticated:
        raise Http404
    return selectors.message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    ).pk


async def message_stream(
    request: HttpRequest, conversation_id: int, message_id: int
) -> StreamingHttpResponse:
    owned_id = await _owned_message_id(request, conversation_id, message_id)
    response = StreamingHttpResponse(_frames(owned_id), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
