"""The audit log hears memory and connectors (which cannot import it) through their signals.

Both are sent inside the transaction of the change they announce, and audit_record writes
in that same transaction: a rolled-back change leaves no record, and a failed record rolls
the change back. A team's memories and connections (owned by its account, Team.account)
are recorded with the team, so its admins see them on the team's audit page. Personal ones
are recorded with no team, so a team's audit page (filtered by team id) never shows them;
their owner sees them under "Your activity". No text of a memory and no secret of a
connection is ever copied here.
"""

from __future__ import annotations

from typing import Any

from assistant.teams.audit import audit_record
from assistant.teams.models import Team

_KEEP_IDS = 50  # a bulk action records how many, and the first ids


def _team_of(owner) -> Team | None:
    """The team whose account `owner` is, or None for a person's own things."""
    return Team.objects.filter(account_id=owner.pk).first() if owner is not None else None


def memory_changed_record(
    *,
    action: str,
    owner,
    changed_by=None,
    actor: str = "",
    item_ids: list[int],
    detail: dict[str, Any],
    team=None,
    **_: Any,
) -> None:
    single = len(item_ids) == 1
    extra: dict[str, Any] = {"by": actor} if actor else {}
    if not single and item_ids:
        extra["items"] = item_ids[:_KEEP_IDS]
    team = team if team is not None else _team_of(owner)
    if team is None and (changed_by is None or changed_by.pk != owner.pk):
        extra["owner"] = owner.get_username()  # the system (extraction) or someone else
    audit_record(
        action=f"memory.{action}",
        actor=changed_by,
        team=team,
        owner=None if team is not None else owner,
        target_type="memoryitem" if item_ids else "memory",
        target_id=item_ids[0] if single else "",
        detail={**detail, **extra},
    )


def connection_changed_record(
    *,
    action: str,
    owner,
    actor=None,
    connection_id: int,
    kind: str,
    label: str,
    detail: dict[str, Any],
    team=None,
    **_: Any,
) -> None:
    if team is None:  # a team's connection is owned by its account: the team's event
        team = Team.objects.filter(account_id=owner.pk).first()
    audit_record(
        action=f"connection.{action}",
        actor=actor,
        team=team,
        owner=None if team is not None else owner,
        target_type="connection",
        target_id=connection_id,
        detail={"kind": kind, "label": label, **detail},
    )


def connect() -> None:
    from connectors.events import connection_changed
    from memory.events import memory_changed

    memory_changed.connect(memory_changed_record, dispatch_uid="audit-memory-changed")
    connection_changed.connect(connection_changed_record, dispatch_uid="audit-connection-changed")
