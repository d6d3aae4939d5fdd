"""Task runs and pending imports now belong to the assistant app (assistant 0005 took
them over with their tables). State only: nothing in the database changes here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("memory", "0006_import_pending_progress_provenance"),
        ("assistant", "0005_task_runs_move_from_memory"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(model_name="taskrun", name="conversation"),
                migrations.RemoveField(model_name="taskrun", name="owner"),
                migrations.DeleteModel(name="PendingImport"),
                migrations.DeleteModel(name="TaskRun"),
            ],
        ),
    ]
