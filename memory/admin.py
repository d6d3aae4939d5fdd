"""Operators may look at memories; changes go through the services (revisions, vectors).

Editing a memory's text here would skip its re-embedding and its revision, so the
admin is read-only; the actions forget through memory.services like the memory page.
"""

from django.contrib import admin, messages

from memory.models import Actor, MemoryItem, MemoryRevision, SessionSummary
from memory.services import memory_forget, memory_forget_permanently


class MemoryRevisionInline(admin.TabularInline):
    model = MemoryRevision
    extra = 0
    fields = (
        "created_at",
        "actor",
        "changed_by",
        "old_status",
        "new_status",
        "old_text",
        "new_text",
        "reason",
    )
    readonly_fields = fields
    can_delete = False
    ordering = ("created_at", "id")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MemoryItem)
class MemoryItemAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "kind", "status", "source", "pinned", "short_text", "created_at")
    list_filter = ("kind", "status", "source", "pinned", "embedding_model")
    search_fields = ("text", "owner__username", "source_ref")
    raw_id_fields = ("owner", "source_message", "supersedes")
    exclude = ("embedding",)
    inlines = [MemoryRevisionInline]
    actions = ["forget", "forget_permanently"]

    @admin.display(description="text")
    def short_text(self, obj: MemoryItem) -> str:
        return obj.text[:80]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "embedding"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Forget (undoable)")
    def forget(self, request, queryset):
        for item in queryset:
            memory_forget(item=item, actor=Actor.SYSTEM, changed_by=request.user)
        self.message_user(request, f"Forgot {queryset.count()} memories.", messages.SUCCESS)

    @admin.action(description="Forget permanently (erases text and vector)")
    def forget_permanently(self, request, queryset):
        count = 0
        for item in queryset:
            memory_forget_permanently(item=item, actor=Actor.SYSTEM, changed_by=request.user)
            count += 1
        self.message_user(request, f"Erased {count} memories.", messages.SUCCESS)


@admin.register(MemoryRevision)
class MemoryRevisionAdmin(admin.ModelAdmin):
    list_display = ("id", "item", "actor", "changed_by", "old_status", "new_status", "created_at")
    list_filter = ("actor",)
    raw_id_fields = ("item", "changed_by")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# -- session summaries -------------------------------------------------------------------
# Read-only: written by the background run (task runs are in assistant/background/admin.py).


@admin.register(SessionSummary)
class SessionSummaryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "conversation",
        "first_message_id",
        "last_message_id",
        "message_count",
        "prompt_tokens",
        "completion_tokens",
        "created_at",
    )
    raw_id_fields = ("owner", "conversation", "memory")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False
