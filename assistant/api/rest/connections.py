"""Connections over the API: list with status and counts, one's status, "sync now".

The connections page's selectors and its "Sync now" (connectors.hooks.sync_enqueue, the
background home's one-sync-per-connection queue). Reading needs memory:read, syncing
memory:write and, in a team's space, the admin role (as on the team's page)."""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from assistant.api.rest.access import ApiProblem, SpaceName, read_space, write_space
from assistant.api.rest.schemas import ConnectionOut, Error, SyncStarted
from connectors.hooks import sync_enqueue, sync_status
from connectors.models import Connection
from connectors.selectors import connections_for_user

router = Router()

ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 429: Error}


def _out(connection: Connection) -> dict:
    return {
        "id": connection.pk,
        "kind": connection.kind,
        "label": connection.label,
        "status": connection.status,
        "paused_reason": connection.paused_reason,
        "last_sync_at": connection.last_sync_at,
        "last_sync_summary": connection.last_sync_summary,
        "last_error": connection.last_error,
        "last_error_hint": connection.last_error_hint,
        "last_error_at": connection.last_error_at,
        "created_at": connection.created_at,
        "counts": {
            name: getattr(connection, f"{name}_count", 0)
            for name in ("source", "included", "event", "document", "chunk")
        },
        "sync": asdict(sync_status(connection=connection)),
    }


def _connection(owner, connection_id: int) -> Connection:
    """The owner's connection with its counts (404 for anyone else's)."""
    return get_object_or_404(connections_for_user(user=owner), pk=connection_id)


@router.get(
    "",
    response={200: list[ConnectionOut], **ERRORS},
    url_name="connections",
    summary="List connections",
)
def connections_list(request: HttpRequest, space: SpaceName = "personal"):
    """The space's connections (calendars and file drives), oldest first."""
    where = read_space(request, space)
    return [_out(connection) for connection in connections_for_user(user=where.owner)]


@router.get(
    "/{int:connection_id}",
    response={200: ConnectionOut, **ERRORS},
    url_name="connection",
    summary="A connection's status",
)
def connection_get(request: HttpRequest, connection_id: int, space: SpaceName = "personal"):
    """One connection: its last sync, its error, what it holds, and a sync under way."""
    where = read_space(request, space)
    return _out(_connection(where.owner, connection_id))


@router.post(
    "/{int:connection_id}/sync",
    response={202: SyncStarted, **ERRORS},
    url_name="connection-sync",
    summary="Sync a connection now",
)
def connection_sync(request: HttpRequest, connection_id: int, space: SpaceName = "personal"):
    """Sync now, in the background (202). 409 when a sync is already waiting or running,
    or the connection is paused (fix it, then resume it on its page)."""
    where = write_space(request, space)
    connection = _connection(where.owner, connection_id)
    if connection.is_paused:
        raise ApiProblem(
            409, "paused", "This connection is paused: fix the problem, then resume it."
        )
    if sync_status(connection=connection).pending:
        raise ApiProblem(409, "already_syncing", "A sync of this connection is already under way.")
    sync_enqueue(connection=connection)
    return Status(202, {"status": "queued", "connection": _out(connection)})
