"""{% team_switcher %}: the active context ("Personal" or a team) and a menu to switch,
for the chat header. Reads the active team through active_context_for (checked against
the memberships on every request)."""

from __future__ import annotations

from django import template

from assistant.teams.selectors import active_context_for, teams_for_user

register = template.Library()


@register.inclusion_tag("assistant/teams/_switcher.html", takes_context=True)
def team_switcher(context) -> dict:
    request = context["request"]
    return {
        "active": active_context_for(request),
        "memberships": teams_for_user(user=request.user),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
