"""{% passage_team conversation as team %}: the team a passage of this chat may be proposed
to (assistant/teams/proposals.py passage_team_for), or None. Without a request (the
streamed answer's final frame, drawn for the conversation's owner) it asks for the owner."""

from __future__ import annotations

from django import template

from assistant.teams.proposals import passage_team_for

register = template.Library()


@register.simple_tag(takes_context=True)
def passage_team(context, conversation):
    if conversation is None:
        return None
    return passage_team_for(context.get("request"), conversation)
