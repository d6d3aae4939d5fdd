"""Task runs in the admin: read-only, since the Celery signal handlers write them."""

from django.contrib import admin

from assistant.background.models import TaskRun


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "kind",
        "state",
        "target_label",
        "attempts",
        "memories_added",
        "parse_failures",
        "created_at",
        "finished_at",
    )
    list_filter = ("state", "kind")
    search_fields = ("target_label", "celery_task_id", "owner__username", "error")
    raw_id_fields = ("owner", "conversation")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False
