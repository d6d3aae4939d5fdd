"""Runs that overrun or keep coming back: the claim outlives the hard time limit, a task
started too often gives up on record, and losing a race for the same range is "already
summarised", not a failure. (The soft time limit itself needs a real worker:
test_worker.py.)"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from assistant.background.models import TaskRun
from assistant.background.pipeline import conversation_claim, conversation_pipeline_run
from assistant.background.runs import task_run_create
from assistant.background.schedule import conversations_due
from assistant.background.tasks import conversation_summarise, hit_time_limit
from assistant.models import Conversation
from memory.models import MemoryItem, SessionSummary
from tests.pipeline.conftest import KITCHEN, chat


def test_a_claim_lasts_past_the_hard_time_limit(owner, settings, db):
    settings.CELERY_TASK_TIME_LIMIT = 900
    settings.SUMMARY_CLAIM_TTL_S = 60  # shorter than a run may take
    conversation = chat(owner, KITCHEN)
    now = timezone.now()
    assert conversation_claim(conversation_id=conversation.pk, token="a", now=now)
    conversation.refresh_from_db()
    assert conversation.summary_claimed_until > now + timedelta(seconds=900)
    # While the first run may still be going, no other worker takes the conversation.
    still_running = now + timedelta(seconds=899)
    assert not conversation_claim(conversation_id=conversation.pk, token="b", now=still_running)


def test_a_task_started_too_often_gives_up_on_record(owner, model, settings, db):
    settings.PIPELINE_MAX_ATTEMPTS = 3
    settings.SUMMARY_IDLE_MINUTES = 0
    conversation = chat(owner, KITCHEN)
    task_id = str(uuid.uuid4())
    run = task_run_create(owner=owner, kind="summarise", target_label="kitchen",
                          conversation_id=conversation.pk, celery_task_id=task_id)  # fmt: skip
    TaskRun.objects.filter(pk=run.pk).update(attempts=3)  # three workers lost it already
    conversation_claim(conversation_id=conversation.pk, token=task_id)

    result = conversation_summarise.apply(args=(conversation.pk,), task_id=task_id)

    assert result.failed()
    run.refresh_from_db()
    assert run.state == "failed" and run.attempts == 4 and "Gave up after 3 attempts" in run.error
    assert model.calls == []  # not run a fourth time
    conversation.refresh_from_db()
    assert conversation.summary_failed_at is not None and "Gave up" in conversation.summary_error
    assert conversation.summary_claimed_by == ""  # claim released
    assert conversation not in conversations_due()  # resting: the sweep does not resend it


def test_a_time_limit_is_recognised_inside_the_http_client_error():
    from celery.exceptions import SoftTimeLimitExceeded

    from inference import InferenceError

    try:
        try:
            raise SoftTimeLimitExceeded()
        except SoftTimeLimitExceeded as limit:
            raise InferenceError("Could not reach the model server.", "connect", True) from limit
    except InferenceError as error:
        assert hit_time_limit(error)
    assert not hit_time_limit(InferenceError("Server error 502", "server", True))


def race_on_extraction(original):
    """While this run waits for its extraction, another run summarises the same range
    and commits (written on the model server's thread, over its own connection)."""

    def write_theirs(conversation) -> None:
        try:
            messages = list(conversation.messages.order_by("id"))
            item = MemoryItem.objects.create(
                owner=conversation.owner, text="Their summary.", kind="summary"
            )
            SessionSummary.objects.create(
                owner=conversation.owner, conversation=conversation, memory=item,
                first_message_id=messages[0].pk, last_message_id=messages[-1].pk,
                message_count=len(messages), started_at=messages[0].created_at,
                ended_at=messages[-1].created_at,
            )  # fmt: skip
            Conversation.objects.filter(pk=conversation.pk).update(
                summarised_through=messages[-1].pk
            )
        finally:
            connection.close()

    def responder(self, request: dict):
        if self.kind_of(request) == "extract" and not self.raced:
            self.raced = True
            # The model server runs an event loop: the ORM needs a thread of its own.
            other = threading.Thread(target=write_theirs, args=(self.conversation,))
            other.start()
            other.join()
        return original(self, request)

    return responder


@pytest.mark.django_db(transaction=True)
def test_losing_the_race_for_the_same_range_is_already_summarised_not_a_failure(
    owner, model, monkeypatch
):
    conversation = chat(owner, KITCHEN)
    responder_class = type(model)  # pytest's own import of the conftest class
    monkeypatch.setattr(responder_class, "__call__", race_on_extraction(responder_class.__call__))
    model.conversation, model.raced = conversation, False

    outcome = conversation_pipeline_run(conversation_id=conversation.pk, claim_token="slow")

    assert model.raced, (outcome, model.calls)
    assert outcome.state == "skipped" and "Already summarised" in outcome.detail
    summary = SessionSummary.objects.get()  # theirs, once; nothing of ours was written
    assert summary.memory.text == "Their summary."
    conversation.refresh_from_db()
    assert conversation.summary_failed_at is None and conversation.summary_error == ""
    assert conversation.summary_claimed_by == ""
