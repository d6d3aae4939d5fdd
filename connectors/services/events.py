"""Writing an event the user confirmed to one of their calendars.

The kind writes it on the server; the event shows in the app after the next sync (which
the caller starts through connectors.hooks), so the synced truth stays the server's.
"""

from __future__ import annotations

from connectors.base import EventDraft, PermanentError
from connectors.models import Connection, Source
from connectors.registry import kinds
from connectors.services.sync import connection_session, remote_of, session_save


def event_create(*, source: Source, draft: EventDraft) -> str:
    """Write `draft` to `source`; returns the event's href/id on the server.

    Raises ConnectorError (with a message for the user) when the calendar cannot take it:
    a read-only kind (ICS feeds), a read-only calendar, a paused connection, or the
    server's refusal."""
    connection = source.connection
    kind = kinds().get(connection.kind)
    if kind is None:
        raise PermanentError(f"This server no longer offers {connection.kind!r} connections.")
    if not kind.writable:
        raise PermanentError(
            f"{kind.name} calendars are read-only: events cannot be added to "
            f"“{source.name}”. Pick a calendar of a CalDAV or Google connection."
        )
    if not source.writable:
        raise PermanentError(f"The calendar “{source.name}” is read-only on its server.")
    if connection.status != Connection.Status.ACTIVE:
        raise PermanentError(
            f"The connection “{connection.label}” is paused: {connection.paused_reason}",
            hint="Fix it on the connections page, then confirm again.",
        )
    session = connection_session(connection)
    try:
        return kind.create_event(session, remote_of(source), draft)
    finally:
        session_save(connection, session)  # a refreshed token is kept either way
