"""What connectors needs from the background-work home, without importing it.

connectors never imports assistant (layering), yet a Google callback, a confirmed event
or the connections page must start a sync, and the page shows how a running sync is
getting on. The composition root registers both functions in AssistantConfig.ready()
(assistant/apps.py, from assistant/background/syncs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class SyncEnqueue(Protocol):
    def __call__(self, *, connection: Any) -> None:
        """Queue one background sync of `connection` (after the current transaction commits).

        While one is already running, the change may have come after it listed: it then
        syncs once more when it ends (one follow-up however many calls came meanwhile)."""


@dataclass(frozen=True)
class SyncStatus:
    """A connection's background sync, as the page shows it."""

    pending: bool = False  # a sync is waiting or running: the page keeps polling
    running: bool = False
    line: str = ""  # "Syncing calendar 2 of 3…", "Waiting for a worker…"
    done: int = 0
    total: int = 0
    last_state: str = ""  # the last finished run: "succeeded", "failed", "skipped"
    last_detail: str = ""
    last_error: str = ""
    last_finished_at: datetime | None = None


class SyncStatusGet(Protocol):
    def __call__(self, *, connection: Any) -> SyncStatus: ...


_enqueue: SyncEnqueue | None = None
_status: SyncStatusGet | None = None


def sync_enqueue_register(func: SyncEnqueue, *, status: SyncStatusGet | None = None) -> None:
    global _enqueue, _status
    _enqueue = func
    if status is not None:
        _status = status


def sync_enqueue(*, connection: Any) -> None:
    """Start a background sync of `connection`; RuntimeError when no home is registered."""
    if _enqueue is None:
        raise RuntimeError(
            "No background sync is registered: connectors.hooks.sync_enqueue_register() is "
            "called by the assistant app's ready()."
        )
    _enqueue(connection=connection)


def sync_status(*, connection: Any) -> SyncStatus:
    """The connection's sync as the page shows it (idle when no home is registered)."""
    return _status(connection=connection) if _status is not None else SyncStatus()
