"""Team chats when the team turned learning off (Team.extraction_enabled=False): no
summary and no extraction, the messages passed over; on, what is learned goes to the
conversation owner's own memory, never the team's."""

from __future__ import annotations

import pytest

from assistant.background.models import TaskRun
from assistant.background.pipeline import conversation_pipeline_run
from assistant.background.schedule import conversation_summarise_enqueue, conversations_sweep
from assistant.teams.services import team_create, team_settings_update
from memory.models import MemoryItem, SessionSummary
from memory.services.preferences import memory_settings_update
from tests.factories import user_create
from tests.pipeline.conftest import KITCHEN, chat, memories_json, memory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(owner):
    return team_create(actor=owner, name="Lighthouse")


def _learning(team, owner, on: bool) -> None:
    team_settings_update(actor=owner, team=team, extraction_enabled=on)


def test_learning_off_skips_summary_and_extraction_and_passes_the_messages_over(owner, team, model):
    _learning(team, owner, False)
    conversation = chat(owner, KITCHEN, days_ago=3, team=team)
    outcome = conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")
    assert outcome.state == "skipped" and "off" in outcome.detail
    assert model.calls == []  # the model was never asked
    assert not SessionSummary.objects.exists() and not MemoryItem.objects.exists()
    conversation.refresh_from_db()
    last = conversation.messages.order_by("id").last()
    assert conversation.summarised_through == last.pk  # not mined if turned back on


def test_learning_off_is_never_enqueued_and_the_sweep_passes_it_over(
    owner, team, django_capture_on_commit_callbacks
):
    _learning(team, owner, False)
    off = chat(owner, KITCHEN, days_ago=3, team=team)
    with django_capture_on_commit_callbacks() as callbacks:
        assert conversation_summarise_enqueue(conversation=off) is None
        report = conversations_sweep()
    assert callbacks == [] and report.enqueued == 0 and not TaskRun.objects.exists()
    assert report.skipped_paused == 1
    off.refresh_from_db()
    assert off.summarised_through is not None


def test_the_sweep_still_enqueues_personal_chats_and_teams_that_learn(
    owner, team, django_capture_on_commit_callbacks
):
    other = team_create(actor=owner, name="Harbour")  # learning on (the default)
    _learning(team, owner, False)
    personal = chat(owner, KITCHEN, days_ago=3)
    learning = chat(owner, KITCHEN, days_ago=3, team=other)
    chat(owner, KITCHEN, days_ago=3, team=team)
    with django_capture_on_commit_callbacks():
        report = conversations_sweep()
    assert report.enqueued == 2 and report.skipped_paused == 1
    queued = set(TaskRun.objects.values_list("conversation_id", flat=True))
    assert queued == {personal.pk, learning.pk}


def test_learning_on_writes_to_the_owners_own_memory_not_the_teams(owner, team, model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    model.defaults["extract"] = memories_json(memory("The user is vegetarian.", message=3))
    conversation = chat(owner, KITCHEN, days_ago=3, team=team)
    outcome = conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")
    assert outcome.state == "succeeded" and outcome.memories_added == 1
    assert MemoryItem.objects.filter(owner=team.account).count() == 0
    assert MemoryItem.objects.filter(owner=owner).count() == 2  # the summary and the fact


def test_turned_off_during_the_run_writes_nothing(owner, team, model, monkeypatch):
    from assistant.background import pipeline

    conversation = chat(owner, KITCHEN, days_ago=3, team=team)
    real = pipeline.candidates_reconcile

    def reconcile_then_turn_off(**kwargs):
        result = real(**kwargs)
        _learning(team, owner, False)  # an admin saves the setting while the model works
        return result

    monkeypatch.setattr(pipeline, "candidates_reconcile", reconcile_then_turn_off)
    outcome = conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")
    assert outcome.state == "skipped" and "nothing was written" in outcome.detail
    assert not SessionSummary.objects.exists() and not MemoryItem.objects.exists()


def test_another_member_cannot_turn_learning_off(owner, team):
    from django.core.exceptions import PermissionDenied

    stranger = user_create("sam", password=None)
    with pytest.raises(PermissionDenied):
        team_settings_update(actor=stranger, team=team, extraction_enabled=False)
