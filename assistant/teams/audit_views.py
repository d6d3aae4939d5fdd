"""The team's audit log for its admins: filter by action, person and dates; CSV export."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from assistant.teams.audit import (
    AuditFilter,
    audit_actors_for_team,
    audit_csv_rows,
    audit_events_for_team,
)
from assistant.teams.audit_models import AuditAction
from assistant.teams.models import Role
from assistant.teams.selectors import team_get_for_user

PAGE_SIZE = 100


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None  # a malformed date filters nothing, and the form shows it empty


def filters_from(request: HttpRequest) -> AuditFilter:
    """The page's filters from the query string; unknown values are ignored, not errors."""
    action = request.GET.get("action", "")
    actor = request.GET.get("actor", "")
    return AuditFilter(
        action=action if action in AuditAction.values else "",
        actor_id=int(actor) if actor.isdigit() else None,
        since=_date(request.GET.get("since", "")),
        until=_date(request.GET.get("until", "")),
    )


@login_required
@require_GET
def audit(request: HttpRequest, pk: int) -> HttpResponse:
    team, _ = team_get_for_user(request.user, pk, role=Role.ADMIN)
    filters = filters_from(request)
    events = audit_events_for_team(team_id=team.pk, filters=filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "team": team,
        "page": page,
        "filters": filters,
        "actions": AuditAction.choices,
        "actors": audit_actors_for_team(team_id=team.pk),
        "query": query.urlencode(),
    }
    return render(request, "assistant/teams/audit.html", context)


@login_required
@require_GET
def audit_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    team, _ = team_get_for_user(request.user, pk, role=Role.ADMIN)
    events = audit_events_for_team(team_id=team.pk, filters=filters_from(request))
    response = StreamingHttpResponse(
        audit_csv_rows(events.iterator(chunk_size=500)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="team-{team.pk}-audit-{stamp}.csv"'
    return response
