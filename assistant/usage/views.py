"""The usage pages (thin views): a person's own usage, and a team's for its admins."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assistant.teams.models import Role
from assistant.teams.selectors import team_get_for_user
from assistant.usage.chart import usage_chart
from assistant.usage.models import UsageRecord
from assistant.usage.selectors import (
    DAYS,
    usage_by_member,
    usage_report,
    usage_today_for_team,
    usage_today_for_user,
)


def _report_context(records) -> dict:
    report = usage_report(records=records)
    chart = usage_chart(days=report.days, models=[m.model for m in report.models])
    return {"report": report, "chart": chart, "window_days": DAYS}


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """Everything the signed-in person's model calls used: chats (personal and in teams),
    API calls and the background work on their conversations."""
    context = _report_context(UsageRecord.objects.owned_by(request.user))
    context["today"] = usage_today_for_user(user=request.user)
    return render(request, "assistant/usage.html", context)


@login_required
@require_GET
def team(request: HttpRequest, team_id: int) -> HttpResponse:
    """A team's usage (its chats and team-scoped tokens): admins and the owner only;
    members 403, anyone else 404."""
    found, _membership = team_get_for_user(request.user, team_id, role=Role.ADMIN)
    records = UsageRecord.objects.of_team(found)
    context = _report_context(records)
    context |= {
        "team": found,
        "members": usage_by_member(records=records),
        "today": usage_today_for_team(team=found),
    }
    return render(request, "assistant/usage_team.html", context)
