from django.contrib import admin

from assistant.auth import admin as auth_admin  # noqa: F401 (User admin: deactivating ends sessions)
from assistant.background import admin as background_admin  # noqa: F401 (registers TaskRun)
from assistant.models import Conversation, Message
from assistant.teams import admin as teams_admin  # noqa: F401 (teams, audit log)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("role", "status", "content", "model", "completion_tokens", "ttft_ms", "created_at")
    readonly_fields = fields
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "owner", "profile", "incognito", "updated_at")
    list_filter = ("profile", "incognito")
    search_fields = ("title", "owner__username")
    raw_id_fields = ("owner",)
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "conversation",
        "role",
        "status",
        "model",
        "ttft_ms",
        "total_ms",
        "created_at",
    )
    list_filter = ("role", "status", "model")
    search_fields = ("content",)
    raw_id_fields = ("conversation",)
