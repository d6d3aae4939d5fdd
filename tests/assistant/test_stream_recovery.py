"""No answer stays `streaming` forever: failures end as `error`, stale ones are closed."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings as django_settings
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from assistant.background import tasks
from assistant.models import Conversation, Message
from assistant.services import turn
from assistant.services.conversations import message_send
from assistant.views.stream import _frames
from tests.assistant.sse import stream_frames

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(owner):
    return Conversation.objects.create(owner=owner, profile="fast")


def start_turn(conversation, text="Hello?"):
    _, answer = message_send(conversation=conversation, text=text)
    return answer, reverse("chat:stream", args=[conversation.pk, answer.pk])


def make_answer(conversation, *, status, beat_ago_s=None, age_s=0):
    answer = Message.objects.create(
        conversation=conversation, role="assistant", status=status, content="Partial"
    )
    fields = {"created_at": timezone.now() - timedelta(seconds=age_s)}
    if beat_ago_s is not None:
        fields["heartbeat_at"] = timezone.now() - timedelta(seconds=beat_ago_s)
    Message.objects.filter(pk=answer.pk).update(**fields)
    return answer


def test_failure_while_building_the_prompt_ends_as_error(
    owner_client, owner, conversation, backend, monkeypatch
):
    def broken_prepare(**kwargs):
        raise RuntimeError("embedding model crashed")

    monkeypatch.setattr(turn, "turn_prompt_prepare", broken_prepare)
    answer, url = start_turn(conversation)
    frames = stream_frames(owner, url)
    answer.refresh_from_db()
    assert answer.status == "error"
    assert "RuntimeError" in answer.error
    assert "The answer failed." in frames[-1][1]
    assert not backend.requests
    # Not stuck: Regenerate works straight away.
    regenerate = reverse("chat:regenerate", args=[conversation.pk, answer.pk])
    assert owner_client.post(regenerate).status_code == 200


def test_database_error_during_a_flush_ends_as_error(
    owner, conversation, backend, monkeypatch, settings
):
    settings.CHAT_FLUSH_EVERY_S = 1.0  # after "Partial", during the backend's pause

    async def broken_save(message_id, fields):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(turn, "_save_progress", broken_save)
    backend.script([[{"content": "Partial"}, ("sleep", 1.5), {"content": " answer"}]])
    answer, url = start_turn(conversation)
    stream_frames(owner, url)
    answer.refresh_from_db()
    assert answer.status == "error"
    assert "OperationalError" in answer.error
    assert answer.content.startswith("Partial")


def test_browser_leaving_during_prompt_build_closes_the_answer(owner, conversation, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    real_prepare = turn.turn_prompt_prepare

    def slow_prepare(**kwargs):
        entered.set()
        release.wait(10)
        return real_prepare(**kwargs)

    monkeypatch.setattr(turn, "turn_prompt_prepare", slow_prepare)
    answer, _ = start_turn(conversation)

    async def run() -> str:
        stream = turn.answer_stream(message_id=answer.pk)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.to_thread(entered.wait, 10)
        first.cancel()  # the browser went away: Django cancels the response task
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.gather(*getattr(turn, "_closers", ()))
        return await sync_to_async(lambda: Message.objects.get(pk=answer.pk).status)()

    assert async_to_sync(run)() == "cancelled"


def test_closing_the_sse_response_closes_the_answer_at_once(owner, conversation, backend):
    backend.script([[{"content": "One"}, ("sleep", 5), {"content": " two"}]])
    answer, _ = start_turn(conversation)

    async def run() -> str:
        frames = _frames(answer.pk)
        async for frame in frames:
            if frame.startswith(b"event: content"):
                break
        await frames.aclose()
        # Saved before aclose() returned, not whenever the collector gets to it.
        return await sync_to_async(lambda: Message.objects.get(pk=answer.pk).status)()

    assert async_to_sync(run)() == "cancelled"


def test_heartbeat_is_written_while_streaming(owner, conversation, backend, settings):
    settings.CHAT_FLUSH_EVERY_S = 0.3
    before = timezone.now()
    backend.script([[{"content": "Slow"}, ("sleep", 1.2), {"content": " answer"}]])
    answer, url = start_turn(conversation)
    stream_frames(owner, url)
    answer.refresh_from_db()
    assert answer.heartbeat_at is not None and answer.heartbeat_at > before
    assert answer.status == "complete"


def test_beat_closes_stale_answers_and_leaves_live_ones(owner, settings):
    stale_s = settings.CHAT_STREAM_STALE_S
    conversations = [Conversation.objects.create(owner=owner) for _ in range(4)]
    stale = make_answer(conversations[0], status="streaming", beat_ago_s=stale_s + 30)
    live = make_answer(conversations[1], status="streaming", beat_ago_s=1, age_s=stale_s * 5)
    never_picked_up = make_answer(conversations[2], status="pending", age_s=stale_s + 30)
    just_sent = make_answer(conversations[3], status="pending")

    assert tasks.answers_close_stale.apply().get() == {"closed": 2}

    statuses = {m.pk: m for m in Message.objects.all()}
    assert statuses[stale.pk].status == "error"
    assert statuses[stale.pk].content == "Partial"
    assert "stopped writing" in statuses[stale.pk].error
    assert statuses[never_picked_up.pk].status == "error"
    assert statuses[live.pk].status == "streaming"
    assert statuses[just_sent.pk].status == "pending"


def test_stale_sweep_is_on_the_beat_schedule():
    tasks_scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "assistant.tasks.answers_close_stale" in tasks_scheduled


def test_stop_on_a_stale_answer_closes_it(owner_client, conversation, settings):
    answer = make_answer(conversation, status="streaming", beat_ago_s=settings.CHAT_STREAM_STALE_S)
    owner_client.post(reverse("chat:stop", args=[conversation.pk, answer.pk]))
    answer.refresh_from_db()
    assert answer.status == "cancelled"
    assert answer.content == "Partial"


def test_stop_on_a_live_answer_only_asks(owner_client, conversation):
    answer = make_answer(conversation, status="streaming", beat_ago_s=1)
    owner_client.post(reverse("chat:stop", args=[conversation.pk, answer.pk]))
    answer.refresh_from_db()
    assert (answer.status, answer.cancel_requested) == ("streaming", True)


def test_regenerate_replaces_a_stale_answer(owner_client, conversation, settings):
    Message.objects.create(conversation=conversation, role="user", content="Hi")
    answer = make_answer(conversation, status="streaming", beat_ago_s=settings.CHAT_STREAM_STALE_S)
    response = owner_client.post(reverse("chat:regenerate", args=[conversation.pk, answer.pk]))
    assert response.status_code == 200
    assert conversation.messages.get(role="assistant").status == "pending"
