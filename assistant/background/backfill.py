"""Processing existing conversations synchronously (the memory_backfill command and the
pipeline benchmark): the same service as the Celery task, one TaskRun per conversation.

Resumable by data: each conversation's marker says how far it got, so an interrupted
backfill simply continues where it stopped when run again.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce

from assistant.background.models import TaskRun
from assistant.background.pipeline import (
    conversation_label,
    conversation_pipeline_run,
    conversation_summary_failed,
    new_claim_token,
)
from assistant.background.runs import (
    COUNTERS,
    RunOutcome,
    task_run_create,
    task_run_failed,
    task_run_finished,
)
from assistant.models import Conversation, Message
from inference import InferenceError

MAX_RUNS_PER_CONVERSATION = 10_000  # a guard against a loop, far above any real backlog


def conversations_for_backfill(*, user=None, since: datetime | None = None) -> QuerySet:
    """Conversations with messages after their marker, oldest first (incognito ones and
    paused owners left out)."""
    marker = Coalesce(OuterRef("summarised_through"), Value(0))
    newer = Message.objects.filter(conversation=OuterRef("pk"), id__gt=marker)
    conversations = (
        Conversation.objects.filter(incognito=False)
        .exclude(owner__memory_settings__paused=True)
        .filter(Exists(newer))
        .select_related("owner")
        .order_by("pk")
    )
    if user is not None:
        conversations = conversations.filter(owner=user)
    if since is not None:
        conversations = conversations.filter(updated_at__gte=since)
    return conversations


def _add(total: RunOutcome, outcome: RunOutcome) -> None:
    for name in COUNTERS:
        setattr(total, name, getattr(total, name) + getattr(outcome, name))
    total.problems.extend(outcome.problems)


def conversation_backfill(*, conversation: Conversation) -> tuple[TaskRun, RunOutcome]:
    """Summarise a conversation to its end, batch after batch (the input cap applies)."""
    token = new_claim_token()
    run = task_run_create(
        owner=conversation.owner,
        kind=TaskRun.Kind.BACKFILL,
        target_label=conversation_label(conversation),
        conversation_id=conversation.pk,
        state=TaskRun.State.RUNNING,
    )
    total = RunOutcome(state=TaskRun.State.SKIPPED)
    details: list[str] = []
    try:
        for _ in range(MAX_RUNS_PER_CONVERSATION):
            outcome = conversation_pipeline_run(conversation_id=conversation.pk, claim_token=token)
            details.append(outcome.detail)
            if outcome.state != TaskRun.State.SUCCEEDED:
                break
            total.state = TaskRun.State.SUCCEEDED
            _add(total, outcome)
            if not outcome.remaining:
                break
    except InferenceError as error:
        conversation_summary_failed(
            conversation_id=conversation.pk, error=error.message, token=token
        )
        task_run_failed(run=run, error=error.message)
        total.state = TaskRun.State.FAILED
        total.problems.append(error.message)
        run.refresh_from_db()
        return run, total
    total.detail = " ".join(details)[:2000]
    task_run_finished(run=run, outcome=total)
    run.refresh_from_db()
    return run, total
