"""Every model call leaves a usage record: chat answers (the scripted server reports the
tokens), and the background summary, extraction and reconciliation calls."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assistant.background.pipeline import conversation_pipeline_run
from assistant.models import Conversation
from assistant.services.conversations import message_send
from assistant.usage.models import UsageRecord
from inference import Usage
from inference.client import CompletionResult
from inference.structured_ask import reported_usage
from memory.services.preferences import memory_settings_update
from scripted_backend import ScriptedBackend
from tests.assistant.sse import stream_frames
from tests.conftest import point_profiles_at
from tests.factories import remember
from tests.pipeline.conftest import KITCHEN, SUMMARY, PipelineModel, chat, memories_json, memory

pytestmark = pytest.mark.django_db


def test_a_chat_answer_records_the_tokens_the_server_reported(owner, backend):
    backend.script([[{"content": "Blue light scatters more."}, ("usage", 123, 45)]])
    conversation = Conversation.objects.create(owner=owner, profile="fast")
    _, answer = message_send(conversation=conversation, text="Why is the sky blue?")
    stream_frames(owner, reverse("chat:stream", args=[conversation.pk, answer.pk]))

    record = UsageRecord.objects.get()
    assert (record.user, record.team, record.kind) == (owner, None, "chat")
    assert (record.prompt_tokens, record.completion_tokens) == (123, 45)
    assert (record.model, record.profile, record.message_id) == ("scripted-fast", "fast", answer.pk)


def test_a_team_chat_answer_is_recorded_in_the_team(people, backend):
    backend.script([[{"content": "Done."}, ("usage", 10, 2)]])
    conversation = Conversation.objects.create(owner=people.member, team=people.team)
    _, answer = message_send(conversation=conversation, text="Hello team")
    stream_frames(people.member, reverse("chat:stream", args=[conversation.pk, answer.pk]))

    record = UsageRecord.objects.get()
    assert (record.user, record.team, record.kind) == (people.member, people.team, "chat")


@pytest.fixture
def pipeline_model(settings):
    responder = PipelineModel()
    with ScriptedBackend(responder=responder) as server:
        point_profiles_at(settings, server.base_url)
        yield responder


def _run(conversation):
    return conversation_pipeline_run(conversation_id=conversation.pk, claim_token="usage-test")


def test_summary_and_extraction_calls_are_recorded(owner, pipeline_model, settings):
    pipeline_model.queue("summary", [{"content": SUMMARY}, ("usage", 500, 60)])
    pipeline_model.queue(
        "extract",
        [{"content": memories_json(memory("The user is vegetarian.", message=3))},
         ("usage", 800, 40)],
    )  # fmt: skip
    conversation = chat(owner, KITCHEN)

    assert _run(conversation).state == "succeeded"

    rows = UsageRecord.objects.order_by("id")
    assert [(r.kind, r.prompt_tokens, r.completion_tokens) for r in rows] == [
        ("summary", 500, 60),
        ("extraction", 800, 40),
    ]
    model = f"scripted-{settings.BACKGROUND_MODEL_PROFILE}"
    assert {(r.user_id, r.team_id, r.model, r.profile) for r in rows} == {
        (owner.pk, None, model, settings.BACKGROUND_MODEL_PROFILE)
    }


def test_an_extraction_retry_and_a_judgement_are_a_record_each(owner, pipeline_model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    remember(owner, "The user prefers tea.")
    pipeline_model.queue("summary", [{"content": SUMMARY}, ("usage", 5, 5)])
    pipeline_model.queue(
        "extract",
        [{"content": "not json at all"}, ("usage", 7, 3)],
        [{"content": memories_json(memory("The user prefers coffee.", message=3))},
         ("usage", 9, 4)],
    )  # fmt: skip
    pipeline_model.queue("judge", [{"content": '{"relation": "same"}'}, ("usage", 11, 1)])
    conversation = chat(owner, KITCHEN)

    _run(conversation)

    rows = UsageRecord.objects.order_by("id")
    assert [(r.kind, r.prompt_tokens, r.completion_tokens) for r in rows] == [
        ("summary", 5, 5),
        ("extraction", 7, 3),  # the unusable reply
        ("extraction", 9, 4),  # the retry
        ("extraction", 11, 1),  # is coffee the same as tea?
    ]
    assert pipeline_model.calls == ["summary", "extract", "extract", "judge"]


def test_background_work_on_a_team_chat_counts_for_the_team(people, pipeline_model):
    conversation = chat(people.member, KITCHEN, team=people.team)
    _run(conversation)
    assert set(UsageRecord.objects.values_list("user_id", "team_id")) == {
        (people.member.pk, people.team.pk)
    }


def test_a_server_that_reports_no_usage_counts_zero_not_an_estimate():
    estimated = CompletionResult("text", "", 120, 30, "stop", usage_estimated=True)
    reported = CompletionResult("text", "", 120, 30, "stop")
    assert reported_usage(estimated) == Usage(0, 0)
    assert reported_usage(reported) == Usage(120, 30)
