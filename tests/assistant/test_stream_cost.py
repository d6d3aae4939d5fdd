"""What a browser turn's stream request costs before the backend is called: thread hops
and SQL statements, pinned so that they cannot silently grow."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from django.db.backends.utils import CursorWrapper
from django.test import AsyncClient
from django.urls import reverse

from assistant.models import Conversation
from assistant.services import turn
from assistant.services.conversations import message_send
from assistant.views.stream import sse_frame
from tests.assistant.sse import parse_sse, stream_frames

pytestmark = pytest.mark.django_db


@dataclass
class Cost:
    hops: int = 0
    hop_names: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    before_backend: tuple[int, int] | None = None  # (hops, statements)


@contextlib.contextmanager
def counted(monkeypatch) -> Iterator[Cost]:
    """Count every sync_to_async call and every SQL statement (on any thread), and take a
    snapshot when the backend request starts."""
    cost = Cost()
    real_call, real_execute = SyncToAsync.__call__, CursorWrapper._execute_with_wrappers

    async def call(self, *args, **kwargs):
        cost.hops += 1
        cost.hop_names.append(getattr(self.func, "__qualname__", None) or type(self.func).__name__)
        return await real_call(self, *args, **kwargs)

    def execute(self, sql, *args, **kwargs):
        cost.statements.append(sql)
        return real_execute(self, sql, *args, **kwargs)

    real_stream = turn.stream_chat

    def stream_chat(*args, **kwargs):
        cost.before_backend = (cost.hops, len(cost.statements))
        return real_stream(*args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", call)
    monkeypatch.setattr(CursorWrapper, "_execute_with_wrappers", execute)
    monkeypatch.setattr(turn, "stream_chat", stream_chat)
    yield cost


def test_a_turn_before_the_backend_costs_few_hops_and_statements(owner, backend, monkeypatch):
    conversation = Conversation.objects.create(owner=owner, profile="fast")
    _, answer = message_send(conversation=conversation, text="Hello there")
    url = reverse("chat:stream", args=[conversation.pk, answer.pk])

    async def run():
        client = AsyncClient()
        await client.aforce_login(owner)
        with counted(monkeypatch) as cost:
            response = await client.get(url)
            raw = b"".join([chunk async for chunk in response.streaming_content])
        return cost, parse_sse(raw.decode())

    cost, frames = async_to_sync(run)()
    assert frames[-1][0] == "done"
    hops, statements = cost.before_backend or (None, None)
    # The request_started signal, 1 hop for session + user + ownership, 1 for claim +
    # prompt. The middleware hooks run inline (assistant/middleware_inline.py; was 18 with
    # 15 hops of middleware, 20 before that with 3 for session, user, ownership).
    # Statements: session, user, ownership, the claim (one UPDATE ... RETURNING
    # the answer, its conversation and owner), then the prompt's reads and its one write
    # (savepoints aside; was 12: the claim and the answer's read were two).
    assert hops == 3, cost.hop_names
    real = [sql for sql in cost.statements[:statements] if "SAVEPOINT" not in sql]
    assert len(real) <= 11, real
    # After the backend: the close (+ usage record), then the final frame reads only the
    # context items, the event cards and the owner's team (no re-read of the answer).
    after = cost.statements[statements:]
    assert not any(sql.startswith('SELECT "assistant_message"') for sql in after[3:]), after
    assert len(after) <= 7, after


def test_the_final_frame_is_the_same_html_as_a_fresh_render(owner, backend):
    from django.template.loader import render_to_string

    from assistant import selectors

    conversation = Conversation.objects.create(owner=owner, profile="thinking")
    backend.script([[{"reasoning_content": "Hmm."}, {"content": "An *answer*."}]])
    _, answer = message_send(conversation=conversation, text="Hello there")
    frames = stream_frames(owner, reverse("chat:stream", args=[conversation.pk, answer.pk]))
    message = selectors.message_for_render(message_id=answer.pk)
    fresh = render_to_string(
        "assistant/chat.html#message",
        {"message": message, "conversation": message.conversation, "final_frame": True},
    )
    assert frames[-1] == ("done", parse_sse(sse_frame("done", fresh).decode())[0][1])


def test_progress_is_saved_in_one_statement_that_sees_a_stop(owner, backend, monkeypatch, settings):
    from asgiref.sync import sync_to_async

    from assistant.services.conversations import message_request_stop

    settings.CHAT_FLUSH_EVERY_S = 0.2
    conversation = Conversation.objects.create(owner=owner, profile="fast")
    backend.script([[{"content": "Once"}, ("sleep", 3), {"content": " more"}]])
    _, answer = message_send(conversation=conversation, text="Hello there")

    async def stop(event, data):
        if event == "content":
            await sync_to_async(message_request_stop)(message=answer)

    url = reverse("chat:stream", args=[conversation.pk, answer.pk])
    with counted(monkeypatch) as cost:
        frames = stream_frames(owner, url, on_frame=stop)
    saves = [sql for sql in cost.statements if "RETURNING cancel_requested" in sql]
    assert len(saves) == 1  # the first save after the stop request ends the stream
    answer.refresh_from_db()
    assert (answer.status, answer.content) == ("cancelled", "Once")
    assert "Stopped" in frames[-1][1]
