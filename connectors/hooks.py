"""What connectors needs from the background-work home, without importing it.

connectors never imports assistant (layering), yet a Google callback or a confirmed event
must start a sync. The composition root registers the enqueue function in
AssistantConfig.ready() (assistant/apps.py:
assistant.background.syncs.connection_sync_enqueue).
"""

from __future__ import annotations

from typing import Any, Protocol


class SyncEnqueue(Protocol):
    def __call__(self, *, connection: Any) -> None:
        """Queue one background sync of `connection` (after the current transaction commits)."""


_enqueue: SyncEnqueue | None = None


def sync_enqueue_register(func: SyncEnqueue) -> None:
    global _enqueue
    _enqueue = func


def sync_enqueue(*, connection: Any) -> None:
    """Start a background sync of `connection`; RuntimeError when no home is registered."""
    if _enqueue is None:
        raise RuntimeError(
            "No background sync is registered: connectors.hooks.sync_enqueue_register() is "
            "called by the assistant app's ready()."
        )
    _enqueue(connection=connection)
