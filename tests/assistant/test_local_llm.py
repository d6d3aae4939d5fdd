"""End to end with the real local model: llama.cpp's server with the bundled SmolLM2."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assistant.models import Conversation
from assistant.services.conversations import message_send
from inference import local_server
from tests.assistant.sse import stream_frames
from tests.conftest import point_profiles_at

pytestmark = [pytest.mark.llm, pytest.mark.django_db]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    server = local_server.LocalLLMServer(
        local_server.bundled_model_path(),
        log_path=tmp_path_factory.mktemp("llama") / "server.log",
        n_ctx=2048,
    )
    try:
        yield server.start(timeout_s=120)
    except RuntimeError as error:
        pytest.fail(str(error))
    finally:
        server.stop()


def test_real_model_answer_streams_through_the_view(llama_server, owner, settings):
    point_profiles_at(settings, llama_server, model="SmolLM2")
    settings.INFERENCE_MAX_TOKENS = 48
    conversation = Conversation.objects.create(owner=owner, profile="fast")
    _, answer = message_send(conversation=conversation, text="What is the capital of France?")

    frames = stream_frames(owner, reverse("chat:stream", args=[conversation.pk, answer.pk]))

    content_frames = [data for event, data in frames if event == "content"]
    assert len(content_frames) >= 3, "the answer should arrive in several pieces"
    assert frames[-1][0] == "done"
    answer.refresh_from_db()
    assert answer.status == "complete", answer.error
    assert answer.content.strip()
    assert answer.ttft_ms is not None and answer.ttft_ms < answer.total_ms


def test_inference_check_against_real_model(llama_server, settings, capsys):
    from django.core.management import call_command

    point_profiles_at(settings, llama_server, model="SmolLM2")
    call_command("inference_check", profile="fast")
    out = capsys.readouterr().out
    assert llama_server in out and "OK in" in out


def test_inference_check_names_unreachable_url(dead_backend_url):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("inference_check", profile="fast")
