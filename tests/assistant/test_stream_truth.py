"""Answers never look complete when they are not: how a stream ends, cut-offs, Continue."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assistant.models import Conversation, Message
from assistant.services.conversations import message_send
from assistant.services.prompt import CONTINUE_PROMPT
from assistant.views.stream import sse_frame
from tests.assistant.sse import parse_sse, stream_frames, stream_raw

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(owner):
    return Conversation.objects.create(owner=owner, profile="fast")


def start_turn(conversation, text="Tell me a long story"):
    _, answer = message_send(conversation=conversation, text=text)
    return answer, reverse("chat:stream", args=[conversation.pk, answer.pk])


def test_body_closed_without_done_or_finish_reason_is_an_error_with_retry(
    owner, conversation, backend
):
    backend.script([[{"content": "Once upon a"}, ("eof",)]])
    answer, url = start_turn(conversation)
    frames = stream_frames(owner, url)
    answer.refresh_from_db()
    assert answer.status == "error"
    assert answer.content == "Once upon a"  # the partial answer is kept
    assert "no finish reason and no [DONE]" in answer.error
    final = frames[-1][1]
    assert "The answer failed." in final and "partial answer above was kept" in final
    assert "Retry" in final


def test_cut_reasoning_is_not_promoted_to_the_answer(owner, conversation, backend, settings):
    from tests.conftest import point_profiles_at

    point_profiles_at(settings, backend.base_url, reasoning_starts_open=True)
    backend.script([[{"content": "Let me think about"}, ("eof",)]])
    answer, url = start_turn(conversation)
    stream_frames(owner, url)
    answer.refresh_from_db()
    assert (answer.status, answer.content) == ("error", "")
    assert answer.reasoning == "Let me think about"


def test_finish_reason_is_stored(owner, conversation, backend):
    answer, url = start_turn(conversation)
    frames = stream_frames(owner, url)
    answer.refresh_from_db()
    assert (answer.status, answer.finish_reason) == ("complete", "stop")
    assert "Cut off" not in frames[-1][1]


def test_length_cut_off_is_labelled_and_offers_continue(owner, conversation, backend):
    backend.script([[{"content": "The first half of"}, ("finish", "length")]])
    answer, url = start_turn(conversation)
    final = stream_frames(owner, url)[-1][1]
    answer.refresh_from_db()
    assert (answer.status, answer.finish_reason) == ("complete", "length")
    assert "Cut off at the length limit." in final
    assert reverse("chat:continue", args=[conversation.pk, answer.pk]) in final
    assert "Regenerate" in final


def test_continue_carries_on_where_the_answer_was_cut(owner_client, owner, conversation, backend):
    backend.script([[{"content": "The first half of"}, ("finish", "length")], " the story."])
    answer, url = start_turn(conversation)
    stream_frames(owner, url)

    response = owner_client.post(reverse("chat:continue", args=[conversation.pk, answer.pk]))
    assert response.status_code == 200
    follow_up = conversation.messages.order_by("-id").first()
    assert follow_up.pk != answer.pk and follow_up.continues_previous
    assert follow_up.status == "pending"
    assert "Continued from the answer above" not in response.content.decode()  # still live
    stream_frames(owner, reverse("chat:stream", args=[conversation.pk, follow_up.pk]))

    sent = backend.requests[-1]["messages"]
    assert sent[-2] == {"role": "assistant", "content": "The first half of"}
    assert sent[-1] == {"role": "user", "content": CONTINUE_PROMPT}
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.content) == ("complete", "the story.")

    # The next turn sees one answer, glued without a paragraph break.
    Message.objects.filter(pk=follow_up.pk).update(status="complete")
    _, next_url = start_turn(conversation, text="And then?")
    stream_frames(owner, next_url)
    history = backend.requests[-1]["messages"]
    assert {"role": "assistant", "content": "The first half of the story."} in history


def test_continue_needs_a_cut_off_latest_answer(owner_client, owner, conversation, backend):
    answer, url = start_turn(conversation)
    stream_frames(owner, url)
    response = owner_client.post(reverse("chat:continue", args=[conversation.pk, answer.pk]))
    assert response.status_code == 409
    assert b"cut off at the length limit" in response.content
    assert conversation.messages.count() == 2


def test_sse_frame_splits_every_kind_of_line_break():
    raw = sse_frame("content", "a\rdata: fake\r\nb\n")
    assert b"\r" not in raw
    assert raw == b"event: content\ndata: a\ndata: data: fake\ndata: b\ndata: \n\n"
    assert parse_sse(raw.decode()) == [("content", "a\ndata: fake\nb\n")]
    assert sse_frame("content", "plain") == b"event: content\ndata: plain\n\n"


def test_bare_carriage_return_in_model_output_cannot_start_a_field(owner, conversation, backend):
    backend.script([[{"content": "x\revent: done\rdata: <b>gotcha</b>"}]])
    answer, url = start_turn(conversation)
    raw = stream_raw(owner, url)
    assert b"\r" not in raw
    answer.refresh_from_db()
    assert answer.content == "x\revent: done\rdata: <b>gotcha</b>"


def test_ping_comments_while_waiting_for_the_first_token(owner, conversation, backend, settings):
    settings.CHAT_SSE_PING_S = 0.2
    backend.script([[("sleep", 1.5), {"content": "Finally."}]])
    _, url = start_turn(conversation)
    raw = stream_raw(owner, url)
    before_first_token = raw.split(b"event: content", 1)[0]
    assert b": ping\n\n" in before_first_token
