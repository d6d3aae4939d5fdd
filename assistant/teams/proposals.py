"""Which team a member may propose to (reads for assistant/teams/proposal_views.py and
the chat's "Propose to team" form). Checked against the memberships now, so a member
removed a moment ago proposes nothing."""

from __future__ import annotations

from django.http import HttpRequest

from assistant.models import Conversation
from assistant.teams.models import Membership, Team
from assistant.teams.selectors import active_context_for_user, active_team_for


def passage_team_for(request: HttpRequest | None, conversation: Conversation) -> Team | None:
    """The team a passage of this conversation goes to: the team the conversation was
    started in while its owner is still a member of it, else the owner's active team.
    None for an incognito chat (never shared) or someone in no team.

    With a request (whose user the caller checked owns the conversation) the answer is
    cached on it; without one (the streamed answer's final frame, rendered for the
    conversation's owner only) the owner's memberships are read."""
    user = request.user if request is not None else conversation.owner
    if conversation.incognito or not user.is_authenticated:
        return None
    cache: dict[int, Team | None] = {}
    if request is not None:
        cache = request.__dict__.setdefault("_passage_teams", {})
    if conversation.pk not in cache:
        team = None
        if conversation.team_id is not None:
            membership = (
                Membership.objects.select_related("team")
                .filter(team_id=conversation.team_id, user=user)
                .first()
            )
            team = membership.team if membership else None
        if team is None:
            team = active_team_for(request) if request else active_context_for_user(user).team
        cache[conversation.pk] = team
    return cache[conversation.pk]
