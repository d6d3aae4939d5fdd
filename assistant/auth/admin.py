"""The admin's user page deactivates through user_deactivate, so unticking "active" (or the
list action) also ends the user's sessions.

Teams' accounts (assistant.teams.models.Team.account) are not people: they are not listed.
A user who owns a team cannot be deleted until ownership moves on or the team is deleted:
the delete page lists those teams as protected, instead of failing at commit on the
one-owner trigger."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from assistant.auth.services import user_deactivate, user_sessions_end
from assistant.teams.models import Membership, Role

User = get_user_model()


class DeactivatingUserAdmin(UserAdmin):
    actions = ["deactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(team_account__isnull=True)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        owned = Membership.objects.filter(
            user__in=[obj.pk for obj in objs], role=Role.OWNER
        ).select_related("team", "user")
        protected = [
            *protected,
            *(
                f"Team “{membership.team.name}”, owned by {membership.user.get_username()}: "
                "transfer its ownership (or delete the team) first"
                for membership in owned
            ),
        ]
        return deleted, counts, perms_needed, protected

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_sessions_end(user=obj)

    @admin.action(description="Deactivate selected users and end their sessions")
    def deactivate(self, request, queryset):
        ended = sum(user_deactivate(user=user) for user in queryset.exclude(pk=request.user.pk))
        self.message_user(request, f"Deactivated; {ended} session(s) ended.", messages.SUCCESS)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, DeactivatingUserAdmin)
