"""The Celery side, without a worker: enqueueing after commit, the beat sweep, retries
with backoff, and the TaskRun rows the signals keep."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from assistant.background.models import TaskRun
from assistant.background.pipeline import conversation_claim
from assistant.background.runs import task_run_create
from assistant.background.schedule import (
    conversation_summarise_enqueue,
    conversations_due,
    conversations_sweep,
)
from assistant.background.tasks import conversation_summarise, retry_countdown
from assistant.models import Conversation
from memory.models import SessionSummary
from memory.services.preferences import memory_settings_update
from tests.pipeline.conftest import KITCHEN, chat, say

pytestmark = pytest.mark.django_db


def test_enqueue_records_a_waiting_run_and_sends_after_commit(
    owner, django_capture_on_commit_callbacks
):
    conversation = chat(owner, KITCHEN)
    with django_capture_on_commit_callbacks() as callbacks:
        run = conversation_summarise_enqueue(conversation=conversation)
    assert len(callbacks) == 1  # nothing reaches the broker before the commit
    assert run.state == "queued" and run.kind == "summarise" and run.celery_task_id
    assert run.target_label == f"conversation {conversation.pk}: Kitchen"


@pytest.mark.parametrize("switch", ["incognito", "paused"])
def test_incognito_and_paused_are_never_enqueued(owner, switch, django_capture_on_commit_callbacks):
    conversation = chat(owner, KITCHEN, days_ago=3, incognito=switch == "incognito")
    if switch == "paused":
        memory_settings_update(owner=owner, paused=True)
    with django_capture_on_commit_callbacks() as callbacks:
        assert conversation_summarise_enqueue(conversation=conversation) is None
        report = conversations_sweep()
    assert callbacks == [] and report.enqueued == 0 and not TaskRun.objects.exists()
    conversation.refresh_from_db()
    if switch == "paused":  # passed over for good, so it is not mined after resuming
        assert report.skipped_paused == 1 and conversation.summarised_through is not None
    else:
        assert conversation.summarised_through is None


def test_the_sweep_finds_idle_and_long_conversations(owner, settings):
    settings.SUMMARY_IDLE_MINUTES = 30
    settings.SUMMARY_EVERY_MESSAGES = 6
    idle = chat(owner, KITCHEN, days_ago=1)
    busy = chat(owner, KITCHEN, days_ago=0)  # active right now, only 4 messages
    long = chat(owner, KITCHEN + KITCHEN[:2], days_ago=0)  # active, but 6 new messages
    claimed = chat(owner, KITCHEN, days_ago=1)
    conversation_claim(conversation_id=claimed.pk, token="worker-1")
    failed = chat(owner, KITCHEN, days_ago=1)
    Conversation.objects.filter(pk=failed.pk).update(summary_failed_at=timezone.now())

    due = set(conversations_due().values_list("pk", flat=True))

    assert due == {idle.pk, long.pk}
    assert busy.pk not in due


def test_an_answer_being_written_is_not_due_yet(owner, settings):
    settings.SUMMARY_EVERY_MESSAGES = 1
    conversation = chat(owner, KITCHEN, days_ago=1)
    last = conversation.messages.order_by("id").last()
    Conversation.objects.filter(pk=conversation.pk).update(summarised_through=last.pk)
    say(conversation, "assistant", "Thinking…", status="streaming")
    assert not conversations_due().exists()


def test_the_sweep_does_not_queue_a_conversation_twice(owner, django_capture_on_commit_callbacks):
    chat(owner, KITCHEN, days_ago=1)
    with django_capture_on_commit_callbacks() as callbacks:
        assert conversations_sweep().enqueued == 1
        assert conversations_sweep().enqueued == 0  # its run is still waiting
    assert len(callbacks) == 1 and TaskRun.objects.get().state == "queued"


def test_runs_no_worker_finished_are_failed_by_the_sweep(owner, settings):
    old = timezone.now() - timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT_S * 3)
    run = task_run_create(owner=owner, kind="summarise", target_label="x", state="running")
    TaskRun.objects.filter(pk=run.pk).update(created_at=old, started_at=old)
    assert conversations_sweep().lost_runs == 1
    run.refresh_from_db()
    assert run.state == "failed" and "No worker" in run.error


def test_transient_errors_retry_with_backoff_then_fail_on_record(owner, dead_backend_url, settings):
    settings.PIPELINE_MAX_RETRIES = 2
    conversation = chat(owner, KITCHEN)
    task_id = str(uuid.uuid4())
    run = task_run_create(owner=owner, kind="summarise", target_label="k",
                          conversation_id=conversation.pk, celery_task_id=task_id)  # fmt: skip

    result = conversation_summarise.apply(args=(conversation.pk,), task_id=task_id)

    assert result.failed()  # eager: the retries ran inline, then it gave up
    run.refresh_from_db()
    assert run.state == "failed" and run.attempts == 3 and "Could not reach" in run.error
    conversation.refresh_from_db()
    assert "Could not reach" in conversation.summary_error and conversation.summary_failed_at
    assert conversation.summary_claimed_until is None  # free for the next try
    assert [retry_countdown(n) for n in range(4)] == [10, 20, 40, 80]


def test_a_permanent_error_is_not_retried(owner, model):
    model.server.responder = lambda request: [("status", 401, "bad key")]
    conversation = chat(owner, KITCHEN)
    result = conversation_summarise.apply(args=(conversation.pk,))
    assert result.failed() and len(model.server.requests) == 1
    assert TaskRun.objects.get().state == "failed"


def test_the_input_cap_queues_a_follow_up_run(owner, model, settings):
    settings.SUMMARY_MAX_INPUT_TOKENS = 200
    conversation = chat(owner, ["tiles and grout and zellige " * 20] * 4)
    conversation_summarise.apply(args=(conversation.pk,))
    runs = TaskRun.objects.order_by("id")
    assert [run.state for run in runs] == ["succeeded", "queued"]
    assert SessionSummary.objects.count() == 1


def test_a_task_for_a_deleted_conversation_exits_quietly(owner, model):
    result = conversation_summarise.apply(args=(987654,))
    assert result.successful() and result.result["state"] == "skipped"


def test_a_retry_puts_the_run_back_in_the_queue_with_the_reason(owner):
    from types import SimpleNamespace

    from assistant.background.signals import on_retry
    from inference import InferenceError

    run = task_run_create(owner=owner, kind="summarise", target_label="k", celery_task_id="t-1",
                          state="running")  # fmt: skip
    error = InferenceError("The model server timed out.", "timeout", True)
    on_retry(sender=None, request=SimpleNamespace(id="t-1"), reason=error)
    run.refresh_from_db()
    assert run.state == "queued" and run.error == "Will retry: The model server timed out."
