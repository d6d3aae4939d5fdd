"""Disconnecting: tell the server (best effort: revoke a token), then remove the connection
and everything synced from it in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from connectors.documents.models import Document
from connectors.models import CalendarResource, Connection, Event, Source
from connectors.registry import kinds
from connectors.selectors import is_drive, plural
from connectors.services.connections import connection_delete
from connectors.services.sync import connection_session

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Disconnected:
    label: str
    sources: int
    resources: int
    events: int
    revoke_problem: str = ""  # the server could not be told (the rows went anyway)
    drive: bool = False
    documents: int = 0  # files (indexed, skipped or waiting), their passages with them

    def summary(self) -> str:
        if self.drive:
            return (
                f"Disconnected {self.label}: removed {plural(self.sources, 'folder')} and "
                f"{plural(self.documents, 'file')} with their passages."
            )
        return (
            f"Disconnected {self.label}: removed {plural(self.sources, 'calendar')} and "
            f"{plural(self.events, 'event')}."
        )


def connection_disconnect(*, connection: Connection, actor=None) -> Disconnected:
    """Revoke what can be revoked, then delete the connection with all it synced."""
    problem = ""
    kind = kinds().get(connection.kind)
    if kind is not None:
        try:
            kind.disconnect(connection_session(connection))
        except Exception as error:  # never keep the user's rows because a server said no
            problem = str(error) or type(error).__name__
            logger.info("Revoking connection %s failed: %s", connection.pk, problem)
    counts = connection_delete(connection=connection, actor=actor)
    return Disconnected(
        label=connection.label,
        sources=counts.get(Source._meta.label, 0),
        resources=counts.get(CalendarResource._meta.label, 0),
        events=counts.get(Event._meta.label, 0),
        revoke_problem=problem,
        drive=is_drive(connection),
        documents=counts.get(Document._meta.label, 0),
    )
