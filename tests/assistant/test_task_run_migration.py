"""Task runs moved from memory to the assistant app without losing a row: a database
with runs (and a pending import) from before the move, migrated forward."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from assistant.background.models import PendingImport, TaskRun

BEFORE_THE_MOVE = [
    ("assistant", "0004_message_finish_reason_heartbeat"),
    ("memory", "0006_import_pending_progress_provenance"),
]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db(transaction=True)
def test_task_runs_and_a_pending_import_survive_the_move():
    try:
        old = _migrate(BEFORE_THE_MOVE).loader.project_state(BEFORE_THE_MOVE).apps
        assert {"memory_taskrun", "memory_pendingimport"} <= _tables()
        user = old.get_model("auth", "User").objects.create(username="mover")
        conversation = old.get_model("assistant", "Conversation").objects.create(
            owner=user, title="Kitchen"
        )
        old_run = old.get_model("memory", "TaskRun")
        done = old_run.objects.create(
            owner=user, kind="summarise", state="succeeded", conversation=conversation,
            target_label="conversation 1: Kitchen", celery_task_id="task-done",
            memories_added=3, detail="Summarised messages 1 to 4 (4)",
        )  # fmt: skip
        waiting = old_run.objects.create(
            owner=user, kind="import", state="queued", target_label="import of 500 memories",
            celery_task_id="task-import", progress_total=500,
        )  # fmt: skip
        pending = old.get_model("memory", "PendingImport").objects.create(
            owner=user, run=waiting, payload='{"items": []}', item_count=500
        )

        _migrate(_latest())

        tables = _tables()
        assert {"assistant_taskrun", "assistant_pendingimport"} <= tables
        assert not {"memory_taskrun", "memory_pendingimport"} & tables
        assert TaskRun._meta.app_label == "assistant"
        moved = TaskRun.objects.get(pk=done.pk)
        assert (moved.owner_id, moved.conversation_id) == (user.pk, conversation.pk)
        assert (moved.kind, moved.state, moved.celery_task_id) == (
            "summarise",
            "succeeded",
            "task-done",
        )
        assert (moved.memories_added, moved.detail) == (3, "Summarised messages 1 to 4 (4)")
        moved_import = PendingImport.objects.select_related("run").get(pk=pending.pk)
        assert moved_import.run.pk == waiting.pk
        assert (moved_import.run.progress_total, moved_import.item_count) == (500, 500)
        assert moved_import.payload == '{"items": []}'
        # New rows continue the ids of the old table.
        newer = TaskRun.objects.create(owner_id=user.pk, kind="backfill", target_label="x")
        assert newer.pk > max(done.pk, waiting.pk)
    finally:
        _migrate(_latest())
