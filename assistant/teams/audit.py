"""Writing and reading the audit log (assistant/teams/audit_models.py).

audit_record is the one way a row is written; call it inside the transaction of the change
it records, so the change and its record commit together or not at all.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from assistant.teams.audit_models import AuditAction, AuditEvent


def audit_record(
    *,
    action: str,
    actor=None,
    team=None,
    owner=None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event. `target` (a model instance) fills target type and id; names of the
    actor and team are copied so the record reads the same after they are gone. `owner`:
    the user whose personal memory or source it concerns (their "Your activity" shows it)."""
    if target is not None:
        target_type = target_type or target._meta.model_name or ""
        target_id = target.pk
    return AuditEvent.objects.create(
        action=AuditAction(action),
        actor_id=actor.pk if actor is not None else None,
        actor_name=actor.get_username() if actor is not None else "",
        team_id=team.pk if team is not None else None,
        team_name=team.name if team is not None else "",
        owner_id=owner.pk if owner is not None else None,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail or {},
        ip=ip or None,
    )


def client_ip(request) -> str | None:
    """The address the request came from, as Django sees it (REMOTE_ADDR; a proxy's
    forwarded header is not trusted here)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor_id: int | None = None
    since: date | None = None
    until: date | None = None  # inclusive: the whole day


def audit_events_for_team(*, team_id: int, filters: AuditFilter) -> models.QuerySet[AuditEvent]:
    """A team's events, newest first, narrowed by the page's filters (dates in the
    server's time zone)."""
    return _filtered(AuditEvent.objects.for_team(team_id), filters)


def audit_events_for_user(*, user_id: int, filters: AuditFilter) -> models.QuerySet[AuditEvent]:
    """A user's own events ("Your activity"): their personal things, and what they did."""
    return _filtered(AuditEvent.objects.for_user(user_id), filters)


def _filtered(events: models.QuerySet[AuditEvent], filters: AuditFilter):
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    zone = timezone.get_current_timezone()
    if filters.since:
        events = events.filter(at__gte=datetime.combine(filters.since, time.min, tzinfo=zone))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=zone)
        events = events.filter(at__lt=end)
    return events


def audit_actors_for_team(*, team_id: int) -> list[tuple[int, str]]:
    """(actor id, latest name) of everyone who appears in a team's log, for the filter."""
    return _actors(AuditEvent.objects.for_team(team_id))


def audit_actors_for_user(*, user_id: int) -> list[tuple[int, str]]:
    return _actors(AuditEvent.objects.for_user(user_id))


def _actors(events: models.QuerySet[AuditEvent]) -> list[tuple[int, str]]:
    rows = (
        events.filter(actor_id__isnull=False)
        .order_by("actor_id", "-at")
        .distinct("actor_id")
        .values_list("actor_id", "actor_name")
    )
    return sorted(((pk, name) for pk, name in rows if pk is not None), key=lambda r: r[1].lower())


CSV_COLUMNS = ["at", "actor_id", "actor", "team_id", "team", "owner_id", "action"]
CSV_COLUMNS += ["target_type", "target_id", "detail", "ip"]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(value: str) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ is read as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def audit_csv_rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The events as CSV lines (header first), for a streaming response."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for e in events:
        yield writer.writerow(
            [
                e.at.isoformat(),
                e.actor_id if e.actor_id is not None else "",
                _safe(e.actor_name),
                e.team_id if e.team_id is not None else "",
                _safe(e.team_name),
                e.owner_id if e.owner_id is not None else "",
                e.action,
                e.target_type,
                _safe(e.target_id),
                _safe(json.dumps(e.detail, sort_keys=True, ensure_ascii=False)),
                e.ip or "",
            ]
        )
