"""Admin views of connections: never the encrypted credentials."""

from django.contrib import admin

from connectors.models import Connection, Event, Source


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("label", "kind", "owner", "status", "last_sync_at")
    list_filter = ("kind", "status")
    search_fields = ("label", "owner__username")
    exclude = ("secrets_encrypted",)
    readonly_fields = ("owner", "kind", "config", "sync_claimed_until", "sync_claimed_by")


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "connection", "included", "writable", "last_synced_at", "gone_at")
    list_filter = ("included",)
    readonly_fields = ("owner", "connection", "state")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "start", "end", "all_day", "source", "owner")
    list_filter = ("all_day",)
    search_fields = ("title", "owner__username")
    readonly_fields = ("owner", "connection", "source")
