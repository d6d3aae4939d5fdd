"""The moved task-run tables take the assistant app's names (rows, ids, indexes and
foreign keys kept), and their content types (permissions, admin history) follow them."""

from django.db import migrations

MOVED = ("taskrun", "pendingimport")


def _move_content_types(apps, *, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def forwards(apps, schema_editor) -> None:
    _move_content_types(apps, source="memory", target="assistant")


def backwards(apps, schema_editor) -> None:
    _move_content_types(apps, source="assistant", target="memory")


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0005_task_runs_move_from_memory"),
        ("memory", "0007_task_runs_moved_to_assistant"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelTable(name="taskrun", table=None),
        migrations.AlterModelTable(name="pendingimport", table=None),
        migrations.RunPython(forwards, backwards),
    ]
