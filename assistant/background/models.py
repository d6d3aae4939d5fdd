"""Task runs: one row per run of background work, for any job (summaries and imports
today, connector syncs next). Registered in the assistant app (assistant/models.py imports
this module); written only by assistant/background/ (runs.py, imports.py and the Celery signal
handlers).

The tables were memory's until the background work moved here (migrations
assistant 0005-0006 and memory 0007 kept every row).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TaskRunQuerySet(models.QuerySet):
    def owned_by(self, user) -> TaskRunQuerySet:
        return self.filter(owner=user)

    def pending(self) -> TaskRunQuerySet:
        return self.filter(state__in=TaskRun.PENDING_STATES)

    def finished(self) -> TaskRunQuerySet:
        return self.exclude(state__in=TaskRun.PENDING_STATES)


class TaskRun(models.Model):
    """One run of background work for one user, filled in by Celery signals.

    Created when the work is enqueued (queued), then running, then succeeded, failed or
    skipped (nothing to do, or not allowed: incognito, memory paused).
    """

    class Kind(models.TextChoices):  # each kind of job adds its own
        SUMMARISE = "summarise", "Summarise and extract"
        BACKFILL = "backfill", "Backfill"
        IMPORT = "import", "Import"
        SYNC = "sync", "Sync"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    PENDING_STATES = (State.QUEUED, State.RUNNING)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="task_runs"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    conversation = models.ForeignKey(
        "assistant.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="task_runs",
    )
    connection = models.ForeignKey(
        "connectors.Connection",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="task_runs",
    )
    target_label = models.CharField(max_length=255, help_text='e.g. "conversation 12: Title"')
    celery_task_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(
        blank=True, help_text="Why it failed, or what went wrong in a run that still finished."
    )
    detail = models.TextField(blank=True, help_text="What it did, in a sentence.")
    messages_summarised = models.PositiveIntegerField(default=0)
    memories_added = models.PositiveIntegerField(default=0)
    memories_superseded = models.PositiveIntegerField(default=0)
    memories_skipped = models.PositiveIntegerField(default=0)
    parse_failures = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_detail = models.JSONField(
        default=dict, blank=True, help_text="A sync's counts so far (files read, skipped, ...)."
    )

    objects = TaskRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "state"], name="taskrun_owner_state"),
            models.Index(fields=["owner", "-created_at"], name="taskrun_owner_recent"),
            models.Index(fields=["conversation", "state"], name="taskrun_conversation_state"),
            models.Index(fields=["connection", "state"], name="taskrun_connection_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target_label}: {self.state}"

    @property
    def is_pending(self) -> bool:
        return self.state in self.PENDING_STATES


class PendingImport(models.Model):
    """An uploaded memory export waiting for its background import (too big for a request).

    The validated file lives here, in the database, only until its run ends: the run
    deletes it in the transaction that writes the memories (or when it fails)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_imports"
    )
    run = models.OneToOneField(TaskRun, on_delete=models.CASCADE, related_name="pending_import")
    # Who uploaded it: the owner for a personal import, the admin for a team's (the owner
    # is then the team's account); the import's revisions and audit event name them.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # JSON text, not jsonb: jsonb refuses \u0000 anywhere, and the file is only read back.
    payload = models.TextField(help_text="The export file as JSON (already validated).")
    item_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"pending import of {self.item_count} memories for {self.owner}"
