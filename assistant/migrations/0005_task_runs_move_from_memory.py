"""Task runs (and pending imports, a task run's payload) move from memory to the
assistant app, where background work lives. State only: the tables and their rows stay;
0006 renames the tables once memory 0007 has let go of the models."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0004_message_finish_reason_heartbeat"),
        ("memory", "0006_import_pending_progress_provenance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="TaskRun",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("summarise", "Summarise and extract"),
                                    ("backfill", "Backfill"),
                                    ("import", "Import"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("queued", "Waiting"),
                                    ("running", "Running"),
                                    ("succeeded", "Done"),
                                    ("failed", "Failed"),
                                    ("skipped", "Skipped"),
                                ],
                                default="queued",
                                max_length=16,
                            ),
                        ),
                        (
                            "target_label",
                            models.CharField(
                                help_text='e.g. "conversation 12: Title"', max_length=255
                            ),
                        ),
                        (
                            "celery_task_id",
                            models.CharField(blank=True, max_length=64, null=True, unique=True),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "error",
                            models.TextField(
                                blank=True,
                                help_text="Why it failed, or what went wrong in a run that still finished.",
                            ),
                        ),
                        (
                            "detail",
                            models.TextField(blank=True, help_text="What it did, in a sentence."),
                        ),
                        ("messages_summarised", models.PositiveIntegerField(default=0)),
                        ("memories_added", models.PositiveIntegerField(default=0)),
                        ("memories_superseded", models.PositiveIntegerField(default=0)),
                        ("memories_skipped", models.PositiveIntegerField(default=0)),
                        ("parse_failures", models.PositiveIntegerField(default=0)),
                        ("prompt_tokens", models.PositiveIntegerField(default=0)),
                        ("completion_tokens", models.PositiveIntegerField(default=0)),
                        ("progress_done", models.PositiveIntegerField(default=0)),
                        ("progress_total", models.PositiveIntegerField(default=0)),
                        (
                            "conversation",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="task_runs",
                                to="assistant.conversation",
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="task_runs",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at", "-id"],
                        "db_table": "memory_taskrun",
                    },
                ),
                migrations.CreateModel(
                    name="PendingImport",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "payload",
                            models.TextField(
                                help_text="The export file as JSON (already validated)."
                            ),
                        ),
                        ("item_count", models.PositiveIntegerField()),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="pending_imports",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "run",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="pending_import",
                                to="assistant.taskrun",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "memory_pendingimport",
                    },
                ),
                migrations.AddIndex(
                    model_name="taskrun",
                    index=models.Index(fields=["owner", "state"], name="taskrun_owner_state"),
                ),
                migrations.AddIndex(
                    model_name="taskrun",
                    index=models.Index(
                        fields=["owner", "-created_at"], name="taskrun_owner_recent"
                    ),
                ),
                migrations.AddIndex(
                    model_name="taskrun",
                    index=models.Index(
                        fields=["conversation", "state"], name="taskrun_conversation_state"
                    ),
                ),
            ],
        ),
    ]
