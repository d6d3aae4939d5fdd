"""A big memory import run by a real Celery worker: progress and the result land on the
TaskRun the memory page polls, the stored file is deleted, and a bad one fails clearly."""

from __future__ import annotations

import json
import uuid

import pytest

from assistant.background.models import PendingImport, TaskRun
from assistant.background.runs import task_run_create
from assistant.background.tasks import memory_import as memory_import_task
from memory.models import MemoryItem
from memory.services import memory_create, memory_export
from tests.pipeline.test_worker import broker, redis_server, send, workers  # noqa: F401
from tests.pipeline.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def _pending(owner, data: dict) -> PendingImport:
    task_id = str(uuid.uuid4())
    run = task_run_create(owner=owner, kind="import", target_label="import of a file",
                          celery_task_id=task_id)  # fmt: skip
    return PendingImport.objects.create(
        owner=owner, run=run, payload=json.dumps(data), item_count=len(data.get("items", []))
    )


def _finished(run_pk: int, worker):
    return wait_for(
        lambda: TaskRun.objects.filter(pk=run_pk).exclude(state__in=("queued", "running")).first(),
        timeout=90, what="the import run to finish", log=worker.log,
    )  # fmt: skip


def test_a_real_worker_imports_a_big_file_all_at_once(owner, outsider, broker, workers):  # noqa: F811
    for n in range(30):
        memory_create(owner=outsider, text=f"Fact number {n}.", kind="fact", source="stated",
                      actor="user")  # fmt: skip
    pending = _pending(owner, memory_export(owner=outsider))
    worker = workers(MEMORY_EMBED_BATCH_SIZE="2")  # progress moves in steps of 8

    send(memory_import_task, broker, pending.pk, task_id=pending.run.celery_task_id)

    run = _finished(pending.run_id, worker)
    assert (run.state, run.memories_added, run.attempts) == ("succeeded", 30, 1)
    assert (run.progress_done, run.progress_total) == (30, 30)
    assert run.detail == "Imported 30 memories."
    assert MemoryItem.objects.owned_by(owner).count() == 30
    assert not PendingImport.objects.exists()


def test_a_real_worker_fails_a_bad_file_clearly_and_writes_nothing(owner, broker, workers):  # noqa: F811
    items = [{"text": "fine"}, {"text": "", "kind": "fact"}]
    pending = _pending(owner, {"format": "recall-assistant/memory", "version": 1, "items": items})
    worker = workers()

    send(memory_import_task, broker, pending.pk, task_id=pending.run.celery_task_id)

    run = _finished(pending.run_id, worker)
    assert run.state == "failed"
    assert run.error == ("Nothing was imported. The problem: items[1].text: must not be empty")
    assert not MemoryItem.objects.owned_by(owner).exists()
    assert not PendingImport.objects.exists()
