"""Per-user memory switches (pause, auto-accept of extracted memories)."""

from __future__ import annotations

from memory.models import MemorySettings


def memory_settings_get(*, owner) -> MemorySettings:
    settings, _ = MemorySettings.objects.get_or_create(owner=owner)
    return settings


def memory_settings_update(
    *, owner, paused: bool | None = None, auto_accept_extracted: bool | None = None
) -> MemorySettings:
    settings = memory_settings_get(owner=owner)
    if paused is not None:
        settings.paused = paused
    if auto_accept_extracted is not None:
        settings.auto_accept_extracted = auto_accept_extracted
    settings.save(update_fields=["paused", "auto_accept_extracted", "updated_at"])
    return settings


def memory_is_active(*, owner) -> bool:
    """Memory may be read and written for this user (not paused)."""
    return not MemorySettings.objects.filter(owner=owner, paused=True).exists()
