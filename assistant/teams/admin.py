"""Django admin for teams (imported by assistant/admin.py). The audit log is read-only
here as everywhere: no add, change or delete."""

from django.contrib import admin

from assistant.teams.audit_models import AuditEvent
from assistant.teams.models import Invitation, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_at", "members_may_invite")
    search_fields = ("name",)
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("id", "team", "role", "email", "created_by", "expires_at", "used_at")
    list_filter = ("role",)
    # The token's hash is no secret, but nothing here can make a new link either.
    readonly_fields = ("token_hash",)
    raw_id_fields = ("team", "created_by", "used_by")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "action", "actor_name", "team_name", "target_type", "target_id", "ip")
    list_filter = ("action",)
    search_fields = ("actor_name", "team_name", "target_id")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
