"""Connector syncs as background runs: enqueue (one per connection), claim, run, sweep.

Safe to kill and re-run: a worker claims the connection with a conditional UPDATE (an
expired claim, or one held by the same task id after a redelivery, can be taken again;
claims.py); a change queued while a worker syncs makes it sync once more when it ends;
connectors.services.sync applies each source in its own transaction together with its
new sync state, so a run killed half-way leaves the previous state and the next run
redoes that source. Transient errors retry with backoff (the task does that);
permanent ones pause the connection with the reason shown on the page.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from assistant.background.claims import (
    claim_ttl,
    connection_claim,
    connection_claim_release,
    connection_claim_release_asked,
    sync_again_ask,
)
from assistant.background.models import TaskRun
from assistant.background.runs import (
    RunOutcome,
    task_run_create,
    task_run_ensure,
    task_run_failed,
    task_run_finished,
    task_run_progress,
)
from assistant.teams.audit import audit_record
from assistant.teams.audit_models import AuditAction
from assistant.teams.models import Team
from connectors import hooks
from connectors.base import ConnectorError, PermanentError
from connectors.crypto import SecretsUnreadable
from connectors.hooks import SyncStatus
from connectors.models import Connection
from connectors.registry import kinds
from connectors.selectors import is_drive
from connectors.services.progress import SyncProgress, Watch, progress_line
from connectors.services.sync import (
    Progress,
    connection_sync,
    connection_sync_failed,
    connection_sync_succeeded,
)

# The Celery task (assistant/background/tasks.py), sent by name: tasks import this module.
SYNC_TASK = "assistant.tasks.connection_sync"
SWEEP_BATCH = 200
PROGRESS_WRITE_EVERY_S = 1.0  # a drive sync's counts reach its run at most this often


class SyncTransient(Exception):
    """A transient connector error the task retries (the connection stays active)."""

    def __init__(self, error: ConnectorError) -> None:
        super().__init__(error.message)
        self.message = error.message
        self.error = error


def connection_label(connection: Connection) -> str:
    return f"sync of {connection.label}"[:255]


def _waiting(now: datetime) -> QuerySet[TaskRun]:
    """Sync runs still waiting or running (younger than a claim: older ones were lost)."""
    return TaskRun.objects.pending().filter(
        kind=TaskRun.Kind.SYNC,
        connection__isnull=False,
        created_at__gte=now - claim_ttl(),
    )


# -- enqueueing ---------------------------------------------------------------------------


def connection_sync_enqueue(*, connection: Connection) -> TaskRun | None:
    """Queue a sync (sent after the surrounding transaction commits) and record its run.

    One per connection: while a run is waiting or running, that run is returned and
    nothing new is queued. A running one, though, may have listed the folder before this
    change: unless another run is waiting, the worker syncing it is asked to sync once
    more when it ends (claims.py). Paused connections are not synced (None)."""
    now = timezone.now()
    with transaction.atomic():
        # The row lock serialises two "sync now" clicks: the second sees the first's run.
        locked = Connection.objects.select_for_update().filter(pk=connection.pk).first()
        if locked is None or locked.is_paused:
            return None
        waiting = list(_waiting(now).filter(connection=locked).order_by("created_at"))
        if waiting:
            if all(run.state == TaskRun.State.RUNNING for run in waiting):
                sync_again_ask(connection_id=locked.pk, now=now)
            return waiting[0]
        task_id = str(uuid.uuid4())
        run = task_run_create(
            owner=locked.owner,
            kind=TaskRun.Kind.SYNC,
            target_label=connection_label(locked),
            connection_id=locked.pk,
            celery_task_id=task_id,
        )
        transaction.on_commit(
            lambda: current_app.send_task(SYNC_TASK, args=[locked.pk], task_id=task_id)
        )
    return run


def connections_due(*, now: datetime | None = None) -> QuerySet[Connection]:
    """Active connections whose last sync (or failed try) is older than the interval, not
    claimed by a worker and without a run already waiting; longest waiting first."""
    now = now or timezone.now()
    epoch = timezone.make_aware(datetime(2000, 1, 1))
    last_try = Greatest(Coalesce("last_sync_at", epoch), Coalesce("last_error_at", epoch))
    cutoff = now - timedelta(minutes=settings.CONNECTOR_SYNC_INTERVAL_MINUTES)
    return (
        Connection.objects.filter(status=Connection.Status.ACTIVE)
        .filter(Q(sync_claimed_until__isnull=True) | Q(sync_claimed_until__lt=now))
        .exclude(pk__in=_waiting(now).values("connection_id"))
        .annotate(last_try=last_try)
        .filter(last_try__lt=cutoff)
        .order_by("last_try", "pk")
    )


@dataclass(frozen=True)
class SyncSweepReport:
    enqueued: int = 0

    def as_dict(self) -> dict:
        return {"enqueued": self.enqueued}


def connections_sweep(*, now: datetime | None = None) -> SyncSweepReport:
    """The beat task's work: queue a sync of every due connection."""
    due = list(connections_due(now=now).select_related("owner")[:SWEEP_BATCH])
    enqueued = sum(1 for connection in due if connection_sync_enqueue(connection=connection))
    return SyncSweepReport(enqueued=enqueued)


# -- running ------------------------------------------------------------------------------


def _run_for(*, connection: Connection, task_id: str) -> TaskRun:
    if task_id:
        return task_run_ensure(
            celery_task_id=task_id,
            owner=connection.owner,
            kind=TaskRun.Kind.SYNC,
            target_label=connection_label(connection),
            connection_id=connection.pk,
        )
    return task_run_create(
        owner=connection.owner,
        kind=TaskRun.Kind.SYNC,
        target_label=connection_label(connection),
        connection_id=connection.pk,
        state=TaskRun.State.RUNNING,
    )


def connection_sync_run(
    *,
    connection_id: int,
    task_id: str = "",
    progress: Progress | None = None,
    watch: Watch | None = None,
) -> RunOutcome:
    """One sync of one connection, recorded on its TaskRun (live progress included).

    Gone, paused or already being synced: skipped. A permanent error pauses the
    connection and fails the run; a transient one is recorded on the connection and
    raised as SyncTransient for the task to retry. Without a task id (called outside
    Celery, whose signals finish the run) the run is finished here. `progress` hears
    (done, total) too, and `watch` a drive's full counts (the foreground command's bar)."""
    connection = Connection.objects.select_related("owner").filter(pk=connection_id).first()
    if connection is None:
        return RunOutcome.skipped("The connection was removed.")
    if connection.is_paused:
        return RunOutcome.skipped("The connection is paused: resume it on the connections page.")
    if connection.kind not in kinds():
        return RunOutcome.skipped(f"This server no longer offers {connection.kind!r} connections.")
    token = task_id or f"local-{uuid.uuid4()}"
    if not _claim_or_ask(connection_id=connection.pk, token=token):
        return RunOutcome.skipped(
            "Another sync of this connection is running; it syncs again when it ends."
        )
    run = _run_for(connection=connection, task_id=task_id)
    try:
        outcome = _sync_claimed(connection=connection, run=run, also=progress, watching=watch)
    except BaseException as error:
        try:
            if not task_id and isinstance(error, Exception):
                task_run_failed(run=run, error=getattr(error, "message", "") or str(error))
        finally:
            # Any ending but a killed process frees the connection at once (that one waits
            # for the claim to expire, or for its redelivered task, which holds the same token).
            connection_claim_release(connection_id=connection.pk, token=token)
        raise
    _sync_ended(connection=connection, run=run, token=token, outcome=outcome)
    return outcome


def _claim_or_ask(*, connection_id: int, token: str) -> bool:
    """Take the claim; or, while another worker holds it, ask that one to sync again when
    it ends (it may have listed before the change this run was queued for). False: skip."""
    for _ in range(3):  # a claim freed between the two UPDATEs is tried again
        if connection_claim(connection_id=connection_id, token=token):
            return True
        if sync_again_ask(connection_id=connection_id):
            return False
    return False


def _sync_ended(*, connection: Connection, run: TaskRun, token: str, outcome: RunOutcome) -> None:
    """The run's outcome, the claim freed and (after a success that someone asked to repeat
    while it ran) the one follow-up, in one transaction: an enqueue that waits on the
    connection's row lock sees this run finished and the follow-up queued, never this run
    still running without its claim. The signals record the same outcome again later."""
    with transaction.atomic():
        task_run_finished(run=run, outcome=outcome)
        _sync_audit(connection=connection, outcome=outcome)
        asked = connection_claim_release_asked(connection_id=connection.pk, token=token)
        if asked and outcome.state == TaskRun.State.SUCCEEDED:
            # Through the registered home, as every enqueue (connection_sync_enqueue).
            hooks.sync_enqueue(connection=connection)


def _sync_audit(*, connection: Connection, outcome: RunOutcome) -> None:
    """A finished sync in the audit log (no actor: a schedule or "sync now" ran it); a
    team's connection (owned by its account) is the team's event."""
    ok = outcome.state == TaskRun.State.SUCCEEDED
    if not ok and outcome.state != TaskRun.State.FAILED:
        return
    detail: dict = {"kind": connection.kind, "label": connection.label, "summary": outcome.detail}
    if outcome.problems:
        detail |= {"problems": len(outcome.problems), "first_problem": outcome.problems[0][:300]}
    team = Team.objects.filter(account_id=connection.owner_id).first()
    audit_record(
        action=AuditAction.CONNECTION_SYNCED if ok else AuditAction.CONNECTION_SYNC_FAILED,
        team=team,
        owner=None if team is not None else connection.owner,
        target=connection,
        detail=detail,
    )


class _ProgressWriter:
    """A drive sync's counts onto its run: at most one UPDATE a second (a sync of small
    files tells after each one), but always the first of each stage and the last file."""

    def __init__(self, run: TaskRun, also: Watch | None) -> None:
        self.run, self.also = run, also
        self.written_at = float("-inf")
        self.stage = ""
        self.last: SyncProgress | None = None
        self.written_done = -1

    def __call__(self, progress: SyncProgress) -> None:
        now, self.last = time.monotonic(), progress
        if (
            progress.stage != self.stage
            or now - self.written_at >= PROGRESS_WRITE_EVERY_S
            or progress.done >= progress.total > self.written_done
        ):
            task_run_progress(
                run=self.run, done=progress.done, total=progress.total, detail=progress.as_dict()
            )
            self.written_at, self.stage = now, progress.stage
            self.written_done = progress.done
        if self.also is not None:
            self.also(progress)


def _sync_claimed(
    *,
    connection: Connection,
    run: TaskRun,
    also: Progress | None = None,
    watching: Watch | None = None,
) -> RunOutcome:
    drive = is_drive(connection)

    def progress(done: int, total: int) -> None:
        if not drive:  # a drive's counts go with its full progress, throttled
            task_run_progress(run=run, done=done, total=total)
        if also is not None:
            also(done, total)

    writer = _ProgressWriter(run, watching) if drive else None
    try:
        try:
            report = connection_sync(connection=connection, progress=progress, watch=writer)
        except SoftTimeLimitExceeded:
            return _stopped_at_time_limit(writer.last if writer else None)
        except SecretsUnreadable as unreadable:  # a removed key: only the user can fix it
            raise PermanentError(
                str(unreadable), hint="Reconnect it: enter the credentials again."
            ) from unreadable
    except ConnectorError as error:
        connection_sync_failed(connection=connection, error=error)
        if not error.permanent:
            raise SyncTransient(error) from error
        hint = f" {error.hint}" if error.hint else ""
        return RunOutcome(
            state=TaskRun.State.FAILED,
            detail="The connection is paused until you fix this.",
            problems=[f"{error.message}{hint}"],
        )
    connection_sync_succeeded(connection=connection, report=report)
    return RunOutcome(detail=report.summary(), problems=report.problems)


def _stopped_at_time_limit(counts: SyncProgress | None) -> RunOutcome:
    """The worker's soft time limit (a big first sync): what was stored stays, and the
    next sync (the sweep's, soon: this one did not count as a sync) reads the rest."""
    so_far = f" with {counts.done:,} of {counts.total:,} files read" if counts else ""
    return RunOutcome(
        state=TaskRun.State.FAILED,
        detail="Stopped at the time limit; the next sync carries on.",
        problems=[
            f"Stopped at the worker's time limit ({settings.CELERY_TASK_SOFT_TIME_LIMIT} s)"
            f"{so_far}. What was read is kept; the next sync carries on from there."
        ],
    )


def connection_sync_gave_up(*, connection_id: int, error: ConnectorError) -> None:
    """The last retry failed too: the error stays on the page; the sweep tries again later."""
    Connection.objects.filter(pk=connection_id).update(
        last_error_hint=(
            error.hint or "Retried several times; the next scheduled sync tries again."
        )[:1000]
    )


def connection_sync_abandoned(*, connection_id: int, token: str, error: str) -> None:
    """A sync that keeps dying (its worker lost every time): said on the page, claim freed."""
    Connection.objects.filter(pk=connection_id).update(
        last_error=error[:2000],
        last_error_hint="The next scheduled sync tries again; if this repeats, the worker "
        "logs say why (memory or time limits).",
        last_error_at=timezone.now(),
    )
    connection_claim_release(connection_id=connection_id, token=token)


# -- the page's view of it ----------------------------------------------------------------


def connection_sync_status(*, connection: Connection) -> SyncStatus:
    """What the connections page shows of this connection's background sync."""
    now = timezone.now()
    runs = TaskRun.objects.filter(connection_id=connection.pk, kind=TaskRun.Kind.SYNC)
    pending = _waiting(now).filter(connection_id=connection.pk).order_by("created_at").first()
    last = runs.finished().order_by("-finished_at", "-id").first()
    line, running, done, total = "", False, 0, 0
    if pending is not None:
        running = pending.state == TaskRun.State.RUNNING
        done, total = pending.progress_done, pending.progress_total
        # A drive's progress counts the files it reads; a calendar's, its calendars.
        many = "s" if total != 1 else ""
        counts = SyncProgress.from_dict(pending.progress_detail) if running else None
        if counts is not None and is_drive(connection):
            line = f"Syncing: {progress_line(counts)}"
        elif running and total:
            line = f"Syncing: {done} of {total} calendar{many} done…"
        elif running:
            line = "Syncing: asking the server what changed…"
        elif pending.error:
            line = pending.error  # "Will retry: …"
        else:
            line = "Waiting for a worker to start the sync…"
    return SyncStatus(
        pending=pending is not None,
        running=running,
        line=line,
        done=done,
        total=total,
        last_state=last.state if last else "",
        last_detail=last.detail if last else "",
        last_error=last.error if last else "",
        last_finished_at=last.finished_at if last else None,
    )
