"""A writable connector kind for tests: a real ConnectorKind subclass that keeps what it is
asked to write (no server), and can be told to fail the way a server would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from connectors.base import ConnectorError, ConnectorKind, EventDraft, RemoteSource, Session
from connectors.registry import kinds


class ScriptedWriteKind(ConnectorKind):
    slug = "scripted_write"
    name = "Scripted calendar"
    writable = True

    written: ClassVar[list[tuple[str, EventDraft]]] = []
    fail_with: ClassVar[ConnectorError | None] = None

    def create_event(self, session: Session, source: RemoteSource, draft: EventDraft) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        href = f"{source.remote_id}event-{len(self.written) + 1}.ics"
        self.written.append((href, draft))
        return href


class ScriptedReadOnlyKind(ConnectorKind):
    slug = "scripted_feed"
    name = "Scripted feed"
    writable = False


@contextmanager
def scripted_kinds() -> Iterator[type[ScriptedWriteKind]]:
    """Offer the scripted kinds in the registry for the duration (and forget what was written)."""
    registry = kinds()  # the cached dict every caller shares
    added = {kind.slug: kind() for kind in (ScriptedWriteKind, ScriptedReadOnlyKind)}
    registry.update(added)
    ScriptedWriteKind.written = []
    ScriptedWriteKind.fail_with = None
    try:
        yield ScriptedWriteKind
    finally:
        for slug in added:
            registry.pop(slug, None)
        ScriptedWriteKind.fail_with = None
