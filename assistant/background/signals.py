"""Celery signal handlers that keep TaskRun rows up to date (like paperless-ngx's
PaperlessTask). Keyed by task id: tasks sent without a TaskRun are simply not tracked.

A handler never lets a bookkeeping problem break the task it reports on.
"""

from __future__ import annotations

import logging

from celery import signals

from assistant.background.runs import (
    RunOutcome,
    task_run_failed,
    task_run_finished,
    task_run_retrying,
    task_run_started,
)

logger = logging.getLogger(__name__)


def _task_id(task=None, request=None) -> str:
    request = request or getattr(task, "request", None)
    return str(getattr(request, "id", "") or "")


def on_prerun(task_id=None, task=None, **_kwargs) -> None:
    try:
        task_run_started(celery_task_id=str(task_id or _task_id(task)))
    except Exception:
        logger.exception("Could not record the start of task %s", task_id)


def on_success(sender=None, result=None, **_kwargs) -> None:
    task_id = _task_id(sender)
    if not task_id or not isinstance(result, dict):
        return
    try:
        task_run_finished(celery_task_id=task_id, outcome=RunOutcome.from_dict(result))
    except Exception:
        logger.exception("Could not record the result of task %s", task_id)


def on_failure(sender=None, task_id=None, exception=None, **_kwargs) -> None:
    task_id = str(task_id or _task_id(sender))
    try:
        message = getattr(exception, "message", None) or str(exception) or repr(exception)
        task_run_failed(celery_task_id=task_id, error=message)
    except Exception:
        logger.exception("Could not record the failure of task %s", task_id)


def on_retry(sender=None, request=None, reason=None, **_kwargs) -> None:
    task_id = _task_id(sender, request)
    try:
        message = getattr(reason, "message", None) or str(reason)
        task_run_retrying(celery_task_id=task_id, error=message)
    except Exception:
        logger.exception("Could not record the retry of task %s", task_id)


def connect() -> None:
    """Called once from AssistantConfig.ready(); weak=False keeps plain functions alive."""
    signals.task_prerun.connect(on_prerun, weak=False, dispatch_uid="background.taskrun.prerun")
    signals.task_success.connect(on_success, weak=False, dispatch_uid="background.taskrun.success")
    signals.task_failure.connect(on_failure, weak=False, dispatch_uid="background.taskrun.failure")
    signals.task_retry.connect(on_retry, weak=False, dispatch_uid="background.taskrun.retry")
