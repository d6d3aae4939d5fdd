"""Finding conversations that are due for a summary, and enqueueing them.

Due: not incognito, with settled messages after the marker, and either idle for
SUMMARY_IDLE_MINUTES or SUMMARY_EVERY_MESSAGES messages behind. Conversations whose owner
paused memory, or started in a team that turned off learning from its chats, are passed
over (their marker moves past the new messages, which are never read). Not due while claimed by
a worker, while resting after a failure, or while a run for it is already waiting.
A chat turn enqueues nothing: the beat sweep finds the work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from assistant.background.models import TaskRun
from assistant.background.pipeline import (
    ABANDONED_AFTER,
    OPEN_STATUSES,
    claim_ttl_s,
    conversation_label,
    conversation_skip_unsummarised,
    team_learning_off,
)
from assistant.background.runs import task_run_create, task_runs_mark_lost
from assistant.models import Conversation
from memory.services.preferences import memory_is_active


@dataclass(frozen=True)
class SweepReport:
    enqueued: int = 0
    skipped_paused: int = 0  # conversations whose new messages were passed over (paused)
    lost_runs: int = 0

    def as_dict(self) -> dict:
        return {
            "enqueued": self.enqueued,
            "skipped_paused": self.skipped_paused,
            "lost_runs": self.lost_runs,
        }


def conversation_summarise_enqueue(*, conversation: Conversation) -> TaskRun | None:
    """Queue a run (after the surrounding transaction commits) and record it as waiting.

    Returns None, and queues nothing, for incognito conversations, paused memory and
    teams that do not learn from their chats."""
    from assistant.background.tasks import conversation_summarise  # tasks import this module

    if conversation.incognito or not memory_is_active(owner=conversation.owner):
        return None
    if team_learning_off(conversation):
        return None
    task_id = str(uuid.uuid4())
    run = task_run_create(
        owner=conversation.owner,
        kind=TaskRun.Kind.SUMMARISE,
        target_label=conversation_label(conversation),
        conversation_id=conversation.pk,
        celery_task_id=task_id,
    )
    # delay_on_commit with a known task id, so the TaskRun and the signals line up.
    conversation_summarise.apply_async_on_commit((conversation.pk,), task_id=task_id)
    return run


def conversations_due(*, now: datetime | None = None) -> QuerySet[Conversation]:
    """Conversations to summarise now, longest waiting first (owners' pause not applied)."""
    now = now or timezone.now()
    marker = Coalesce(F("summarised_through"), Value(0))
    settled = Q(messages__id__gt=marker) & ~Q(
        messages__status__in=OPEN_STATUSES, messages__created_at__gt=now - ABANDONED_AFTER
    )
    waiting = TaskRun.objects.pending().filter(
        conversation__isnull=False,
        created_at__gte=now - timedelta(seconds=claim_ttl_s()),
    )
    rested = now - timedelta(minutes=settings.SUMMARY_FAILURE_BACKOFF_MINUTES)
    return (
        Conversation.objects.filter(incognito=False)
        .filter(Q(summary_claimed_until__isnull=True) | Q(summary_claimed_until__lt=now))
        .filter(Q(summary_failed_at__isnull=True) | Q(summary_failed_at__lt=rested))
        .exclude(pk__in=waiting.values("conversation_id"))
        .annotate(new_messages=Count("messages", filter=settled))
        .annotate(last_message_at=Max("messages__created_at"))
        .filter(new_messages__gt=0)
        .filter(
            Q(last_message_at__lte=now - timedelta(minutes=settings.SUMMARY_IDLE_MINUTES))
            | Q(new_messages__gte=settings.SUMMARY_EVERY_MESSAGES)
        )
        .select_related("owner")
        .order_by("last_message_at", "pk")
    )


def conversations_sweep(*, now: datetime | None = None) -> SweepReport:
    """The beat task's work: enqueue what is due, pass over what is paused, and fail
    runs no worker finished."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT_S + claim_ttl_s())
    lost = task_runs_mark_lost(started_before=now - stale)
    due = conversations_due(now=now)
    learning_off = Q(owner__memory_settings__paused=True) | Q(team__extraction_enabled=False)
    paused = list(due.filter(learning_off)[: settings.SUMMARY_SWEEP_BATCH])
    skipped = sum(
        1 for conversation in paused if conversation_skip_unsummarised(conversation=conversation)
    )
    enqueued = 0
    active = due.exclude(learning_off)[: settings.SUMMARY_SWEEP_BATCH]
    for conversation in active:
        if conversation_summarise_enqueue(conversation=conversation):
            enqueued += 1
    return SweepReport(enqueued=enqueued, skipped_paused=skipped, lost_runs=lost)
