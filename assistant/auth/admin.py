"""The admin's user page deactivates through user_deactivate, so unticking "active" (or the
list action) also ends the user's sessions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from assistant.auth.services import user_deactivate, user_sessions_end

User = get_user_model()


class DeactivatingUserAdmin(UserAdmin):
    actions = ["deactivate"]

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
