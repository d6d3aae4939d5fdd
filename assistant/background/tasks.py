"""Celery tasks, all of them: thin adapters that take ids and call services. Their names
stay "assistant.tasks.*" (the beat schedule and queued messages use them).

A task re-fetches its rows (the service exits quietly when the conversation is gone),
retries only transient backend errors with exponential backoff, and reports what it
did as a dict that the TaskRun signal handlers store (assistant/background/signals.py).

A run that reaches the soft time limit (CELERY_TASK_SOFT_TIME_LIMIT, below the hard
one) records the failure and lets the conversation rest; a task started more than
PIPELINE_MAX_ATTEMPTS times (retries and redeliveries after a lost worker together)
gives up on record instead of being redelivered forever.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from assistant.background import retention, schedule, syncs
from assistant.background.imports import IMPORT_TASK, memory_import_pending_run
from assistant.background.pipeline import (
    conversation_pipeline_run,
    conversation_summary_failed,
    new_claim_token,
)
from assistant.background.runs import task_run_attempts
from assistant.models import Conversation
from assistant.services import recovery
from inference import InferenceError

MAX_COUNTDOWN_S = 600


class RunStopped(Exception):
    """A run given up on purpose (time limit, too many attempts): recorded, not retried."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def retry_countdown(retries: int) -> int:
    return min(MAX_COUNTDOWN_S, settings.PIPELINE_RETRY_BACKOFF_S * 2**retries)


def hit_time_limit(error: BaseException) -> bool:
    """The soft time limit fired, possibly inside the HTTP client that wrapped it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, SoftTimeLimitExceeded):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _stop(*, conversation_id: int, token: str, message: str) -> RunStopped:
    conversation_summary_failed(conversation_id=conversation_id, error=message, token=token)
    return RunStopped(message)


@shared_task(bind=True, name="assistant.tasks.conversation_summarise", ignore_result=True)
def conversation_summarise(self, conversation_id: int) -> dict:
    """Summarise the next stretch of a conversation and extract memories from it."""
    task_id = self.request.id or ""
    # The task id is the claim token, so a redelivered or retried task retakes its claim.
    token = task_id or new_claim_token()
    attempts = task_run_attempts(celery_task_id=task_id) if task_id else 0
    if attempts > settings.PIPELINE_MAX_ATTEMPTS:
        raise _stop(
            conversation_id=conversation_id,
            token=token,
            message=f"Gave up after {attempts - 1} attempts: each one was stopped or lost "
            "before it finished.",
        )
    try:
        outcome = conversation_pipeline_run(
            conversation_id=conversation_id, claim_token=token, task_id=task_id
        )
    except Exception as error:
        if hit_time_limit(error):
            raise _stop(
                conversation_id=conversation_id,
                token=token,
                message=f"Stopped at the time limit ({settings.CELERY_TASK_SOFT_TIME_LIMIT} s); "
                "the conversation rests before the next try.",
            ) from None
        if not isinstance(error, InferenceError) or not error.retryable:
            raise
        if self.request.retries < settings.PIPELINE_MAX_RETRIES:
            # Same task id on retry: it takes its own claim back at once.
            raise self.retry(
                exc=error,
                countdown=retry_countdown(self.request.retries),
                max_retries=settings.PIPELINE_MAX_RETRIES,
            ) from None
        conversation_summary_failed(
            conversation_id=conversation_id, error=error.message, token=token
        )
        raise
    if outcome.remaining:
        # The input cap stopped this run early: the rest follows straight away.
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is not None:
            schedule.conversation_summarise_enqueue(conversation=conversation)
    return outcome.as_dict()


@shared_task(name="assistant.tasks.conversations_sweep", ignore_result=True)
def conversations_sweep() -> dict:
    """Every SUMMARY_SWEEP_INTERVAL_S (beat): enqueue conversations that are due."""
    return schedule.conversations_sweep().as_dict()


@shared_task(name="assistant.tasks.answers_close_stale", ignore_result=True)
def answers_close_stale() -> dict:
    """Every minute (beat): close answers whose stream stopped beating (recovery.py)."""
    return {"closed": recovery.answers_close_stale()}


@shared_task(name=IMPORT_TASK, ignore_result=True)
def memory_import(pending_import_id: int) -> dict:
    """Import a memory export too big for a request: all or nothing, never retried (a
    failure is recorded on its TaskRun; the user uploads again)."""
    return memory_import_pending_run(pending_id=pending_import_id).as_dict()


# A sync task may start CONNECTOR_SYNC_MAX_RETRIES + this many times: its first try, its
# retries, and one redelivery after a worker died in it; the next start stops on record.
SYNC_REDELIVERIES = 2


def sync_countdown(retries: int) -> int:
    return min(MAX_COUNTDOWN_S, settings.CONNECTOR_SYNC_RETRY_BACKOFF_S * 2**retries)


@shared_task(bind=True, name=syncs.SYNC_TASK, ignore_result=True)
def connection_sync(self, connection_id: int) -> dict:
    """Sync one connection; transient server errors retry with exponential backoff. A task
    started more often than its retries allow (redelivered after workers died in it) stops."""
    task_id = self.request.id or ""
    attempts = task_run_attempts(celery_task_id=task_id) if task_id else 0
    if attempts > settings.CONNECTOR_SYNC_MAX_RETRIES + SYNC_REDELIVERIES:
        message = (
            f"Gave up after {attempts - 1} attempts: each one was stopped or lost before it "
            "finished."
        )
        syncs.connection_sync_abandoned(connection_id=connection_id, token=task_id, error=message)
        raise RunStopped(message)
    try:
        outcome = syncs.connection_sync_run(connection_id=connection_id, task_id=task_id)
    except syncs.SyncTransient as error:
        if self.request.retries < settings.CONNECTOR_SYNC_MAX_RETRIES:
            raise self.retry(
                exc=error,
                countdown=sync_countdown(self.request.retries),
                max_retries=settings.CONNECTOR_SYNC_MAX_RETRIES,
            ) from None
        syncs.connection_sync_gave_up(connection_id=connection_id, error=error.error)
        raise
    return outcome.as_dict()


@shared_task(name="assistant.tasks.connections_sweep", ignore_result=True)
def connections_sweep() -> dict:
    """Every minute (beat): queue a sync of each connection that is due."""
    return syncs.connections_sweep().as_dict()


@shared_task(name="assistant.tasks.team_chats_expire", ignore_result=True)
def team_chats_expire() -> dict:
    """Every hour (beat): delete team chats past their team's retention period."""
    return retention.team_chats_expire().as_dict()
