"""Calendar content never becomes a memory without review: what is extracted from a
stretch of conversation whose answers were given calendar events waits in the inbox,
even for a user who lets extracted memories go live."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.background.pipeline import conversation_pipeline_run
from assistant.models import ContextItem
from memory.models import MemoryItem
from memory.services.preferences import memory_settings_update
from scripted_backend import ScriptedBackend
from tests.calendar_factories import calendar_create, event_add
from tests.conftest import point_profiles_at
from tests.pipeline.conftest import PipelineModel, chat, memories_json, memory

pytestmark = pytest.mark.django_db

DENTIST = memory("The user sees Dr. Lee, a dentist, on Thursdays.", message=2, confidence=0.9)
TURNS = [
    "When is my next dentist appointment?",
    "Your next dentist appointment is on Thursday at 9:00 with Dr. Lee [e:1].",
]


@pytest.fixture
def model(settings):
    responder = PipelineModel()
    with ScriptedBackend(responder=responder) as server:
        point_profiles_at(settings, server.base_url)
        yield responder


def extracted(owner):
    return MemoryItem.objects.owned_by(owner).exclude(kind="summary")


def test_memories_from_a_turn_that_used_the_calendar_go_to_review(owner, model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    event = event_add(
        calendar_create(owner), "Dentist (Dr. Lee)", datetime(2026, 12, 3, 8, tzinfo=UTC)
    )
    conversation = chat(owner, TURNS)
    answer = conversation.messages.get(role="assistant")
    ContextItem.objects.create(answer=answer, source="event", event=event, tag=f"e:{event.pk}",
                               injected=True, text="Thu 3 Dec 09:00 · Dentist")  # fmt: skip
    model.queue("extract", memories_json(DENTIST))

    outcome = conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")

    assert outcome.memories_added == 1
    item = extracted(owner).get()
    assert item.status == "proposed" and "Dr. Lee" in item.text
    assert "for review" in outcome.detail


def test_the_same_turn_without_calendar_events_follows_the_users_setting(owner, model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    conversation = chat(owner, TURNS)
    model.queue("extract", memories_json(DENTIST))
    conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")
    assert extracted(owner).get().status == "active"


def test_events_retrieved_but_left_out_of_the_prompt_do_not_count(owner, model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    event = event_add(calendar_create(owner), "Dentist", datetime(2026, 12, 3, 8, tzinfo=UTC))
    conversation = chat(owner, TURNS)
    answer = conversation.messages.get(role="assistant")
    ContextItem.objects.create(answer=answer, source="event", event=event, tag=f"e:{event.pk}",
                               injected=False, text="left out")  # fmt: skip
    model.queue("extract", memories_json(DENTIST))
    conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")
    assert extracted(owner).get().status == "active"
