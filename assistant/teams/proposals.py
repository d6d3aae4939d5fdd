"""Which team a member may propose to (reads for assistant/teams/proposal_views.py and
the chat's "Propose to team" form). Checked against the memberships now, so a member
removed a moment ago proposes nothing."""

from __future__ import annotations

from django.http import HttpRequest

from assistant.models import Conversation
from assistant.teams.models import Membership, Team
from assistant.teams.selectors import active_team_for


def passage_team_for(request: HttpRequest, conversation: Conversation) -> Team | None:
    """The team a passage of this conversation goes to: the team the conversation was
    started in while the user is still a member of it, else the active team. None for
    an incognito chat (never shared) or a user in no team. Cached on the request."""
    if conversation.incognito or not request.user.is_authenticated:
        return None
    cache: dict[int, Team | None] = request.__dict__.setdefault("_passage_teams", {})
    if conversation.pk not in cache:
        team = None
        if conversation.team_id is not None:
            membership = (
                Membership.objects.select_related("team")
                .filter(team_id=conversation.team_id, user=request.user)
                .first()
            )
            team = membership.team if membership else None
        cache[conversation.pk] = team or active_team_for(request)
    return cache[conversation.pk]
