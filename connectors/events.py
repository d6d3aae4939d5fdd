"""Notifications connectors send to the layers above it (which it must not import).

`connection_changed` says that a connection was connected, reconnected or disconnected
(assistant records it in the audit log). It is sent inside the transaction of the change,
after the change is written, so a receiver's rows commit or roll back with it. It carries
the connection's id, kind and label, never its configuration or secrets. Sync outcomes are
recorded by assistant's background home, which runs the syncs.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

# kwargs: action (one of ACTIONS), owner (User), actor (User | None), connection_id (int),
# kind (str), label (str), detail (dict of counts).
connection_changed = Signal()

CONNECTED = "connected"
RECONNECTED = "reconnected"
DISCONNECTED = "disconnected"
ACTIONS = (CONNECTED, RECONNECTED, DISCONNECTED)


def connection_changed_send(
    *, action: str, connection: Any, actor: Any = None, detail: dict[str, Any] | None = None
) -> None:
    """Send `connection_changed`; `actor` is the owner unless said (the owner acts on a
    personal connection)."""
    connection_changed.send(
        sender=connection_changed_send,
        action=action,
        owner=connection.owner,
        actor=actor if actor is not None else connection.owner,
        connection_id=connection.pk,
        kind=connection.kind,
        label=connection.label,
        detail=detail or {},
    )
