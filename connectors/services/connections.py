"""Creating, adjusting and removing connections. Every function takes the owner and
acts only on that owner's rows."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from connectors import events
from connectors.base import Connected
from connectors.crypto import secrets_encrypt
from connectors.documents.models import Document
from connectors.models import CalendarResource, Connection, Event, Source
from connectors.services.sync import sources_refresh


@transaction.atomic
def connection_create(*, owner, kind: str, connected: Connected, actor=None) -> Connection:
    """Store a connection that passed its test, with its sources (all included). `actor`:
    who connected it, when not the owner (a team admin adding the team's connection)."""
    connection = Connection.objects.create(
        owner=owner,
        kind=kind,
        label=connected.label[:200],
        display_url=connected.display_url[:500],
        config=connected.config,
        secrets_encrypted=secrets_encrypt(connected.secrets),
    )
    sources_refresh(connection=connection, remote=connected.sources, include_new=True)
    events.connection_changed_send(action=events.CONNECTED, connection=connection, actor=actor)
    return connection


@transaction.atomic
def connection_reconnect(*, connection: Connection, connected: Connected, actor=None) -> Connection:
    """New credentials for a paused connection (a changed password, renewed consent):
    its sources and events stay, and it is active again."""
    Connection.objects.filter(pk=connection.pk).update(
        config=connected.config,
        secrets_encrypted=secrets_encrypt(connected.secrets),
        display_url=connected.display_url[:500],
        status=Connection.Status.ACTIVE,
        paused_reason="",
        last_error="",
        last_error_hint="",
        last_error_at=None,
    )
    connection.refresh_from_db()
    events.connection_changed_send(action=events.RECONNECTED, connection=connection, actor=actor)
    return connection


@transaction.atomic
def sources_include(*, connection: Connection, included_ids: Iterable[int]) -> int:
    """Include exactly the chosen sources; the others lose what was synced from them at
    once (events, or a folder's files and passages), in this one transaction. Returns how
    many sources are included."""
    chosen = set(included_ids)
    sources = list(Source.objects.select_for_update().filter(connection=connection))
    for source in sources:
        include = source.pk in chosen
        if include == source.included:
            continue
        if not include:
            Event.objects.filter(source=source).delete()
            CalendarResource.objects.filter(source=source).delete()
            Document.objects.filter(source=source).delete()  # its chunks cascade
            source.state, source.expanded_from, source.expanded_until = {}, None, None
        source.included = include
        source.save(update_fields=["included", "state", "expanded_from", "expanded_until"])
    return sum(1 for source in sources if source.pk in chosen)


def connection_resume(*, connection: Connection) -> None:
    """The user fixed what paused it (outside the app): try again."""
    Connection.objects.filter(pk=connection.pk).update(
        status=Connection.Status.ACTIVE, paused_reason=""
    )


@transaction.atomic
def connection_delete(*, connection: Connection, actor=None) -> dict[str, int]:
    """Disconnect: the connection and everything synced from it, in one transaction.
    Returns the deleted row counts by model."""
    _, counts = Connection.objects.filter(pk=connection.pk, owner=connection.owner).delete()
    if counts:
        detail = {label.split(".")[-1].lower(): count for label, count in counts.items()}
        events.connection_changed_send(
            action=events.DISCONNECTED, connection=connection, actor=actor, detail=detail
        )
    return counts
