"""Big memory imports as background runs: the file is stored as a PendingImport with a
TaskRun, then a Celery task imports it (memory.services.imports.memory_import) and
reports its progress on the run, which the memory page polls.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from celery import current_app
from django.db import transaction

from assistant.background.models import PendingImport, TaskRun
from assistant.background.runs import RunOutcome, task_run_create, task_run_progress
from memory.services import MemoryImportError, memory_import

# The Celery task that runs a PendingImport (assistant/background/tasks.py); sent by
# name, so this module need not import the tasks.
IMPORT_TASK = "assistant.tasks.memory_import"


class MemoryImportFailed(RuntimeError):
    """A background import stopped; nothing of it was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _plural(count: int) -> str:
    return f"{count:,} {'memory' if count == 1 else 'memories'}"


def memory_import_enqueue(
    *, owner, data: dict[str, Any], item_count: int, label: str, requested_by=None
) -> TaskRun:
    """Store a checked export file and queue its import (after the transaction commits).

    `requested_by` is who imports (the admin, for a team's memory owned by its account);
    None means the owner."""
    task_id = str(uuid.uuid4())
    with transaction.atomic():
        run = task_run_create(
            owner=owner,
            kind=TaskRun.Kind.IMPORT,
            target_label=f"import of {_plural(item_count)} from {label}",
            celery_task_id=task_id,
        )
        task_run_progress(run=run, done=0, total=item_count)
        pending = PendingImport.objects.create(
            owner=owner,
            run=run,
            requested_by=requested_by,
            payload=json.dumps(data),
            item_count=item_count,
        )
        transaction.on_commit(
            lambda: current_app.send_task(IMPORT_TASK, args=[pending.pk], task_id=task_id)
        )
    run.refresh_from_db()
    return run


def memory_import_pending_run(*, pending_id: int) -> RunOutcome:
    """The background import of a PendingImport: all or nothing, the file deleted after.

    Gone (already imported, or its owner deleted): skipped. Any error fails the run
    with MemoryImportFailed, whose message says that nothing was imported and why."""
    pending = (
        PendingImport.objects.select_related("owner", "requested_by", "run")
        .filter(pk=pending_id)
        .first()
    )
    if pending is None:
        return RunOutcome.skipped("Nothing to import: this file was already imported.")
    run = pending.run

    def progress(done: int, total: int) -> None:
        task_run_progress(run=run, done=done, total=total)

    def finish() -> None:  # in the import's transaction: imported once, even if redelivered
        PendingImport.objects.filter(pk=pending.pk).delete()

    try:
        result = memory_import(
            owner=pending.owner,
            data=json.loads(pending.payload),
            # The admin who imported into a team's memory; the owner for their own (or
            # when the requester's account is gone since).
            changed_by=pending.requested_by or pending.owner,
            progress=progress,
            finish=finish,
        )
    except Exception as error:
        PendingImport.objects.filter(pk=pending.pk).delete()
        why = error if isinstance(error, MemoryImportError) else f"{type(error).__name__}: {error}"
        raise MemoryImportFailed(f"Nothing was imported. The problem: {why}") from error
    return RunOutcome(
        detail=result.summary,
        memories_added=result.added,
        memories_skipped=result.skipped,
    )
