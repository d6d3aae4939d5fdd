"""Frames at a fixed cadence under load (CHAT_PACE_FROM_STREAMS, CHAT_FRAME_EVERY_S):
from that many open answers on, a stream relays several tokens per frame; below it,
every token leaves at once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assistant.models import Conversation
from assistant.services.conversations import message_send
from assistant.services.turn_relay import EventReader, read_gap
from tests.assistant.sse import stream_frames

pytestmark = pytest.mark.django_db
TOKENS = 10


def _answer_frames(owner, backend) -> list[tuple[str, str]]:
    chunks: list = []
    for i in range(TOKENS):
        if i:
            chunks.append(("sleep", 0.1))
        chunks.append({"content": f"t{i} "})
    backend.script([chunks])
    conversation = Conversation.objects.create(owner=owner, profile="fast")
    _, answer = message_send(conversation=conversation, text="Count for me")
    return stream_frames(owner, reverse("chat:stream", args=[conversation.pk, answer.pk]))


def test_under_load_a_stream_sends_a_few_frames_with_every_token(owner, backend, settings):
    settings.CHAT_PACE_FROM_STREAMS = 1  # this answer alone counts as load
    settings.CHAT_FRAME_EVERY_S = 0.35
    frames = _answer_frames(owner, backend)
    content = [text for kind, text in frames if kind == "content"]
    assert "".join(content) == "".join(f"t{i} " for i in range(TOKENS))
    assert len(content) <= 5, content  # ~0, 0.35, 0.7 s and the rest: not one per token
    assert frames[-1][0] == "done"


def test_below_the_threshold_every_token_is_its_own_frame(owner, backend, settings):
    settings.CHAT_PACE_FROM_STREAMS = 1000
    frames = _answer_frames(owner, backend)
    content = [text for kind, text in frames if kind == "content"]
    assert len(content) >= TOKENS - 2, content


def test_the_read_gap_follows_the_answers_streaming_in_this_process(settings, monkeypatch):
    settings.CHAT_PACE_FROM_STREAMS, settings.CHAT_FRAME_EVERY_S = 16, 0.25
    monkeypatch.setattr(EventReader, "streaming", 15)
    assert read_gap() == 0.0
    monkeypatch.setattr(EventReader, "streaming", 16)
    assert read_gap() == 0.25
