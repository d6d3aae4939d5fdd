"""The answer stream end to end through the ASGI view, against scripted backends."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from assistant.models import Conversation, Message
from assistant.services.conversations import message_request_stop, message_send
from tests.assistant.sse import stream_frames

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(owner):
    return Conversation.objects.create(owner=owner, profile="thinking")


def start_turn(conversation, text="Why is the sky blue?"):
    user_message, answer = message_send(conversation=conversation, text=text)
    url = reverse("chat:stream", args=[conversation.pk, answer.pk])
    return user_message, answer, url


def events_of(frames, kind):
    return "".join(data for event, data in frames if event == kind)


def test_streams_reasoning_and_answer_and_saves_them(owner, conversation, backend):
    backend.script(
        [
            [
                {"reasoning_content": "Rayleigh "},
                {"reasoning_content": "scattering."},
                {"content": "Short "},
                {"content": "wavelengths <scatter> more."},
            ]
        ]
    )
    _, answer, url = start_turn(conversation)
    frames = stream_frames(owner, url)

    kinds = [e for e, _ in frames]
    assert kinds[0] == "reasoning"
    assert kinds.index("content") > kinds.index("reasoning")
    assert events_of(frames, "reasoning") == "Rayleigh scattering."
    # Deltas are HTML-escaped: htmx inserts them as markup.
    assert events_of(frames, "content") == "Short wavelengths &lt;scatter&gt; more."
    assert frames[-1][0] == "done"
    assert "Thought for" in frames[-1][1]

    answer.refresh_from_db()
    assert answer.status == "complete"
    assert answer.reasoning == "Rayleigh scattering."
    assert answer.content == "Short wavelengths <scatter> more."
    assert answer.model == "scripted-thinking"
    assert answer.completion_tokens and answer.prompt_tokens
    assert answer.ttft_ms is not None and answer.total_ms >= answer.ttft_ms


def test_prompt_has_history_but_never_reasoning(owner, conversation, backend):
    _, first_answer = message_send(conversation=conversation, text="First question")
    Message.objects.filter(pk=first_answer.pk).update(
        status="complete", content="First answer", reasoning="secret thoughts"
    )
    _, _, url = start_turn(conversation, text="Second question")
    stream_frames(owner, url)

    sent = backend.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[-1]["content"] == "Second question"
    assert all("secret thoughts" not in m["content"] for m in sent)


def test_inline_think_tags_become_reasoning(owner, conversation, backend):
    backend.script([[{"content": "<thi"}, {"content": "nk>ponder</th"}, {"content": "ink>Answer"}]])
    _, answer, url = start_turn(conversation)
    frames = stream_frames(owner, url)
    assert events_of(frames, "reasoning") == "ponder"
    assert events_of(frames, "content") == "Answer"
    answer.refresh_from_db()
    assert (answer.reasoning, answer.content) == ("ponder", "Answer")


def test_backend_down_keeps_message_and_names_url(owner, conversation, dead_backend_url):
    user_message, answer, url = start_turn(conversation)
    frames = stream_frames(owner, url)

    answer.refresh_from_db()
    assert answer.status == "error"
    assert dead_backend_url in answer.error
    assert Message.objects.get(pk=user_message.pk).content == "Why is the sky blue?"
    assert frames[-1][0] == "done"
    assert "The answer failed." in frames[-1][1]
    assert "Retry" in frames[-1][1]


def test_backend_drop_mid_stream_keeps_partial_answer(owner, conversation, backend):
    backend.script([[{"content": "Half an ans"}, {"content": "wer"}, ("drop",)]])
    _, answer, url = start_turn(conversation)
    stream_frames(owner, url)
    answer.refresh_from_db()
    assert answer.status == "error"
    assert answer.content == "Half an answer"
    assert backend.base_url in answer.error


def test_backend_http_error(owner, conversation, backend):
    backend.script([[("status", 503, "model is loading")]])
    _, answer, url = start_turn(conversation)
    stream_frames(owner, url)
    answer.refresh_from_db()
    assert answer.status == "error"
    assert "503" in answer.error


def test_backend_timeout(owner, conversation, backend, settings):
    settings.INFERENCE_TIMEOUT_S = 0.5
    backend.script([[{"content": "slow"}, ("sleep", 3), {"content": " never"}]])
    _, answer, url = start_turn(conversation)
    stream_frames(owner, url)
    answer.refresh_from_db()
    assert answer.status == "error"
    assert answer.content == "slow"
    assert "nothing arrived for 0.5 s" in answer.error


def test_user_stop_keeps_partial_answer(owner, conversation, backend):
    backend.script([[{"content": "Once upon"}, ("sleep", 5), {"content": " a time"}]])
    _, answer, url = start_turn(conversation)

    async def stop_after_first_token(event, data):
        if event == "content":
            await sync_to_async(message_request_stop)(message=answer)

    frames = stream_frames(owner, url, on_frame=stop_after_first_token)
    answer.refresh_from_db()
    assert answer.status == "cancelled"
    assert answer.content == "Once upon"
    assert "Stopped" in frames[-1][1]


def test_second_connection_does_not_generate_again(owner, conversation, backend):
    _, _, url = start_turn(conversation)
    stream_frames(owner, url)
    requests_after_first = len(backend.requests)
    frames = stream_frames(owner, url)
    assert len(backend.requests) == requests_after_first
    assert [e for e, _ in frames] == ["done"]


def test_regenerate_replaces_latest_answer(owner_client, owner, conversation, backend):
    _, answer, url = start_turn(conversation)
    stream_frames(owner, url)
    response = owner_client.post(reverse("chat:regenerate", args=[conversation.pk, answer.pk]))
    assert response.status_code == 200
    new_answer = conversation.messages.get(role="assistant")
    assert new_answer.pk != answer.pk and new_answer.status == "pending"
    assert conversation.messages.filter(role="user").count() == 1


def test_stop_before_start_closes_pending_answer(owner_client, conversation, backend):
    _, answer, _ = start_turn(conversation)
    owner_client.post(reverse("chat:stop", args=[conversation.pk, answer.pk]))
    answer.refresh_from_db()
    assert answer.status == "cancelled"
    assert not backend.requests


def test_implicit_think_model_that_answers_directly(owner, conversation, backend, settings):
    from tests.conftest import point_profiles_at

    point_profiles_at(settings, backend.base_url, reasoning_starts_open=True)
    backend.script([[{"content": "Just "}, {"content": "an answer."}]])
    _, answer, url = start_turn(conversation)
    stream_frames(owner, url)
    answer.refresh_from_db()
    assert (answer.content, answer.reasoning) == ("Just an answer.", "")
