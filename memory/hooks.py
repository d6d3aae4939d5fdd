"""What the memory page needs from the background-work home, without importing it.

memory never imports assistant (layering), yet its page shows background runs and hands
big imports to a background run. The composition root fills these slots in
AssistantConfig.ready() (assistant/apps.py); until then memory works
without them: no background section, and big imports refused with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class ImportEnqueue(Protocol):
    def __call__(
        self, *, owner: Any, data: dict[str, Any], item_count: int, label: str, requested_by: Any
    ) -> Any:
        """Store a checked export file and queue its import; returns the run.
        `requested_by` (who imports: the admin, for a team's memory) is named as the
        import's changed_by."""


class StatusContext(Protocol):
    def __call__(self, *, user: Any) -> dict[str, Any]:
        """The template context of the page's background-work section for `user` (the
        space's owner: a team's account, on its memory page)."""


class BackgroundUnavailable(RuntimeError):
    """No background-work home is registered (memory used without the assistant)."""


@dataclass
class BackgroundHooks:
    import_enqueue: ImportEnqueue | None = None
    status_context: StatusContext | None = None


hooks = BackgroundHooks()


def background_hooks_register(
    *, import_enqueue: ImportEnqueue, status_context: StatusContext
) -> None:
    hooks.import_enqueue = import_enqueue
    hooks.status_context = status_context


def background_status(*, user: Any) -> dict[str, Any]:
    """The background section's context (empty, so the section stays hidden, without a home)."""
    return hooks.status_context(user=user) if hooks.status_context else {}


def background_import_enqueue(
    *, owner: Any, data: dict[str, Any], item_count: int, label: str, requested_by: Any
) -> Any:
    if hooks.import_enqueue is None:
        raise BackgroundUnavailable("Big imports need the background worker, which is not set up.")
    return hooks.import_enqueue(
        owner=owner, data=data, item_count=item_count, label=label, requested_by=requested_by
    )
