"""Reads over synced calendar events, always scoped to one owner first."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from connectors.models import Event


def event_get_for_user(*, user, pk: int) -> Event:
    """The owner's event, or 404 (an outsider learns nothing, not even that it exists)."""
    return get_object_or_404(Event.objects.owned_by(user).select_related("source"), pk=pk)
