"""Conversations and messages for operators: read-only, and never an incognito chat.

Incognito conversations and their messages are left out of every admin queryset (lists,
search, change pages, the inline), so the site admin cannot open them, even by URL.
deploy/README.md says what the site admin can and cannot see.
"""

from django.contrib import admin

from assistant.account_models import AccountSettings
from assistant.auth import admin as auth_admin  # noqa: F401 (User admin: deactivating ends sessions)
from assistant.background import admin as background_admin  # noqa: F401 (registers TaskRun)
from assistant.models import Conversation, Message
from assistant.teams import admin as teams_admin  # noqa: F401 (teams, audit log)
from assistant.usage.models import UsageRecord


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MessageInline(ReadOnly, admin.TabularInline):
    model = Message
    extra = 0
    fields = ("role", "status", "content", "model", "completion_tokens", "ttft_ms", "created_at")
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "title", "owner", "profile", "updated_at")
    list_filter = ("profile",)
    search_fields = ("title", "owner__username")
    raw_id_fields = ("owner",)
    inlines = [MessageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(incognito=False)


@admin.register(Message)
class MessageAdmin(ReadOnly, admin.ModelAdmin):
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

    def get_queryset(self, request):
        return super().get_queryset(request).filter(conversation__incognito=False)


@admin.register(AccountSettings)
class AccountSettingsAdmin(admin.ModelAdmin):
    """Per-user limits (empty: the site's LIMIT_USER_* settings). The rest of a person's
    settings is theirs to change on their account page."""

    list_display = ("user", "limit_requests_per_minute", "limit_tokens_per_day")
    search_fields = ("user__username",)
    fields = ("user", "limit_requests_per_minute", "limit_tokens_per_day")
    raw_id_fields = ("user",)  # added for someone who never saved their settings

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "created_at", "user", "team", "kind", "model", "prompt_tokens", "completion_tokens",
    )  # fmt: skip
    list_filter = ("kind", "model")
    search_fields = ("user__username", "model")
    raw_id_fields = ("user", "team", "message", "api_token")
