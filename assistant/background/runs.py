"""Recording background runs (TaskRun): created on enqueue, then moved on by Celery signals.

Any background job records its runs here (summaries, backfills and imports today,
connector syncs next): the signal handlers (signals.py) and the synchronous backfill both
go through these functions, keyed by the Celery task id or by the run itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

from assistant.background.models import TaskRun

ERROR_CHARS = 2000
LOST = "No worker finished this run (the worker stopped, or the queue lost the task)."
COUNTERS = (
    "messages_summarised",
    "memories_added",
    "memories_superseded",
    "memories_skipped",
    "parse_failures",
    "prompt_tokens",
    "completion_tokens",
)


@dataclass
class RunOutcome:
    """What one run did; a Celery task returns it as a dict (`as_dict`)."""

    state: str = TaskRun.State.SUCCEEDED
    detail: str = ""
    problems: list[str] = field(default_factory=list)  # non-fatal: a run can still succeed
    remaining: int = 0  # messages left for a follow-up run (the input cap was reached)
    messages_summarised: int = 0
    memories_added: int = 0
    memories_superseded: int = 0
    memories_skipped: int = 0
    parse_failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def skipped(cls, why: str) -> RunOutcome:
        return cls(state=TaskRun.State.SKIPPED, detail=why)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunOutcome:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in (data or {}).items() if key in known})


def _short(text: str) -> str:
    text = (text or "").strip()
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def task_run_create(
    *,
    owner,
    kind: str,
    target_label: str,
    conversation_id: int | None = None,
    connection_id: int | None = None,
    celery_task_id: str | None = None,
    state: str = TaskRun.State.QUEUED,
) -> TaskRun:
    return TaskRun.objects.create(
        owner=owner,
        kind=kind,
        state=state,
        conversation_id=conversation_id,
        connection_id=connection_id,
        target_label=target_label[:255],
        celery_task_id=celery_task_id,
        started_at=timezone.now() if state == TaskRun.State.RUNNING else None,
        attempts=1 if state == TaskRun.State.RUNNING else 0,
    )


def task_run_ensure(
    *,
    celery_task_id: str,
    owner,
    kind: str,
    target_label: str,
    conversation_id: int | None = None,
    connection_id: int | None = None,
) -> TaskRun:
    """The run of a task that was sent without one (e.g. `.delay()` from a shell)."""
    run, _ = TaskRun.objects.get_or_create(
        celery_task_id=celery_task_id,
        defaults={
            "owner": owner,
            "kind": kind,
            "state": TaskRun.State.RUNNING,
            "conversation_id": conversation_id,
            "connection_id": connection_id,
            "target_label": target_label[:255],
            "started_at": timezone.now(),
            "attempts": 1,
        },
    )
    return run


def task_run_started(*, celery_task_id: str) -> int:
    """A worker picked the task up (again, after a retry or a redelivery)."""
    return TaskRun.objects.filter(celery_task_id=celery_task_id).update(
        state=TaskRun.State.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        attempts=F("attempts") + 1,
    )


def task_run_attempts(*, celery_task_id: str) -> int:
    """How many times a worker has started this task (0 for an untracked task)."""
    run = TaskRun.objects.filter(celery_task_id=celery_task_id).only("attempts").first()
    return run.attempts if run is not None else 0


def _finish_fields(outcome: RunOutcome) -> dict:
    values = {name: max(0, int(getattr(outcome, name) or 0)) for name in COUNTERS}
    state = outcome.state if outcome.state in TaskRun.State.values else TaskRun.State.SUCCEEDED
    return {
        **values,
        "state": state,
        "detail": _short(outcome.detail),
        "error": _short("\n".join(outcome.problems)),
        "finished_at": timezone.now(),
    }


def _runs(celery_task_id: str, run: TaskRun | None):
    if run is not None:
        return TaskRun.objects.filter(pk=run.pk)
    return TaskRun.objects.filter(celery_task_id=celery_task_id)


def task_run_finished(*, outcome: RunOutcome, celery_task_id: str = "", run=None) -> int:
    """Record a finished run (succeeded or skipped) with its counters."""
    return _runs(celery_task_id, run).update(**_finish_fields(outcome))


def task_run_failed(*, error: str, celery_task_id: str = "", run=None) -> int:
    return _runs(celery_task_id, run).update(
        state=TaskRun.State.FAILED, error=_short(error), finished_at=timezone.now()
    )


def task_run_retrying(*, celery_task_id: str, error: str) -> int:
    """A transient failure: back to the queue; the error says what it waits out."""
    return TaskRun.objects.filter(celery_task_id=celery_task_id).update(
        state=TaskRun.State.QUEUED, error=_short(f"Will retry: {error}")
    )


def task_runs_mark_lost(*, started_before: datetime) -> int:
    """Runs that no worker finished in time (its process died and nothing redelivered
    the task) are failed, so the page stops showing them as in progress."""
    never_started = Q(started_at__isnull=True, created_at__lt=started_before)
    return (
        TaskRun.objects.pending()
        .filter(never_started | Q(started_at__lt=started_before))
        .update(state=TaskRun.State.FAILED, error=LOST, finished_at=timezone.now())
    )


def task_run_progress(*, run: TaskRun, done: int, total: int, detail: dict | None = None) -> int:
    """How far a long run has got (shown by the pages' pollers); written at once, the
    caller decides how often. `detail`: the counts a page shows beside done/total."""
    values: dict = {"progress_done": max(0, done), "progress_total": max(0, total)}
    if detail is not None:
        values["progress_detail"] = detail
    return TaskRun.objects.filter(pk=run.pk).update(**values)
